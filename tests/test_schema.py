"""The strict schema of case files and values files (issue 12, "Bad input, faults and unsafe
paths"): a typo in any table, two keys that exclude each other, an empty [configs], a number
float32 cannot hold (or a nonzero one float64 rounds to 0), targets a logit loss cannot take,
extreme numbers in a values file, a relative case path in a values file, and paths that are
not small regular files. Each bad input is exit status 2 and exactly one line on stderr naming
the file and the field, never a traceback, and nothing is written."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

from bpcheck import engine
from bpcheck.cli import main
from bpcheck.reference import schema
from bpcheck.reference.case import CaseError, load_case, parse_case
from bpcheck.verify.values import ValuesError, case_of, parse_values

ROOT = Path(__file__).resolve().parents[1]

#: A small valid case using every table: a batch of two, explicit parameters, two rules, a
#: published figure of each kind, an erratum and a provenance note.
BASE = """\
name = "schema-base"
title = "A small network for the schema tests"
question = "Does a valid case with every table load?"
source = "written for tests/test_schema.py"

[network]
layer_sizes = [2, 2, 1]
activation = "sigmoid"
loss = "half-sse"
bias = "per-neuron"

[data]
inputs = [["0.5", "-0.25"], ["1", "0"]]
targets = [["0.25"], ["0.75"]]
reduction = "mean"

[parameters]
w1 = "0.1"
w2 = "0.2"
w3 = "-0.3"
w4 = "0.4"
w5 = "0.5"
w6 = "-0.6"
b_h1 = "0"
b_h2 = "0.1"
b_o1 = "-0.1"

[parameters_provenance]
text = "made up for the test"

[training]
learning_rate = "0.5"
default_config = "plain"
steps = 2

[configs.plain]
doc = "gradient descent"
update_order = "simultaneous"
update_biases = true

[configs.other]
doc = "output layer first"
update_order = "output-first"
update_biases = false

[[errata]]
section = "nowhere"
printed = "w1 = 0.11"
correct = "w1 = 0.1"
note = "a made-up misprint"

[[published]]
quantity = "net_h1[1]"
value = "0.1"
post_name = "net_h1"
section = "forward"

[[published]]
quantity = "E_total@2"
value = "0.03"
reproduced_by = { config = "plain", measured = "after-update" }
"""

#: Weights from an initialiser, a logit loss: for the [initializer] table and the targets' range.
DRAWN = """\
name = "schema-drawn"

[network]
layer_sizes = [2, 3, 3]
activations = ["tanh", "identity"]
loss = "softmax-ce"
bias = "per-neuron"

[data]
inputs = [["0.5", "-0.25"], ["1", "0"]]
targets = [["1", "0", "0"], ["0", "0.5", "0.5"]]

[initializer]
name = "uniform"
seed = 7
scale = "0.5"
bias = "0.1"

[training]
learning_rate = 0.1
default_config = "plain"

