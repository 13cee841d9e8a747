"""Fuzzing the command line with Hypothesis: malformed case files, values files and argument
lists, each wrong by construction. For every one, `bpcheck` must exit 2 with one line on
stderr naming what is wrong, print no traceback, write no file and change none.

The default profile runs at least MIN_EXAMPLES inputs over the three tests; the thorough one
(`pytest --hypothesis-profile=thorough tests/test_fuzz.py`) 2,000 of each kind, and the count is
printed at the end of the session and recorded in docs/fuzzing.md.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpcheck import cli
from bpcheck.reference.case import CASES_DIR

MAIN = tomllib.loads((CASES_DIR / "mazur-2015.toml").read_text(encoding="utf-8"))
#: How many inputs each fuzz test generated in this session (conftest prints them).
GENERATED: Counter[str] = Counter()
#: Under pytest-xdist (--dist loadgroup) this file runs in one worker, so the floor's test sees the count.
pytestmark = pytest.mark.xdist_group("fuzz")
#: The default profile's floor over the three tests together (issue 12: at least 200).
MIN_EXAMPLES = 200
PER_TEST = 80  # x 3 tests = 240 >= MIN_EXAMPLES


def _examples() -> int:
    """This profile's examples per test: PER_TEST by default, the profile's own when larger."""
    return max(PER_TEST, settings().max_examples)


# --- a TOML writer for the few shapes a case file has ------------------------------------------


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def to_toml(doc: dict[str, Any]) -> str:
    """Top-level scalars first, then each table, then arrays of tables (dotted names quoted)."""
    lines = [f"{json.dumps(k)} = {_value(v)}" for k, v in doc.items() if not _is_table(v) and not _is_tables(v)]

    def table(path: list[str], t: dict[str, Any]) -> None:
        lines.append("[" + ".".join(json.dumps(p) for p in path) + "]")
        lines.extend(f"{json.dumps(k)} = {_value(v)}" for k, v in t.items() if not _is_table(v))
        for k, v in t.items():
            if _is_table(v):
                table([*path, k], v)

    for k, v in doc.items():
        if _is_table(v):
            table([k], v)
    for k, v in doc.items():
        if _is_tables(v):
            for item in v:
                lines.append(f"[[{json.dumps(k)}]]")
                lines.extend(f"{json.dumps(kk)} = {_value(vv)}" for kk, vv in item.items())
    return "\n".join(lines) + "\n"


def _is_table(v: Any) -> bool:
    return isinstance(v, dict)


def _is_tables(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def test_the_writer_round_trips_the_main_case() -> None:
    assert tomllib.loads(to_toml(MAIN)) == MAIN


# --- running bpcheck in a sandbox --------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, tuple[int, int, bytes]]:
    out = {}
    for p in sorted(root.rglob("*")):
        st_ = p.lstat()
        data = p.read_bytes() if p.is_file() else b""
        out[str(p.relative_to(root))] = (st_.st_mode, st_.st_size, data)
    return out


def run_rejected(sandbox: Path, argv: list[str], names: tuple[str, ...] = ()) -> str:
    """Runs `bpcheck argv` in `sandbox` (its cwd); asserts exit 2, one stderr line that names
    each of `names`, no traceback, and the sandbox unchanged. Returns the line."""
    before = _snapshot(sandbox)
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(sandbox)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(argv)
    finally:
        os.chdir(cwd)
    lines = err.getvalue().splitlines()
    where = f"bpcheck {' '.join(map(repr, argv))}"
    assert status == 2, f"{where}: exit {status}, stderr {err.getvalue()!r}, stdout {out.getvalue()[:300]!r}"
    assert len(lines) == 1 and lines[0].startswith("bpcheck: error: "), f"{where}: stderr {err.getvalue()!r}"
    assert "Traceback" not in err.getvalue() + out.getvalue(), where
    for name in names:
        assert name in lines[0], f"{where}: {lines[0]!r} does not name {name!r}"
    assert _snapshot(sandbox) == before, f"{where}: changed files in its folder"
    return lines[0]


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sandbox")
    (root / "reports" / "run-mazur-2015").mkdir(parents=True)
    (root / "reports" / "run-mazur-2015" / "results.json").write_text("[]\n")  # a user's earlier report
    (root / "notes.txt").write_text("mine\n")
    return root


# --- malformed case files ---------------------------------------------------------------------

#: Keys valid somewhere in a case file: a typo must not land on one of these.
VALID_KEYS = {
    *("name", "title", "question", "source", "network", "data", "parameters", "parameters_provenance"),
    *("initializer", "training", "configs", "errata", "published", "layer_sizes", "activation"),
    *("activations", "loss", "bias", "inputs", "targets", "reduction", "learning_rate", "default_config"),
    *("steps", "doc", "update_order", "update_biases", "seed", "scale", "quantity", "value", "post_name"),
    *("section", "reproduced_by", "config", "measured", "not_reproduced", "not_correctly_rounded"),
    *("text", "figure", "printed", "correct", "note"),
    *(f"w{k}" for k in range(1, 9)),
    "b1",
    "b2",
}
#: Tables of the main case, by path, where an unknown key must be refused.
TABLES = ("network", "data", "training", "configs.as-written", "published.0", "published.0.reproduced_by", "")


def _typo(key: str, data: st.DataObject) -> str:
    kinds = ["drop", "double", "swap", "case", "suffix"]
    kind = data.draw(st.sampled_from(kinds))
    k = data.draw(st.integers(0, len(key) - 1))
    if kind == "drop" and len(key) > 2:
        out = key[:k] + key[k + 1 :]
    elif kind == "double":
        out = key[:k] + key[k] + key[k:]
    elif kind == "swap" and k + 1 < len(key):
        out = key[:k] + key[k + 1] + key[k] + key[k + 2 :]
    elif kind == "case":
        out = key.upper()
    else:
        out = key + data.draw(st.sampled_from(["s", "_", "x", "2"]))
    return out if out not in VALID_KEYS else key + "_typo"


def _at(doc: dict[str, Any], path: str) -> dict[str, Any]:
    """The table at `path`, or the top level when an earlier mutation removed it."""
    node: Any = doc
    for part in filter(None, path.split(".")):
        if part.isdigit():
            node = node[int(part)] if isinstance(node, list) and len(node) > int(part) else None
        elif part == "reproduced_by":
            node = node.setdefault(part, {}) if isinstance(node, dict) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, (dict, list)):
            return doc
    return node


def _unknown_key(doc: dict[str, Any], data: st.DataObject) -> tuple[str, ...]:
    path = data.draw(st.sampled_from(TABLES))
    table = _at(doc, path)
    keys = [k for k in table if not isinstance(table[k], dict)] or ["value"]
    key = data.draw(st.sampled_from(keys))
    bad = _typo(key, data)
    table[bad] = table.get(key, 1)
    return (bad,)


def _renamed_key(doc: dict[str, Any], data: st.DataObject) -> tuple[str, ...]:
    """A required key misspelt: the right one missing, a wrong one present."""
    path, key = data.draw(
        st.sampled_from(
            [
                ("network", "layer_sizes"),
                ("network", "loss"),
                ("network", "bias"),
                ("data", "inputs"),
                ("data", "targets"),
                ("training", "learning_rate"),
                ("training", "default_config"),
                ("configs.as-written", "update_order"),
                ("configs.as-written", "update_biases"),
            ]
        )
    )
    table = _at(doc, path)
    bad = _typo(key, data)
    table[bad] = table.pop(key, 1)
    return ()


def _missing_key(doc: dict[str, Any], data: st.DataObject) -> tuple[str, ...]:
    path, key = data.draw(
        st.sampled_from(
            [("", "name"), ("", "network"), ("", "data"), ("", "training"), ("", "configs")]
            + [("network", k) for k in ("layer_sizes", "loss", "bias", "activation")]
            + [("data", k) for k in ("inputs", "targets")]
            + [("training", k) for k in ("learning_rate", "default_config")]
            + [("parameters", k) for k in ("w1", "w8", "b2")]
        )
    )
    _at(doc, path).pop(key, None)
    return (key,) if path in ("network", "data", "training", "") else ()


WRONG_TYPES: dict[tuple[str, str], list[Any]] = {
    ("", "name"): [5, True, [], {"a": 1}, "", "a\x00b", "x" * 5000],
    ("network", "layer_sizes"): ["2,2,2", 2, [2, "x", 2], [2, 2.5, 2], [2, -1, 2], [2, 0, 2], [2], [], [2, True, 2]],
    ("network", "activation"): [3, ["sigmoid"], "sigmoidd", "", "relu6"],
    ("network", "loss"): [3, "mse", "", ["half-sse"]],
    ("network", "bias"): [0, "shared", "per-layer", True],
    ("data", "inputs"): ["0.05", [], [["0.05"]], ["0.05", "0.10", "0.2"], [["0.05", "x"]], [True, False], [[], []]],
    ("data", "targets"): [0.5, ["0.01"], ["a", "b"], [["0.01", "0.99"], ["0.5"]]],
    ("data", "reduction"): ["avg", 1, "", "MEAN"],
    ("training", "learning_rate"): ["0", "-0.5", 0, -1, "abc", True, [0.5], "nan", "inf", "1e39"],
    ("training", "steps"): [-1, 1.5, "10", True, [10]],
    ("training", "default_config"): ["nope", 1, ""],
    ("configs.as-written", "update_order"): ["sideways", 1, ""],
    ("configs.as-written", "update_biases"): ["yes", 1, "true"],
    ("parameters", "w1"): ["nan", "inf", "-inf", "1e308", "1e39", "-4e38", "abc", "", True, [0.15], "0x1p3"],
    ("parameters", "b1"): ["1e400", "NaN", "1..2", {}, None],
    ("published.0", "quantity"): ["net_h9", "dE/dw5", 5, ""],
    ("published.0", "value"): [0.3775, "abc", "", "1e", None],
}


def _wrong_value(doc: dict[str, Any], data: st.DataObject) -> tuple[str, ...]:
    (path, key) = data.draw(st.sampled_from(sorted(WRONG_TYPES)))
    value = data.draw(st.sampled_from(WRONG_TYPES[(path, key)]))
    table = _at(doc, path)
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value
    return ()


def _both_activation_keys(doc: dict[str, Any], data: st.DataObject) -> tuple[str, ...]:
    net = doc.setdefault("network", {})
    net["activation"] = "sigmoid"
    net["activations"] = data.draw(st.sampled_from([["sigmoid", "sigmoid"], ["tanh", "sigmoid"]]))
    return ("activation",)


def _empty_configs(doc: dict[str, Any], data: st.DataObject) -> tuple[str, ...]:
    doc["configs"] = {}
    return ("configs",)


def _bce_targets(doc: dict[str, Any], data: st.DataObject) -> tuple[str, ...]:
    doc.setdefault("network", {})["loss"] = "bce"
    doc.setdefault("data", {})["targets"] = data.draw(
        st.sampled_from([["1.5", "0.5"], ["-0.1", "0.99"], ["0.5", "2"], ["0.2", "-1e-9"]])
    )
    return ("targets",)


MUTATIONS: list[Callable[[dict[str, Any], st.DataObject], tuple[str, ...]]] = [
    _unknown_key,
    _renamed_key,
    _missing_key,
    _wrong_value,
    _both_activation_keys,
    _empty_configs,
    _bce_targets,
]
#: Lines that make any file invalid TOML when put first (a duplicate key, a broken header...).
BROKEN_TOML = ['name = "again"', "[network", "x = ", "= 3", 'title = """', "[[published]", "a = [1, 2", "key = 0.5.5"]


