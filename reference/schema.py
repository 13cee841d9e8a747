"""The schema of case files and values files: every table's keys as data (`CASE`, `VALUES`),
the checks each kind of value gets, the number rules and the file-size limit, in one place.

`check(raw, table, field)` checks one parsed TOML table against its `Table`: no unknown key
(with a did-you-mean), no two keys of a group that excludes each other, every required key,
every value of its kind (type, choices, range). It returns the table normalised (numbers as
`Decimal`s exactly as written, defaults filled in) or raises `Invalid(field, message)`; the
reader prefixes the file's name, so every error is one line naming the file and the field.
What depends on other fields (shapes from the layer sizes, names of the vocabulary, a config
named by another key) is checked by the readers (reference/case.py, bpcheck/verify/values.py)
after this, with the same `Invalid`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from bpcheck.reference.initializers import INITIALIZERS
from bpcheck.reference.mlp import ACTIVATIONS, BIASES, LOSSES, REDUCTIONS

#: The largest case or values file read (bytes): a larger one, or anything but a regular file
#: (a directory, a FIFO, /dev/zero), is refused before it is read; at most this + 1 bytes are read.
MAX_FILE_BYTES = 16 * 1024 * 1024
#: float32's largest finite value, (2 - 2^-23) * 2^127: every case is also checked in float32,
#: so no number of a case may round to infinity there.
FLOAT32_MAX = float(2**128 - 2**104)
#: The least float64 magnitude each type rounds to infinity (float32: its largest value plus
#: half an ULP); a number whose float64 (what backends are given) reaches it is refused.
OVERFLOW = {"float32": float(2**128 - 2**103), "float64": math.inf}
#: Why a number must fit the type: cases (every case is also checked in float32), values files.
LARGEST = {
    "float32": "at most 3.4028235e38; every case is also checked in float32",
    "float64": "at most 1.7976931e308",
}
#: The place of a number's last written digit is within 10^-PLACES .. 10^PLACES (the exact
#: values are known to 60 digits; an exponent of a billion would only make the comparison slow).
PLACES = 1000
#: A case's name and a configuration's name: 1 to this many printable characters.
NAME_LENGTH = 100

UPDATE_ORDERS = ("simultaneous", "output-first")
MEASURED = ("after-update", "loss-of-last-step")

#: A decimal number as a person writes it: ASCII digits, an optional point and exponent; no
#: underscores, hex, inf or nan.
DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class Invalid(ValueError):
    """One field that is wrong: `field` in the project's vocabulary (`data.targets[1][0]`) and
    a one-line message (`expected ..., got ...`); the reader names the file."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class Key:
    """One key of a table: its kind (see `_KINDS`) and what the kind takes."""

    kind: str
    doc: str = ""
    required: bool = False
    default: Any = None  # filled in when the key is absent (already normalised)
    choices: tuple[str, ...] = ()  # kind "choice" and "choices"
    low: int | None = None  # kind "integer" / "integers": the least allowed
    high: int | None = None  # kind "integer": the most allowed
    min_items: int = 0  # kind "integers" / "choices"
    positive: bool = False  # kind "number": > 0
    table: str = ""  # kind "table" / "tables": the name of the nested table's schema