[configs.plain]
update_order = "simultaneous"
update_biases = true
"""

BCE = DRAWN.replace("[2, 3, 3]", "[2, 3, 1]").replace('"identity"', '"sigmoid"').replace('"softmax-ce"', '"bce"')
BCE = BCE.replace('targets = [["1", "0", "0"], ["0", "0.5", "0.5"]]', 'targets = [["1"], ["0.25"]]')


@pytest.fixture(autouse=True)
def _no_cross_check(monkeypatch):
    """Every `bpcheck run` here must stop at loading: a bad case that got through fails at
    once instead of running the cross-check."""

    def ran(*args, **kwargs):
        raise AssertionError("the case was accepted and the cross-check started")

    monkeypatch.setattr(engine, "crosscheck", ran)


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old  # the test edits what it means to
    return text.replace(old, new)


def refused(capsys, code: int, *fragments: str) -> str:
    """Exit status 2, nothing on stdout, one line on stderr holding each fragment, no traceback."""
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert out == ""
    assert err.startswith("bpcheck: error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


def run_case(capsys, path: Path | str, *fragments: str) -> str:
    return refused(capsys, main(["run", "--case", str(path), "--no-report"]), str(path), *fragments)


def write(tmp_path: Path, text: str, name: str = "case.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_base_cases_are_valid():
    """The tests' own cases load, so each refusal below is the edit's doing."""
    base = parse_case(BASE)
    assert base.steps == 2 and set(base.configs) == {"plain", "other"} and len(base.published) == 2
    assert base.errata[0]["correct"] == "w1 = 0.1" and base.spec.reduction == "mean"
    drawn = parse_case(DRAWN)
    assert drawn.spec.loss == "softmax-ce" and len(drawn.parameters) == 2 * 3 + 3 * 3 + 3 + 3
    assert parse_case(BCE).spec.loss == "bce"


# --- unknown keys, in every table ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "old", "new", "fragments"),
    [
        (BASE, 'reduction = "mean"', 'reducton = "mean"', ["data.reducton: unknown key", "did you mean 'reduction'?"]),
        (BASE, "steps = 2", "step = 100", ["training.step: unknown key", "did you mean 'steps'?"]),
        (BASE, 'loss = "half-sse"', 'los = "half-sse"', ["network.los: unknown key", "'loss'"]),
        (BASE, 'title = "A', 'titel = "A', ["titel: unknown key", "did you mean 'title'?"]),
        (BASE, "[configs.other]\ndoc", "[configs.other]\ndocs", ["configs.other.docs: unknown key", "'doc'"]),
        (BASE, "update_biases = true", "update_bias = true", ["configs.plain.update_bias: unknown key"]),
        (BASE, 'value = "0.1"', 'vaule = "0.1"', ["published[0].vaule: unknown key", "'value'"]),
        (BASE, 'measured = "after-update"', 'mesured = "after-update"', ["published[1].reproduced_by.mesured"]),
        (BASE, 'correct = "w1', 'corect = "w1', ["errata[0].corect: unknown key", "'correct'"]),
        (BASE, 'b_o1 = "-0.1"', 'b_01 = "-0.1"', ["parameters.b_01: unknown key", "'b_o1'"]),
        (BASE, 'reduction = "mean"', 'colour = "red"', ["data.colour: unknown key; expected one of inputs, targets"]),
        (BASE, "[network]", "[netwrok]\n[network]", ["netwrok: unknown key", "did you mean 'network'?"]),
        (DRAWN, "seed = 7", "sed = 7", ["initializer.sed: unknown key", "did you mean 'seed'?"]),
        (DRAWN, 'scale = "0.5"', 'scael = "0.5"', ["initializer.scael: unknown key", "'scale'"]),
    ],
)
def test_an_unknown_key_in_any_table_is_refused_with_a_did_you_mean(tmp_path, capsys, text, old, new, fragments):
    run_case(capsys, write(tmp_path, edit(text, old, new)), *fragments)


def test_a_typo_no_longer_runs_with_the_default(tmp_path):
    """The issue's two: `reducton = "mean"` ran with sum, `step = 100` ran 0 steps."""
    for old, new in (('reduction = "mean"', 'reducton = "mean"'), ("steps = 2", "step = 100")):
        with pytest.raises(CaseError, match="unknown key"):
            load_case(str(write(tmp_path, edit(BASE, old, new))))


# --- exclusive and required keys -----------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        ('activation = "sigmoid"', 'activation = "sigmoid"\nactivations = ["sigmoid", "sigmoid"]', ["network."]),
        ('activation = "sigmoid"', 'activations = ["sigmoid", "tanh"]\nactivation = "sigmoid"', ["network."]),
        ('activation = "sigmoid"', "", ["network.activation: missing", "activation or activations"]),
        ("[parameters]", '[initializer]\nname = "uniform"\nseed = 1\n\n[parameters]', ["initializer", "not both"]),
        (
            'reproduced_by = { config = "plain", measured = "after-update" }',
            'reproduced_by = { config = "plain" }\nnot_reproduced = "tried"',
            ["published[1].", "reproduced_by or not_reproduced, not both"],
        ),
        ('reproduced_by = { config = "plain", measured = "after-update" }', "", ["published[1]", "not_reproduced"]),
        (
            'reproduced_by = { config = "plain", measured',
            "reproduced_by = { measured",
            ["reproduced_by.config: missing"],
        ),
    ],
)
def test_exclusive_and_required_keys(tmp_path, capsys, old, new, fragments):
    err = run_case(capsys, write(tmp_path, edit(BASE, old, new)), *fragments)
    if "activations = " in new and "activation = " in new:
        assert "give either activation or activations, not both" in err