@given(data=st.data())
@settings(max_examples=_examples())
def test_malformed_case_files_are_refused(data: st.DataObject, sandbox: Path) -> None:
    GENERATED["case files"] += 1
    doc = copy.deepcopy(MAIN)
    names: tuple[str, ...] = ()
    if data.draw(st.integers(0, 9)) == 0:
        text = data.draw(st.sampled_from(BROKEN_TOML)) + "\n" + to_toml(doc)
    else:
        mutations = data.draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=2))
        for mutate in mutations:
            names = mutate(doc, data)
        names = names if len(mutations) == 1 else ()  # with two faults, either may be reported first
        text = to_toml(doc)
    path = sandbox / "mine.toml"
    path.write_text(text, encoding="utf-8")
    try:
        argv = ["run", "--case", "mine.toml", "--backend", "reference", "--dtype", "float64", "--no-trajectories"]
        run_rejected(sandbox, [*argv, "--jobs", "1"], names)
    finally:
        path.unlink()


# --- malformed values files -------------------------------------------------------------------

GOOD_VALUES = {"net_h1": "0.3775", "out_h1": "0.593269992", "dE_total/dw5": "0.082167041"}
BAD_NUMBERS = ["0.3.4", "1e", "--1", "nan", "inf", "-Infinity", "0x1p3", "abc", "1,5", "½", "", "1e5e5", "0.5 0.6"]