@dataclass(frozen=True)
class Table:
    """The keys a table may have. `names`: a table of names (`[configs.NAME]`), every key a
    name and every value of that kind; `exclusive`: groups of keys of which at most one may be
    given; `one_of`: groups of which exactly one must be; `min_entries`: for a table of names."""

    keys: Mapping[str, Key] = field(default_factory=dict)
    names: Key | None = None
    exclusive: tuple[tuple[str, ...], ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()
    min_entries: int = 0
    doc: str = ""


def _keys(**keys: Key) -> dict[str, Key]:
    return keys


#: The case file: each table's keys. Shapes (a value per input, output and parameter), the
#: losses' needs of the output layer and of the targets, and names that refer to other keys
#: are checked by the reader (reference/case.py), in the same words.
CASE: dict[str, Table] = {
    "": Table(
        _keys(
            name=Key("name", "1 to 100 printable characters, no control characters", required=True),
            title=Key("text", "one line on what the case is", default=""),
            question=Key("text", "what the case answers (shown by `bpcheck cases`)", default=""),
            source=Key("text", "where the numbers come from"),
            network=Key("table", required=True, table="network"),
            data=Key("table", required=True, table="data"),
            parameters=Key("table", table="parameters"),
            parameters_provenance=Key("table", table="parameters_provenance"),
            initializer=Key("table", table="initializer"),
            training=Key("table", required=True, table="training"),
            configs=Key("table", required=True, table="configs"),
            errata=Key("tables", table="errata", default=()),
            published=Key("tables", table="published", default=()),
        ),
        one_of=(("parameters", "initializer"),),
        doc="the top level",
    ),
    "network": Table(
        _keys(
            layer_sizes=Key("integers", "inputs, hidden layers..., outputs", required=True, low=1, min_items=2),
            activation=Key("choice", "one for every layer after the inputs", choices=ACTIVATIONS),
            activations=Key("choices", "one per layer after the inputs", choices=ACTIVATIONS, min_items=1),
            loss=Key("choice", required=True, choices=LOSSES),
            bias=Key("choice", required=True, choices=BIASES),
        ),
        one_of=(("activation", "activations"),),
    ),
    "data": Table(
        _keys(
            inputs=Key("rows", "one example (a list of numbers) or a batch (a list of lists)", required=True),
            targets=Key("rows", "as many examples as inputs, one number per output", required=True),
            reduction=Key("choice", "how E_total combines the examples", default="sum", choices=REDUCTIONS),
        )
    ),
    "parameters": Table(names=Key("number", "one per weight and bias of the network"), doc="every parameter"),
    "parameters_provenance": Table(names=Key("text"), doc="free text: where each parameter comes from"),
    "initializer": Table(
        _keys(
            name=Key("choice", required=True, choices=INITIALIZERS),
            seed=Key("integer", "NumPy PCG64 seed", required=True, low=0),
            scale=Key("number", "the spread of the draws", default=Decimal(1), positive=True),
            bias=Key("number", "every bias's value", default=Decimal(0)),
        )
    ),
    "training": Table(
        _keys(
            learning_rate=Key("number", "eta", required=True, positive=True),
            default_config=Key("name", "a name under [configs]", required=True),
            steps=Key("integer", "training steps compared (0: none)", default=0, low=0),  # cost: bpcheck/size.py
        )
    ),
    "configs": Table(names=Key("table", table="config"), min_entries=1, doc="[configs.NAME], at least one"),
    "config": Table(
        _keys(
            doc=Key("text", default=""),
            update_order=Key("choice", required=True, choices=UPDATE_ORDERS),
            update_biases=Key("bool", required=True),
        ),
        doc="each [configs.NAME]",
    ),
    "published": Table(
        _keys(
            quantity=Key("text", "a quantity name of the vocabulary (E_total@N for a trajectory)", required=True),
            value=Key("decimal", "the printed string", required=True),
            post_name=Key("text", "the source's notation", default=""),
            section=Key("text", "the source's heading", default=""),
            reproduced_by=Key("table", "the configuration that gives the figure", table="reproduced_by"),
            not_reproduced=Key("text", "what was tried, for a figure no configuration gives"),
            not_correctly_rounded=Key("text", "why the printed last digit is not the exact value's"),
        ),
        exclusive=(("reproduced_by", "not_reproduced"),),
        doc="each [[published]]",
    ),
    "reproduced_by": Table(
        _keys(
            config=Key("name", "a name under [configs]", required=True),
            measured=Key("choice", default="after-update", choices=MEASURED),
        )
    ),
    "errata": Table(
        _keys(
            section=Key("text", default=""),
            printed=Key("text", required=True),
            correct=Key("text", required=True),
            note=Key("text", default=""),
        ),
        doc="each [[errata]]",
    ),
}

#: The values file's top level (its TOML form); each entry of [values] is a quantity name and a
#: number, checked by bpcheck/verify/values.py with the line it is on.
VALUES: dict[str, Table] = {
    "": Table(
        _keys(
            case=Key("text", "a bundled case name, or a .toml path relative to the values file"),
            values=Key("table", required=True, table="values"),
        ),
        doc="the top level",
    ),
    "values": Table(names=Key("any", "a number"), doc="quantity = number"),
}


# --- reading a file -----------------------------------------------------------------------


def read_text(path: Path, what: str) -> str:
    """The text of a regular file of at most MAX_FILE_BYTES, UTF-8; `Invalid` (with field "")
    otherwise. Opened without blocking (a FIFO is refused, not waited on), at most
    MAX_FILE_BYTES + 1 bytes read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise Invalid("", "no such file") from None
    except IsADirectoryError:
        raise Invalid("", f"is a directory, expected {what}") from None
    except (OSError, ValueError) as err:
        raise Invalid("", f"cannot be read: {getattr(err, 'strerror', None) or err}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Invalid("", f"is {_file_kind(st.st_mode)}, not a regular file; expected {what}")
        if st.st_size > MAX_FILE_BYTES:
            raise Invalid("", f"is larger than the {MAX_FILE_BYTES // 2**20} MiB limit for {what}")
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:  # a file that grows while it is read stops at the limit + 1
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as err:
        raise Invalid("", f"cannot be read: {err.strerror or err}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise Invalid("", f"is larger than the {MAX_FILE_BYTES // 2**20} MiB limit for {what}")
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (some Windows editors write one) is not text
    except UnicodeDecodeError as err:
        raise Invalid("", f"is not UTF-8 text (byte {data[err.start]:#04x} at offset {err.start})") from None


def _file_kind(mode: int) -> str:
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((name for test, name in kinds if test(mode)), "not a file")


def where(path: Path | str) -> str:
    """A file's name for a message: as given, or its repr when it holds a control character."""
    text = str(path)
    return text if text.isprintable() else repr(text)


# --- numbers ------------------------------------------------------------------------------


class TomlFloat(float):
    """A TOML float that remembers the text it was written as (`parse_float=TomlFloat.parse`),
    so that 1e-400 (0.0 as a float) is seen as written."""

    text: str

    @classmethod
    def parse(cls, text: str) -> TomlFloat:
        f = cls(text)
        f.text = text
        return f


def number(value: Any, dtype: str) -> Decimal:
    """A number of a file as written: a decimal string, a TOML integer or float (a float as its
    shortest round-tripping decimal, as documented), or a Decimal; raises `Invalid` (field "")
    for anything else, a number that is not finite, one `dtype` (float32 for a case, float64
    for a values file) rounds to infinity, a nonzero number float64 rounds to 0, or one whose
    last digit is beyond 10^+-PLACES."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise Invalid("", f"expected a number or a decimal string, got {show(value)}")
    if isinstance(value, str):
        try:
            written = Decimal(value)
        except InvalidOperation:
            written = None
        if written is None or (written.is_finite() and not DECIMAL.fullmatch(value)):
            raise Invalid("", f"expected a decimal number (like -0.0171 or 1.5e-3), got {show(value)}")
    elif isinstance(value, float):
        written = Decimal(getattr(value, "text", repr(value)).replace("_", ""))
    else:
        written = Decimal(value)
    if not written.is_finite():
        raise Invalid("", f"expected a finite number, got {show(value)}")
    if abs(float(written)) >= OVERFLOW[dtype]:
        raise Invalid(
            "",
            f"expected a magnitude {dtype} can hold ({LARGEST[dtype]}), got {_short(written)}, "
            f"which {dtype} rounds to infinity",
        )
    if written != 0 and float(written) == 0:
        raise Invalid(
            "",
            f"expected 0 or a magnitude float64 can hold (its least is 4.9e-324), got {_short(written)}, "
            "which float64 rounds to 0",
        )
    exponent = int(written.as_tuple().exponent)
    if not -PLACES <= exponent <= PLACES:
        raise Invalid("", f"expected a last digit within 10^-{PLACES} .. 10^{PLACES}, got one at 10^{exponent}")
    if isinstance(value, float):
        return Decimal(repr(float(value)))  # the shortest decimal that round-trips, as documented
    return written


def _short(x: Decimal) -> str:
    return f"{x:.6e}" if len(x.as_tuple().digits) > 12 else str(x)


def show(value: Any, limit: int = 60) -> str:
    """A value for a message: its repr, cut to `limit` characters."""
    text = value.text if isinstance(value, TomlFloat) else str(value) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- names and text -----------------------------------------------------------------------


def name_of(key: str) -> str:
    """A key as part of a field name: as written, or its repr when it is not a plain name."""
    return key if key and key.isprintable() and not any(c in key for c in " .[]\"'") else repr(key)


def _is_text(s: str) -> bool:
    """No control characters but newline and tab (nothing that moves a terminal's cursor)."""
    return not any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t" for c in s)


def check_name(value: Any, f: str) -> str:
    if not isinstance(value, str):
        raise Invalid(f, f"expected a string, got {show(value)}")
    if not 1 <= len(value) <= NAME_LENGTH or not value.isprintable():
        raise Invalid(f, f"expected 1 to {NAME_LENGTH} printable characters (no control characters), got {show(value)}")
    return value


def unknown(key: str, known: list[str], f: str) -> Invalid:
    """An unknown key, with the close known ones or, when none is close, the list."""
    close = difflib.get_close_matches(key, known, n=3)
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    else:
        listed = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        hint = f"expected one of {listed}" if known else "expected none here"
    return Invalid(f, f"unknown key; {hint}")


# --- the kinds of value -------------------------------------------------------------------


def _text(value: Any, key: Key, f: str, schema: Mapping[str, Table]) -> str:
    if not isinstance(value, str):
        raise Invalid(f, f"expected a string, got {show(value)}")
    if not _is_text(value):
        raise Invalid(f, f"expected text without control characters, got {show(value)}")
    return value


def _name(value: Any, key: Key, f: str, schema: Mapping[str, Table]) -> str:
    return check_name(value, f)


def _bool(value: Any, key: Key, f: str, schema: Mapping[str, Table]) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f, f"expected true or false, got {show(value)}")
    return value


def _integer(value: Any, key: Key, f: str, schema: Mapping[str, Table]) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok or (key.low is not None and value < key.low) or (key.high is not None and value > key.high):
        low = "" if key.low is None else f" >= {key.low}"
        high = "" if key.high is None else f" and <= {key.high:,}"
        raise Invalid(f, f"expected an integer{low}{high}, got {show(value)}")
    return int(value)


def _integers(value: Any, key: Key, f: str, schema: Mapping[str, Table]) -> tuple[int, ...]:
    ok = isinstance(value, list) and len(value) >= key.min_items
    if not ok or not all(isinstance(v, int) and not isinstance(v, bool) and v >= (key.low or 0) for v in value):
        what = "positive integers" if key.low == 1 else "integers"
        raise Invalid(f, f"expected at least {key.min_items} {what} ({key.doc}), got {show(value)}")
    return tuple(value)


def _choice(value: Any, key: Key, f: str, schema: Mapping[str, Table]) -> str:
    if not isinstance(value, str) or value not in key.choices:
        raise Invalid(f, f"expected one of {', '.join(key.choices)}, got {show(value)}")
    return value


def _choices(value: Any, key: Key, f: str, schema: Mapping[str, Table]) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) < key.min_items:
        raise Invalid(f, f"expected a list of names ({key.doc}), got {show(value)}")
    return tuple(_choice(v, key, f"{f}[{k}]", schema) for k, v in enumerate(value))