@pytest.mark.parametrize(
    ("configs", "fragments"),
    [
        ("[configs]\n", ["configs: expected at least 1 [configs.NAME] table, got none"]),
        ("configs = {}\n", ["configs: expected at least 1"]),
        ("configs = 3\n", ["configs: expected a table"]),
        ('[configs.""]\nupdate_order = "simultaneous"\nupdate_biases = true\n', ["configs.''", "printable"]),
    ],
)
def test_an_empty_or_malformed_configs_is_refused(tmp_path, capsys, configs, fragments):
    head = BASE.split("[configs.plain]")[0]
    tail = BASE[BASE.index("[[errata]]") :]
    if configs.startswith("configs ="):  # a top-level key: before the first table
        head, configs = configs + head, ""
    err = run_case(capsys, write(tmp_path, head + configs + "\n" + tail), *fragments)
    assert "expected one of , got" not in err


def test_the_default_config_must_be_one_of_the_configs(tmp_path, capsys):
    text = edit(BASE, 'default_config = "plain"', 'default_config = "plane"')
    run_case(capsys, write(tmp_path, text), "training.default_config: expected one of plain, other, got 'plane'")


# --- types and names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        ('name = "schema-base"', "name = 5", ["name: expected a string, got 5"]),
        ('name = "schema-base"', 'name = ""', ["name: expected 1 to 100 printable characters"]),
        ('name = "schema-base"', f'name = "{"x" * 101}"', ["name: expected 1 to 100 printable characters"]),
        ('name = "schema-base"', 'name = "a\\u0000b"', ["name: expected 1 to 100 printable", "'a\\x00b'"]),
        ('name = "schema-base"', 'name = "two\\nlines"', ["name: expected 1 to 100 printable"]),
        ('title = "A small', 'title = "\\u001b[2JA small', ["title: expected text without control characters"]),
        ('question = "Does a valid case with every table load?"', "question = [1]", ["question: expected a string"]),
        ('section = "forward"', "section = 1.5", ["published[0].section: expected a string"]),
        ("update_biases = true", 'update_biases = "yes"', ["configs.plain.update_biases: expected true or false"]),
        ("steps = 2", "steps = -1", ["training.steps: expected an integer >= 0"]),
        ("steps = 2", "steps = 2.5", ["training.steps: expected an integer >= 0"]),
        ("layer_sizes = [2, 2, 1]", "layer_sizes = [2]", ["network.layer_sizes: expected at least 2 positive"]),
        ("layer_sizes = [2, 2, 1]", "layer_sizes = [2, true, 1]", ["network.layer_sizes: expected at least 2"]),
        ('bias = "per-neuron"', 'bias = "shared"', ["network.bias: expected one of per-neuron, shared-per-layer"]),
        ('reduction = "mean"', 'reduction = "avg"', ["data.reduction: expected one of sum, mean, got 'avg'"]),
        ('inputs = [["0.5", "-0.25"], ["1", "0"]]', 'inputs = [["0.5"], ["1", "0"]]', ["data.inputs[0]: expected 2"]),
        ('inputs = [["0.5", "-0.25"], ["1", "0"]]', "inputs = []", ["data.inputs: expected at least one example"]),
        ('targets = [["0.25"], ["0.75"]]', 'targets = [["0.25"]]', ["data.targets: expected 2 examples"]),
        ("[[errata]]", "[errata]", ["errata: expected an array of tables ([[errata]])"]),
        ('quantity = "net_h1[1]"', 'quantity = "net_h9[1]"', ["published[0].quantity: expected a quantity name"]),
        ('config = "plain", measured', 'config = "plian", measured', ["published[1].reproduced_by.config"]),
        ('value = "0.1"', "value = 0.1", ["published[0].value: expected a decimal string"]),
    ],
)
def test_types_names_and_shapes(tmp_path, capsys, old, new, fragments):
    run_case(capsys, write(tmp_path, edit(BASE, old, new)), *fragments)


# --- numbers: float32's range, float64's underflow ------------------------------------------

FLOAT32 = "float32 can hold"