def _values_text(values: dict[str, str], toml: bool, extra: str = "") -> str:
    if toml:
        body = "\n".join(f'"{k}" = {v}' for k, v in values.items())
        return f'case = "mazur-2015"\n{extra}[values]\n{body}\n'
    return extra + "\n".join(f"{k} = {v}" for k, v in values.items()) + "\n"


@given(data=st.data())
@settings(max_examples=_examples())
def test_malformed_values_files_are_refused(data: st.DataObject, sandbox: Path) -> None:
    GENERATED["values files"] += 1
    values = dict(GOOD_VALUES)
    toml = data.draw(st.booleans())
    kind = data.draw(st.sampled_from(["name", "number", "section", "case", "broken", "duplicate", "empty"]))
    extra, names = "", ()
    if kind == "name":
        real = data.draw(st.sampled_from(sorted(values)))
        bad = _typo(real, data).replace('"', "")
        bad = bad if bad not in ("net_h2", "out_h2", "net_o1", "out_o1") else bad + "x"
        values = {**{k: v for k, v in values.items() if k != real}, bad: values[real]}
        names = (bad,)
    elif kind == "number":
        q = data.draw(st.sampled_from(sorted(values)))
        v = data.draw(st.sampled_from(BAD_NUMBERS))
        values[q] = json.dumps(v) if toml else v
        names = (q,)
    elif kind == "section" and toml:
        extra = data.draw(st.sampled_from(["cases = 'mazur-2015'\n", "config = 'plain'\n", "[valuez]\na = 1\n"]))
    elif kind == "case" and toml:
        extra = "# the case below\n"
        values = dict(values)
        case = data.draw(st.sampled_from(["nosuch", "nosuch.toml", "../../etc/passwd", "", "mazur 2015"]))
        text = _values_text(values, True).replace('case = "mazur-2015"', f"case = {json.dumps(case)}")
        return _check_values(sandbox, text, ())
    elif kind == "duplicate":
        q = data.draw(st.sampled_from(sorted(values)))
        text = _values_text(values, toml) + (f'"{q}" = 0.1\n' if toml else f"{q} = 0.1\n")
        return _check_values(sandbox, text, ())
    elif kind == "empty":
        values = {}
    else:
        extra = data.draw(st.sampled_from(BROKEN_TOML[1:])) + "\n" if toml else "this is not a value\n"
    _check_values(sandbox, _values_text(values, toml, extra), names)