def _number(value: Any, key: Key, f: str, schema: Mapping[str, Table]) -> Decimal:
    try:
        x = number(value, "float32")
    except Invalid as err:
        raise Invalid(f, err.message) from None
    if key.positive and x <= 0:
        raise Invalid(f, f"expected a number > 0, got {show(value)}")
    return x


def _decimal(value: Any, key: Key, f: str, schema: Mapping[str, Table]) -> str:
    """A number kept as its string (a printed figure)."""
    if not isinstance(value, str):
        raise Invalid(f, f"expected a decimal string (the printed digits, quoted), got {show(value)}")
    _number(value, key, f, schema)
    return value


def _rows(value: Any, key: Key, f: str, schema: Mapping[str, Table]) -> tuple[tuple[Decimal, ...], ...]:
    """One example (a list of numbers) or a batch (a list of such lists), as [example][value]."""
    if not isinstance(value, list) or not value:
        raise Invalid(f, f"expected at least one example (a list of numbers, or a list of lists), got {show(value)}")
    rows = value if isinstance(value[0], list) else [value]
    out = []
    for n, row in enumerate(rows):
        here = f + (f"[{n}]" if len(rows) > 1 else "")
        if not isinstance(row, list):
            raise Invalid(here, f"expected a list of numbers (one example), got {show(row)}")
        out.append(tuple(_number(v, key, f"{here}[{k}]", schema) for k, v in enumerate(row)))
    return tuple(out)