@pytest.mark.parametrize(
    ("text", "old", "new", "fragments"),
    [
        (BASE, 'w1 = "0.1"', 'w1 = "1e308"', ["parameters.w1:", FLOAT32, "every case is also checked in float32"]),
        (BASE, 'w1 = "0.1"', "w1 = 1e39", ["parameters.w1:", FLOAT32]),
        (BASE, 'w2 = "0.2"', "w2 = 10000000000000000000000000000000000000000", ["parameters.w2:", FLOAT32]),
        (BASE, 'w3 = "-0.3"', 'w3 = "-3.4028236e38"', ["parameters.w3:", FLOAT32]),
        (BASE, 'b_o1 = "-0.1"', 'b_o1 = "3.5e38"', ["parameters.b_o1:", FLOAT32]),
        (BASE, '["1", "0"]]', '["1", "-1e39"]]', ["data.inputs[1][1]:", FLOAT32]),
        (BASE, 'targets = [["0.25"]', 'targets = [["4e38"]', ["data.targets[0][0]:", FLOAT32]),
        (BASE, 'learning_rate = "0.5"', 'learning_rate = "1e39"', ["training.learning_rate:", FLOAT32]),
        (BASE, 'value = "0.1"', 'value = "-1e40"', ["published[0].value:", FLOAT32]),
        (DRAWN, 'scale = "0.5"', 'scale = "1e39"', ["initializer.scale:", FLOAT32]),
        (
            DRAWN,
            'name = "uniform"\nseed = 7\nscale = "0.5"',
            'name = "normal"\nseed = 7\nscale = "3e38"',
            ["initializer.scale: expected draws", FLOAT32],
        ),
        (DRAWN, 'bias = "0.1"', "bias = -1e39", ["initializer.bias:", FLOAT32]),
        (BASE, 'w1 = "0.1"', 'w1 = "1e-400"', ["parameters.w1:", "which float64 rounds to 0"]),
        (BASE, 'w1 = "0.1"', "w1 = 1e-330", ["parameters.w1:", "which float64 rounds to 0"]),
        (BASE, 'learning_rate = "0.5"', 'learning_rate = "-1e-999999999"', ["training.learning_rate:"]),
        (BASE, '["1", "0"]]', '["1", "0e-999999999"]]', ["data.inputs[1][1]: expected a last digit within"]),
        (BASE, 'w1 = "0.1"', 'w1 = "nan"', ["parameters.w1: expected a finite number"]),
        (BASE, 'w1 = "0.1"', "w1 = -inf", ["parameters.w1: expected a finite number"]),
        (BASE, 'w1 = "0.1"', 'w1 = "0x10"', ["parameters.w1: expected a decimal number"]),
        (BASE, 'w1 = "0.1"', 'w1 = "1_000"', ["parameters.w1: expected a decimal number"]),
        (BASE, 'w1 = "0.1"', 'w1 = " 0.1"', ["parameters.w1: expected a decimal number"]),
        (BASE, 'w1 = "0.1"', "w1 = true", ["parameters.w1: expected a number or a decimal string"]),
        (BASE, 'learning_rate = "0.5"', 'learning_rate = "0"', ["training.learning_rate: expected a number > 0"]),
        (DRAWN, 'scale = "0.5"', "scale = -1", ["initializer.scale: expected a number > 0"]),
        (DRAWN, "seed = 7", "seed = -7", ["initializer.seed: expected an integer >= 0"]),
    ],
)
def test_numbers_out_of_range(tmp_path, capsys, text, old, new, fragments):
    run_case(capsys, write(tmp_path, edit(text, old, new)), *fragments)


@pytest.mark.parametrize(
    "written",
    ['"3.4028234663852886e38"', '"-3.4028235e38"', "3.4e38", '"1e-320"', '"-0"', '"0e-1000"', '"+.5"', "1_000"],
)
def test_numbers_at_the_edges_are_accepted(written):
    """float32's largest (as float64 writes it), a float64 subnormal, signed zeros, TOML's
    underscores: all fit, and are kept as written."""
    case = parse_case(edit(BASE, 'w1 = "0.1"', f"w1 = {written}"))
    assert case.decimals.parameters["w1"] == Decimal(written.strip('"').replace("_", ""))


