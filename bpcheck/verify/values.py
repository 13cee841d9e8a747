"""The values file: the numbers a person computed, one `quantity = value` a line.

    # my hand calculation of the post's example
    net_h1 = 0.3775
    dE_o2/dout_h1 = -0.017144288   # a comment may follow a value

Names are the project's vocabulary (reference/quantities.py). A value is kept exactly as
written, because its precision is part of it: `0.40` claims two decimals, `0.4` one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from reference.quantities import Layout


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


def parse_values(text: str, layout: Layout, source: str = "<text>") -> dict[str, Written]:
    """{quantity: Written} in file order; ValuesError names the file and line of a bad entry."""
    known = [q.name for q in layout.step_quantities]
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
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else "; names are listed by `bpcheck verify --list`"
            raise ValuesError(f"{where}: unknown quantity {name!r} for one training step{hint}")
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