def _table(value: Any, key: Key, f: str, schema: Mapping[str, Table]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f, f"expected a table ([{f}]), got {show(value)}")
    return check(value, schema[key.table], f, schema)


def _tables(value: Any, key: Key, f: str, schema: Mapping[str, Table]) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list):
        raise Invalid(f, f"expected an array of tables ([[{f}]]), got {show(value)}")
    return tuple(_table(v, key, f"{f}[{k}]", schema) for k, v in enumerate(value))


def _any(value: Any, key: Key, f: str, schema: Mapping[str, Table]) -> Any:
    return value


_KINDS: dict[str, Callable[[Any, Key, str, Mapping[str, Table]], Any]] = {
    "text": _text,
    "name": _name,
    "bool": _bool,
    "integer": _integer,
    "integers": _integers,
    "choice": _choice,
    "choices": _choices,
    "number": _number,
    "decimal": _decimal,
    "rows": _rows,
    "table": _table,
    "tables": _tables,
    "any": _any,
}


def check(raw: dict[str, Any], table: Table, f: str, schema: Mapping[str, Table]) -> dict[str, Any]:
    """`raw` checked against `table` (`f`: its field name, "" at the top level), normalised."""
    dot = f"{f}." if f else ""
    if table.names is not None:
        if len(raw) < table.min_entries:
            raise Invalid(f, f"expected at least {table.min_entries} [{dot}NAME] table, got none")
        out = {}
        for k, v in raw.items():
            here = f"{dot}{name_of(k)}"
            if table.names.kind in ("table", "name"):
                check_name(k, here)  # a configuration's name: used in output like the case's
            out[k] = _KINDS[table.names.kind](v, table.names, here, schema)
        return out
    known = list(table.keys)
    for k in raw:
        if k not in table.keys:
            raise unknown(k, known, f"{dot}{name_of(k)}")
    for group in table.exclusive + table.one_of:
        given = [k for k in group if k in raw]
        if len(given) > 1:
            raise Invalid(f"{dot}{given[-1]}", f"give either {' or '.join(group)}, not both")
    out = {}
    for k, key in table.keys.items():
        if k in raw:
            out[k] = _KINDS[key.kind](raw[k], key, f"{dot}{k}", schema)
        elif key.required:
            raise Invalid(f"{dot}{k}", "missing")
        elif key.default is not None:
            out[k] = key.default
    for group in table.one_of:
        if not any(k in raw for k in group):
            raise Invalid(f"{dot}{group[0]}", f"missing; expected one of {' or '.join(group)}")
    return out