@pytest.mark.parametrize("t", ["1.5", "-0.1", "1.0000000001"])  # (`target` is a conftest fixture's name)
def test_bce_targets_outside_0_1_are_refused(tmp_path, capsys, t):
    text = edit(BCE, 'targets = [["1"], ["0.25"]]', f'targets = [["1"], ["{t}"]]')
    run_case(capsys, write(tmp_path, text), "data.targets[1][0]: expected a probability in [0, 1] for bce")


@pytest.mark.parametrize("t", ["1.5", "-0.1"])
def test_softmax_targets_outside_0_1_are_refused(tmp_path, capsys, t):
    text = edit(DRAWN, '["0", "0.5", "0.5"]', f'["0", "{t}", "0.5"]')
    run_case(capsys, write(tmp_path, text), "data.targets[1][1]: expected a probability in [0, 1] for softmax-ce")


def test_logit_loss_targets_at_the_ends_and_soft_labels_load():
    """0 and 1 are probabilities; softmax-ce's targets need not sum to 1 (multi-hot, none)."""
    assert parse_case(edit(BCE, '["0.25"]', '["0"]')).targets == ((1.0,), (0.0,))
    multi = parse_case(edit(DRAWN, '["0", "0.5", "0.5"]', '["1", "1", "0"]'))
    assert multi.targets[1] == (1.0, 1.0, 0.0)


# --- values files --------------------------------------------------------------------------


def verify(capsys, path: Path, *fragments: str) -> str:
    return refused(capsys, main(["verify", str(path)]), *fragments)


EXTREMES = [
    ("1e-999999999", "rounds to 0"),
    ("-1e-999999999", "rounds to 0"),
    ("1e999999999", "rounds to infinity"),
    ("-1E+999999999", "rounds to infinity"),
    ("2e308", "rounds to infinity"),
    ("1e-400", "rounds to 0"),
    ("0e-999999999", "expected a last digit within"),
    ("0E+999999999", "expected a last digit within"),
    ("0.5" + "0" * 1100, "expected a last digit within"),
    ("nan", "expected a finite number"),
    ("-inf", "expected a finite number"),
    ("Infinity", "expected a finite number"),
    ("0x1p-3", "expected a decimal number"),
    ("0x10", "expected a decimal number"),
    ("1_000", "expected a decimal number"),
    ("\u0661\u0662", "expected a decimal number"),
    ("1e", "expected a decimal number"),
    ("--1", "expected a decimal number"),
]


@pytest.mark.parametrize(("value", "message"), EXTREMES)
def test_extreme_numbers_in_a_values_file_are_refused_naming_the_line(tmp_path, capsys, value, message):
    path = write(tmp_path, f"net_h1 = 0.3775\nout_h1 = {value}\n", "mine.values")
    verify(capsys, path, f"{path}:2: out_h1:", message)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e-999999999", "rounds to 0"),
        ("1e999999999", "rounds to infinity"),
        ("0e-999999999", "expected a last digit within"),
        ("nan", "expected a finite number"),
        ("-inf", "expected a finite number"),
        ('"0x10"', "expected a decimal number"),
        ('"1_0"', "expected a decimal number"),
        ("[1]", "expected a number or a decimal string"),
        ("{ a = 1 }", "expected a number or a decimal string"),
        ("true", "expected a number or a decimal string"),
    ],
)
def test_extreme_numbers_in_a_toml_values_file(tmp_path, capsys, value, message):
    path = write(tmp_path, f'case = "mazur-2015"\n[values]\n"out_h1" = {value}\n', "mine.toml")
    verify(capsys, path, f"{path}:3: out_h1:", message)


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("out_h1 = -0\n", "0", "1"),
        ("out_h1 = +.5\n", "0.5", "0.1"),
        ("out_h1 = 5.\n", "5", "1"),
        ("out_h1 = '0.59'\n", "0.59", "0.01"),
        ("out_h1 = 1e-320\n", "1e-320", "1e-320"),
        ("out_h1 = 1.7e308\n", "1.7e308", "1e307"),
        ("[values]\nout_h1 = -0.0\n", "0", "0.1"),
        ("[values]\nout_h1 = 0x10\n", "16", "1"),
        ("[values]\nout_h1 = 1_000.5\n", "1000.5", "0.1"),
        ('[values]\nout_h1 = "0.5930"\n', "0.593", "0.0001"),
    ],
)
def test_odd_but_valid_numbers_are_kept_as_written(text, value, unit):
    """Signed zeros, a bare point, quotes, subnormals, TOML's hex and underscores: accepted, the
    value exact and one unit of the last written digit built exactly."""
    written = parse_values(text, load_case("mazur-2015").layout)["out_h1"]
    assert written.value == Decimal(value) and written.unit == Decimal(unit)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ('cse = "mazur-2015"\n[values]\nnet_h1 = 0.3775\n', ["cse: unknown key; did you mean 'case'?"]),
        ("[value]\nnet_h1 = 0.3775\n", ["value: unknown key; did you mean 'values'?"]),
        ('case = ""\n[values]\nnet_h1 = 0.3775\n', ["case: expected a case name"]),
        ("case = 5\n[values]\nnet_h1 = 0.3775\n", ["case: expected a string, got 5"]),
        ("values = 5\n[other]\n", ["other: unknown key"]),
    ],
)
def test_a_values_files_top_level_is_checked(tmp_path, capsys, text, fragments):
    path = write(tmp_path, text, "mine.toml")
    verify(capsys, path, str(path), *fragments)


