"""The values file: the numbers a person computed. A TOML file with an optional `case` and a
`[values]` table keyed by quantity names:

    case = "mazur-2015"              # optional; the post's example by default
    [values]
    "net_h1" = 0.3775
    "dE_o2/dout_h1" = -0.017144288   # a comment may follow a value

or, shorter, one `quantity = value` a line without quotes or table.

Names are the project's vocabulary (reference/quantities.py). A value is a number or a string
("0.755", as case files take them), and is kept exactly as written either way, because its
precision is part of it: `0.40` claims two decimals, `0.4` one.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from bpcheck.reference.quantities import Layout


class ValuesError(ValueError):
    """A values file that cannot be used; the message is one line."""


@dataclass(frozen=True)
class Written:
    """A number as a person wrote it."""

    quantity: str
    text: str
    line: int

    @property
    def value(self) -> Decimal:
        return Decimal(self.text)

    @property
    def unit(self) -> Decimal:
        """One unit of the last written digit: '-0.017144288' -> 1E-9, '0.40' -> 0.01."""
        return Decimal(1).scaleb(self.value.as_tuple().exponent)  # type: ignore[arg-type]


def _toml(text: str, source: str) -> dict[str, Any] | None:
    """The parsed file when it is the TOML form (has a [values] table), numbers as Decimals
    so that the digits a person wrote are kept."""
    if not re.search(r"^\s*\[values\]", text, re.MULTILINE):
        return None
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as err:
        raise ValuesError(f"{source}: not valid TOML: {err}") from None
    unknown = sorted(set(raw) - {"case", "values"})
    if unknown:
        raise ValuesError(f"{source}: {unknown[0]}: expected only `case` and a [values] table")
    if not isinstance(raw.get("case", ""), str) or not isinstance(raw["values"], dict):
        raise ValuesError(f'{source}: expected `case = "NAME"` and a [values] table')
    return raw


def case_of(path: str) -> str | None:
    """The `case` a TOML values file names, if any (None also when it cannot be read: the
    reader reports that)."""
    try:
        raw = _toml(Path(path).read_text(encoding="utf-8"), path)
    except (OSError, UnicodeDecodeError, ValuesError):
        return None
    return raw.get("case") if raw else None


def parse_values(text: str, layout: Layout, source: str = "<text>") -> dict[str, Written]:
    """{quantity: Written} in file order; ValuesError names the file and line of a bad entry."""
    known = [q.name for q in layout.step_quantities]
    raw = _toml(text, source)
    if raw is None:
        return _parse_lines(text, known, source)
    line_of: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        line_of.setdefault(line.split("=", 1)[0].strip().strip("\"'"), n)
    out: dict[str, Written] = {}
    for name, v in raw["values"].items():
        where = f"{source}:{line_of.get(name, 0)}"
        _check_name(name, known, where)
        if isinstance(v, str):  # "0.755": a number as a string, as case files take them, every digit kept
            as_written, v = v, _decimal(v.strip(), f"{where}: {name}")
            if not v.is_finite():
                raise ValuesError(f"{where}: {name}: expected a finite number, got {as_written!r}")
        if isinstance(v, bool) or not isinstance(v, (Decimal, int)):
            raise ValuesError(f"{where}: {name}: expected a decimal number, got {v!r}")
        if not Decimal(v).is_finite():
            raise ValuesError(f"{where}: {name}: expected a finite number, got {v!r}")
        out[name] = Written(name, str(v), line_of.get(name, 0))
    if not out:
        raise ValuesError(f"{source}: no values in the [values] table")
    return out


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity|nan)", re.IGNORECASE | re.ASCII)


def _decimal(text: str, where: str) -> Decimal:
    """A number written as a string: plain decimal notation (ASCII digits, no separators)."""
    if not _NUMBER.fullmatch(text):
        raise ValuesError(f"{where}: expected a decimal number, got {text!r}")
    return Decimal(text)


def _check_name(name: str, known: list[str], where: str) -> None:
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; names are listed by `bpcheck verify --list`"
        raise ValuesError(f"{where}: unknown quantity {name!r} for one training step{hint}")


def _parse_lines(text: str, known: list[str], source: str) -> dict[str, Written]:
    out: dict[str, Written] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}:{n}"
        name, sep, value = (part.strip() for part in line.partition("="))
        if not sep or not name or not value:
            raise ValuesError(f"{where}: expected 'quantity = value', got {raw.strip()!r}")
        value = value.strip("\"'")
        _check_name(name, known, where)
        if name in out:
            raise ValuesError(f"{where}: {name} given twice (first on line {out[name].line})")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValuesError(f"{where}: {name}: expected a decimal number, got {value!r}") from None
        if not number.is_finite():
            raise ValuesError(f"{where}: {name}: expected a finite number, got {value!r}")
        out[name] = Written(name, value, n)
    if not out:
        raise ValuesError(f"{source}: no values (expected lines 'quantity = value')")
    return out


def read_values(path: str, layout: Layout) -> dict[str, Written]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValuesError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValuesError(f"{path}: is a directory, expected a values file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ValuesError(f"{path}: cannot be read: {err}") from None
    return parse_values(text, layout, path)
