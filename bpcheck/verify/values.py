"""The values file: the numbers a person computed. A TOML file with an optional `case` and a
`[values]` table keyed by quantity names:

    case = "mazur-2015"              # optional; the post's example by default
    [values]
    "net_h1" = 0.3775
    "dE_o2/dout_h1" = -0.017144288   # a comment may follow a value

or, shorter, one `quantity = value` a line without quotes or table.

Names are the project's vocabulary (reference/quantities.py). A value is kept exactly as
written, because its precision is part of it: `0.40` claims two decimals, `0.4` one. A value
must be a finite decimal number within float64's range (reference/schema.py, `number`); a
relative `case` path is relative to the values file's folder. The file is read as a case file
is: a regular file of at most schema.MAX_FILE_BYTES.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bpcheck.reference import schema
from bpcheck.reference.quantities import Layout
from bpcheck.reference.schema import Invalid


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
        """One unit of the last written digit: '-0.017144288' -> 1E-9, '0.40' -> 0.01 (built
        exactly: no context's exponent range applies)."""
        return Decimal((0, (1,), int(self.value.as_tuple().exponent)))


def _is_toml(text: str) -> bool:
    """The TOML form has a table header ([values], or a misspelling of it); the line form never
    has a line starting with '['."""
    return re.search(r"^\s*\[", text, re.MULTILINE) is not None


def _toml(text: str, source: str) -> dict[str, Any] | None:
    """The parsed file when it is the TOML form, its top level checked against the schema
    (schema.VALUES), numbers as Decimals so that the digits a person wrote are kept."""
    if not _is_toml(text):
        return None
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as err:
        raise ValuesError(f"{source}: not valid TOML: {err}") from None
    except (ValueError, RecursionError) as err:  # an integer of over 4300 digits, arrays nested too deep
        raise ValuesError(f"{source}: not valid TOML: {str(err) or 'nested too deeply'}") from None
    try:
        checked = schema.check(raw, schema.VALUES[""], "", schema.VALUES)
    except Invalid as err:
        raise ValuesError(f"{source}: {err}") from None
    if checked.get("case") == "":
        raise ValuesError(f"{source}: case: expected a case name or a .toml path, got ''")
    return checked


def _read(path: str) -> str:
    try:
        return schema.read_text(Path(path), "a values file")
    except Invalid as err:
        raise ValuesError(f"{schema.where(path)}: {err.message}") from None


def case_of(path: str) -> str | None:
    """The `case` a TOML values file names, if any: a bundled case's name, or a path to a .toml
    file, a relative one taken relative to the values file's folder (None also when the file
    cannot be read: the reader reports that)."""
    try:
        raw = _toml(_read(path), path)
    except ValuesError:
        return None
    name = raw.get("case") if raw else None
    if name is None or not (name.endswith(".toml") or "/" in name or "\\" in name):
        return name  # a bundled case's name
    case = Path(name)
    return name if case.is_absolute() else str(Path(path).parent / case)


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
        if isinstance(v, dict):
            raise ValuesError(f"{where}: {name}: expected a number or a decimal string, got a table")
        out[name] = Written(name, _number(v, name, where), line_of.get(name, 0))
    if not out:
        raise ValuesError(f"{source}: no values in the [values] table")
    return out


def _number(value: Any, name: str, where: str) -> str:
    """The number as written (a TOML number, or a decimal string); ValuesError naming the line
    and the quantity when it is not a finite decimal number within float64's range."""
    try:
        x = schema.number(value, "float64")
    except Invalid as err:
        raise ValuesError(f"{where}: {name}: {err.message}") from None
    return value if isinstance(value, str) else str(x)


def _check_name(name: str, known: list[str], where: str) -> None:
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; names are listed by `bpcheck verify --list`"
        raise ValuesError(f"{where}: unknown quantity {schema.show(name)} for one training step{hint}")


def _parse_lines(text: str, known: list[str], source: str) -> dict[str, Written]:
    out: dict[str, Written] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}:{n}"
        name, sep, value = (part.strip() for part in line.partition("="))
        if not sep or not name or not value:
            raise ValuesError(f"{where}: expected 'quantity = value', got {schema.show(raw.strip())}")
        value = value.strip("\"'")
        _check_name(name, known, where)
        if name in out:
            raise ValuesError(f"{where}: {name} given twice (first on line {out[name].line})")
        out[name] = Written(name, _number(value, name, where), n)
    if not out:
        raise ValuesError(f"{source}: no values (expected lines 'quantity = value')")
    return out


def read_values(path: str, layout: Layout) -> dict[str, Written]:
    return parse_values(_read(path), layout, schema.where(path))