def test_a_relative_case_path_is_relative_to_the_values_file(tmp_path, capsys, monkeypatch):
    """`case = "mine.toml"` in sub/values.toml names sub/mine.toml, whatever the current folder."""
    sub = tmp_path / "sub"
    sub.mkdir()
    mazur = load_case("mazur-2015").path.read_text(encoding="utf-8")
    write(sub, edit(mazur, 'name = "mazur-2015"', 'name = "my-copy"'), "mine.toml")
    values = write(sub, 'case = "mine.toml"\n[values]\n"net_h1" = 0.3775\n', "values.toml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write(elsewhere, "not a case", "mine.toml")  # what a cwd-relative lookup would find
    monkeypatch.chdir(elsewhere)
    assert Path(case_of(str(values))) == sub / "mine.toml"
    assert main(["verify", str(values), "--json"]) == 0
    out, err = capsys.readouterr()
    assert '"case": "my-copy"' in out and err == ""
    monkeypatch.chdir(tmp_path)
    assert case_of("sub/values.toml") == os.path.join("sub", "mine.toml")
    assert case_of(str(write(sub, 'case = "mazur-2015"\n[values]\nnet_h1 = 1\n', "named.toml"))) == "mazur-2015"
    missing = write(sub, 'case = "gone.toml"\n[values]\n"net_h1" = 0.3775\n', "gone-values.toml")
    verify(capsys, missing, os.path.join("sub", "gone.toml"), "no such file")


# --- paths that are not small regular files -------------------------------------------------


def test_dev_zero_is_refused_as_a_case_and_as_values(capsys):
    run_case(capsys, "/dev/zero", "/dev/zero: is a character device, not a regular file; expected a case file")
    verify(capsys, Path("/dev/zero"), "/dev/zero: is a character device, not a regular file")


def test_a_symlink_to_dev_zero_is_refused(tmp_path, capsys):
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    run_case(capsys, link, "is a character device, not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, capsys):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    run_case(capsys, fifo, "is a FIFO, not a regular file")
    verify(capsys, fifo, "is a FIFO, not a regular file")


def test_a_directory_is_refused(tmp_path, capsys):
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    run_case(capsys, folder, "is a directory")
    verify(capsys, tmp_path, "is a directory")


def test_a_missing_file_is_one_line(tmp_path, capsys):
    run_case(capsys, tmp_path / "nowhere.toml", "no such file")
    refused(capsys, main(["run", "--case", "", "--no-report"]), "a case is needed")


def test_a_file_over_the_size_limit_is_refused(tmp_path, capsys):
    """MAX_FILE_BYTES + 1 bytes (sparse: nothing is written or read) is refused; the limit is
    16 MiB and documented."""
    assert schema.MAX_FILE_BYTES == 16 * 2**20
    assert "16 MiB" in (ROOT / "docs/cases.md").read_text(encoding="utf-8")
    big = tmp_path / "big.toml"
    with open(big, "wb") as f:
        f.truncate(schema.MAX_FILE_BYTES + 1)
    run_case(capsys, big, "is larger than the 16 MiB limit for a case file")
    values = tmp_path / "big.values"
    os.link(big, values)
    verify(capsys, values, "is larger than the 16 MiB limit for a values file")


def test_the_limit_is_exact(tmp_path, monkeypatch):
    """A file of exactly the limit loads; one byte more is refused."""
    path = write(tmp_path, BASE)
    size = path.stat().st_size
    monkeypatch.setattr(schema, "MAX_FILE_BYTES", size)
    assert load_case(str(path)).name == "schema-base"
    monkeypatch.setattr(schema, "MAX_FILE_BYTES", size - 1)
    with pytest.raises(CaseError, match="is larger than the 0 MiB limit"):
        load_case(str(path))


def test_not_utf8_and_not_toml_are_one_line(tmp_path, capsys):
    run_case(capsys, write(tmp_path, ""), "name: missing")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('name = "caf\u00e9"\n'.encode("latin-1"))
    run_case(capsys, bad, "is not UTF-8 text")
    run_case(capsys, write(tmp_path, "a = " + "[" * 5000), "not valid TOML")
    run_case(capsys, write(tmp_path, "a = " + "9" * 5000), "not valid TOML")


# --- nothing is written ---------------------------------------------------------------------


def test_refusing_bad_input_writes_nothing(tmp_path, capsys, monkeypatch):
    """Without --no-report, a refused case or values file leaves the folder as it was."""
    monkeypatch.chdir(tmp_path)
    bad = write(tmp_path, edit(BASE, 'reduction = "mean"', 'reducton = "mean"'))
    values = write(tmp_path, "out_h1 = 1e-999999999\n", "mine.values")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    refused(capsys, main(["run", "--case", str(bad)]), "data.reducton")
    refused(capsys, main(["verify", str(values)]), "out_h1")
    refused(capsys, main(["run", "--case", "/dev/zero"]), "/dev/zero")
    load_case(str(write(tmp_path, BASE, "good.toml")))
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted([*before, "good.toml"])


# --- every case and values file of the project, and the documentation -----------------------


def _project_files() -> list[Path]:
    found = [p for d in ("reference/cases", "tests", "examples", "benchmarks", "docs") for p in (ROOT / d).rglob("*")]
    return sorted(p for p in found if p.suffix in (".toml", ".values") and p.is_file())


def test_every_case_and_values_file_of_the_project_loads():
    files = _project_files()
    assert len(files) >= 17  # 15 bundled cases, a benchmark case, example values files
    for path in files:
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*\[network\]", text, re.MULTILINE):
            load_case(str(path))
        else:
            case = load_case(case_of(str(path)) or "mazur-2015")
            assert parse_values(text, case.layout, str(path)), path


def test_the_documented_example_loads():
    docs = (ROOT / "docs/cases.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", docs, re.DOTALL)
    assert blocks and any("[network]" in b for b in blocks)
    for block in blocks:
        if "[network]" in block:
            parse_case(block)


def test_the_documentation_names_every_key_of_the_schema():
    docs = (ROOT / "docs/cases.md").read_text(encoding="utf-8")
    for name, table in schema.CASE.items():
        for key in table.keys:
            forms = [f"`{key}`", f"`[{key}]`", f"`[[{key}]]`", f"`[{key}.NAME]`"]
            assert any(form in docs for form in forms), (name, key)
    for key in schema.VALUES[""].keys:
        assert f"`{key}`" in docs or f"`{key} =" in docs or f"`[{key}]`" in docs, key


def test_errors_name_the_file_even_when_the_name_is_odd(tmp_path):
    """A file name with a newline cannot split the message: it is shown as a repr."""
    odd = tmp_path / "two\nlines.toml"
    odd.write_text(edit(BASE, "steps = 2", "step = 2"), encoding="utf-8")
    with pytest.raises(CaseError) as err:
        load_case(str(odd))
    assert "\n" not in str(err.value) and "training.step" in str(err.value)
    with pytest.raises(ValuesError) as verr:
        parse_values("out_h1 = 1e999999999\n", load_case("mazur-2015").layout, "x.values")
    assert str(verr.value).startswith("x.values:1: out_h1:")


def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path):
    """Windows editors may start a UTF-8 file with a byte-order mark; the file is still the same case."""
    from bpcheck.reference.case import CASES_DIR, load_case

    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (CASES_DIR / "mazur-2015.toml").read_bytes())
    assert load_case(str(path)).parameters == load_case("mazur-2015").parameters