def _check_values(sandbox: Path, text: str, names: tuple[str, ...]) -> None:
    path = sandbox / "mine.values"
    path.write_text(text, encoding="utf-8")
    try:
        run_rejected(sandbox, ["verify", "mine.values"], names)
    finally:
        path.unlink()


# --- malformed argument lists -----------------------------------------------------------------

#: Per command: arguments that are fine, and arguments that are wrong whatever else is given.
COMMANDS: dict[str, tuple[list[list[str]], list[list[str]]]] = {
    "run": (
        [["--no-trajectories"], ["--no-report"], ["--json"], ["--case", "mazur-2015"], ["--backend", "reference"]],
        [
            ["--backend", ""],
            ["--backend", ","],
            ["--backend", " , "],
            ["--dtype", ""],
            ["--dtype", "float16"],
            ["--backend", "nosuch"],
            ["--jobs", "0"],
            ["--jobs", "-2"],
            ["--jobs", "x"],
            ["--case", "nosuch"],
            ["--case", ""],
            ["--case", "missing.toml"],
            ["--frobnicate"],
            ["--out"],
        ],
    ),
    "report": (
        [["--no-trajectories"], ["--quiet"], ["--case", "mazur-2015"], ["--backend", "reference"]],
        [
            ["--backend", ""],
            ["--dtype", ","],
            ["--case", ""],
            ["--case", "nosuch"],
            ["--jobs", "0"],
            ["--steps", "x"],
            ["--frobnicate"],
        ],
    ),
    "bench": (
        [["--quick"], ["--backend", "reference"]],
        [["--backend", ""], ["--dtype", ""], ["--backend", "nosuch"], ["--max-seconds", "x"], ["--bogus"]],
    ),
    "verify": (
        [["--no-trajectories"], ["--json"], ["--case", "mazur-2015"]],
        [
            ["--backend", "numpy", "--dtype", ""],
            ["--backend", "numpy", "--dtype", "float16"],
            ["--backend", ""],
            ["--backend", "no.such.module:Thing"],
            ["--backend", "numpy", "--case", ""],
            ["missing.values"],
            ["--frobnicate"],
        ],
    ),
    "explain": (
        [["--case", "mazur-2015"], ["--backend", "reference"]],
        [["nosuch_quantity"], ["dE_total/dw5", "--backend", ""], ["dE_total/dw5", "--dtype", "float16"], []],
    ),
    "oracles": ([["--json"]], [["--case", ""], ["--case", "nosuch"], ["--frobnicate"]]),
    "diff": ([], [["missing-a", "missing-b"], ["notes.txt", "notes.txt"], ["one-argument"], []]),
    "cases": ([], [["--frobnicate"], ["extra"]]),
    "backends": ([], [["--frobnicate"], ["extra"]]),
}


@given(data=st.data())
@settings(max_examples=_examples())
def test_malformed_argument_lists_are_refused(data: st.DataObject, sandbox: Path) -> None:
    GENERATED["argument lists"] += 1
    command = data.draw(st.sampled_from([*COMMANDS, "no-such-command", ""]))
    if command not in COMMANDS:
        argv = [command] if command else []
    else:
        good, bad = COMMANDS[command]
        picked = data.draw(st.lists(st.sampled_from(range(len(good))), unique=True, max_size=2)) if good else []
        chosen = [good[k] for k in picked]
        wrong = data.draw(st.sampled_from(bad))
        position = data.draw(st.integers(0, len(chosen)))
        parts = [*chosen[:position], wrong, *chosen[position:]]
        argv = [command, *(a for p in parts for a in p)]
    run_rejected(sandbox, argv)


def test_the_fuzz_tests_generate_their_floor() -> None:
    """Runs last in this file: the three fuzz tests above generated MIN_EXAMPLES inputs at least
    (when they all ran in this session)."""
    if len(GENERATED) < 3:
        pytest.skip("the fuzz tests did not all run in this session")
    assert sum(GENERATED.values()) >= MIN_EXAMPLES, GENERATED
