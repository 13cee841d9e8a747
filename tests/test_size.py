"""Size: the guard refuses what is too large before any heavy work (exit 2, one line naming the
estimate and the option), a wide case is judged in the compact path with the same verdicts, memory
per parameter stays low enough for a network of millions, and long work shows the time left."""

from __future__ import annotations

import gc
import io
import itertools
import json
import math
import os
import pickle
import subprocess
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from bpcheck import compact, engine, matrix, size
from bpcheck.backends.numpy_backend import NumpyBackend
from bpcheck.cli import main
from bpcheck.judge import Cell, count, judge
from bpcheck.reference import arith, oracle
from bpcheck.reference.case import DrawnDecimals, parse_case
from bpcheck.reference.initializers import initialize
from bpcheck.reference.oracle import ExactValues, rounded_parameters
from bpcheck.reference.quantities import Layout, Positional
from bpcheck.reporting.output import Progress

ROOT = Path(__file__).resolve().parents[1]


def case_text(sizes: list[int], examples: int = 1, steps: int = 0, **net: str) -> str:
    """A case file with drawn weights: `sizes` layers, `examples` examples, `steps` training steps."""
    n_in, n_out = sizes[0], sizes[-1]
    inputs = [[round(0.1 * ((3 * k + n) % 11 - 5), 1) for k in range(n_in)] for n in range(examples)]
    targets = [[round(0.1 + 0.8 * ((k + n) % 2), 1) for k in range(n_out)] for n in range(examples)]
    acts = net.get("activations", '["sigmoid"' + ', "sigmoid"' * (len(sizes) - 2) + "]")
    return f"""name = "size-{"x".join(map(str, sizes))}"
[network]
layer_sizes = {sizes}
activations = {acts}
loss = "{net.get("loss", "half-sse")}"
bias = "{net.get("bias", "per-neuron")}"
[data]
inputs = {inputs}
targets = {targets}
[initializer]
name = "normal"
seed = 1
scale = 0.05
[training]
learning_rate = "0.5"
default_config = "{net.get("config", "plain")}"
steps = {steps}
[configs.plain]
update_order = "simultaneous"
update_biases = true
[configs.first]
update_order = "output-first"
update_biases = true
[configs.gradient]
update_order = "simultaneous"
update_biases = false
"""


def write_case(tmp_path: Path, *args: object, **kwargs: str) -> str:
    path = tmp_path / "case.toml"
    path.write_text(case_text(*args, **kwargs))  # type: ignore[arg-type]
    return str(path)


def bpcheck(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BPCHECK_ORACLE_CACHE": "off"}
    cmd = [sys.executable, "-m", "bpcheck.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


# --- the guard ---------------------------------------------------------------------------------


COMMANDS = {
    "run": lambda path, out: ["run", "--case", path, "--backend", "numpy", "--no-report"],
    "report": lambda path, out: ["report", "--case", path, "--backend", "numpy", "--out", out],
    "verify": lambda path, out: ["verify", "--backend", "numpy", "--case", path],
    "explain": lambda path, out: ["explain", "E_total", "--case", path, "--backend", "numpy"],
    "oracles": lambda path, out: ["oracles", "--case", path],
}


def refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, path: str) -> str:
    """The one line of a command refused by the guard (exit 2, within seconds, nothing written)."""
    start = time.monotonic()
    assert main(COMMANDS[command](path, str(tmp_path / "out"))) == 2
    assert time.monotonic() - start < 60
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "estimated" in err and size.OPTION in err and "parameter" in err
    assert not (tmp_path / "out").exists()
    return err


@pytest.mark.parametrize("command", ["run", "report", "verify"])
def test_huge_training_is_refused(tmp_path, capsys, command):
    line = refused(tmp_path, capsys, command, write_case(tmp_path, [2, 2, 2], 1, 10**11))
    assert "100,000,000,000 training steps" in line


@pytest.mark.parametrize("command", ["run", "oracles"])
def test_many_examples_are_refused(tmp_path, capsys, command):
    refused(tmp_path, capsys, command, write_case(tmp_path, [30, 30, 1], 2000, 1000))


@pytest.mark.slow
@pytest.mark.parametrize("command", list(COMMANDS))
def test_wide_layers_are_refused(tmp_path, capsys, command):
    refused(tmp_path, capsys, command, write_case(tmp_path, [3000, 3000, 1], 1))


def test_a_hundred_billion_steps_are_refused_at_once(tmp_path):
    path = write_case(tmp_path, [2, 2, 2], 1, 100_000_000_000)
    done = bpcheck("run", "--case", path, "--backend", "numpy", "--no-report", timeout=30)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "100,000,000,000 training steps" in line and "--allow-large" in line


def test_the_estimate_grows_with_each_factor():
    case = parse_case(case_text([20, 20, 1], 1, 100))
    base = size.crosscheck([case], 1, 1)
    assert size.crosscheck([case], 2, 1).seconds > base.seconds
    assert size.crosscheck([case], 1, 2).seconds > base.seconds
    assert size.crosscheck([parse_case(case_text([20, 20, 1], 1, 1000))], 1, 1).seconds > base.seconds
    assert size.crosscheck([parse_case(case_text([40, 40, 1], 1, 100))], 1, 1).bytes > base.bytes
    assert size.crosscheck([case], 1, 1, trajectories=False).seconds < base.seconds


def test_a_small_case_passes_and_the_option_allows_a_large_one():
    small = parse_case(case_text([2, 2, 2]))
    assert not size.crosscheck([small], 13, 2).too_large
    large = parse_case(case_text([2, 2, 2], 1, 10**11))
    with pytest.raises(Exception, match="--allow-large"):
        size.guard(size.crosscheck([large], 1, 1), False)
    assert size.guard(size.crosscheck([large], 1, 1), True).too_large


@pytest.mark.parametrize("sizes", [[2, 2, 2], [3, 4, 4, 3, 2], [5, 7, 3], [1, 1]])
@pytest.mark.parametrize("bias", ["per-neuron", "shared-per-layer", "none"])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("loss", ["half-sse", "softmax-ce"])
def test_the_counts_are_those_of_the_names(sizes, bias, batch, loss):
    lay = Layout(tuple(sizes), bias, batch, loss)
    assert lay.quantity_count == len(lay.step_quantities) == len(list(lay.step_names()))
    assert lay.parameter_count == len(lay.parameters)
    assert list(lay.parameter_names()) == lay.parameters
    assert [lay.parameter_position(p) for p in lay.parameters] == list(range(lay.parameter_count))
    spans = lay.stage_spans()  # each stage's quantities are consecutive, in the order of STAGES
    assert [q.stage for q in lay.step_quantities] == [s for s, (a, z) in spans.items() for _ in range(a, z)]
    parts = {"forward": {"forward", "error"}, "gradients": {"output-chain", "hidden-chain", "gradient"}}
    for part in ["forward", "gradients", "updates"]:
        first, end = lay.span(part)
        expected = {s for s in parts.get(part, {"update"}) if spans[s][0] < spans[s][1]}
        assert {q.stage for q in lay.step_quantities[first:end]} == expected
    for l in range(len(sizes) - 1):
        first, end = lay.weight_span(l)
        assert lay.parameters[first:end] == [w for row in lay.w[l] for w in row]
        first, end = lay.bias_span(l)
        assert lay.parameters[first:end] == lay.b[l]
    stages = {q.name: q.stage for q in lay.step_quantities}
    read = matrix_stage_reader(lay)
    assert all(read[name] == stage for name, stage in stages.items())
    for name in ["w0+", f"w{lay.parameter_count + 1}+", "net_i1", "delta_x1", "E_total[1]", "out_o1[0]"]:
        with pytest.raises(KeyError):
            read[name]


def test_a_wide_layout_makes_its_names_when_read():
    lay, small = Layout((150, 70, 2), "per-neuron"), Layout((15, 7, 2), "per-neuron")
    assert lay.wide and not small.wide
    counter = 0
    for l, (n_in, n_out) in enumerate(zip(lay.sizes, lay.sizes[1:])):
        rows = lay.w[l]
        assert not isinstance(rows, list) and len(rows) == n_out
        expected = [[f"w{counter + j * n_in + k + 1}" for k in range(n_in)] for j in range(n_out)]
        assert list(rows) == expected and rows[-1] == expected[-1] and rows[1:3] == expected[1:3]
        counter += n_in * n_out
    assert list(lay.parameter_names()) == lay.parameters and len(lay.parameters) == lay.parameter_count
    assert lay.parameter_position("b_o2") == lay.parameter_count - 1
    for name in ["w0", "w01", f"w{counter + 1}", "b_h71", "b1", "wx", "w", "", "w1+", "w١"]:  # ١: an Arabic 1
        assert lay.parameter_position(name) is None
    assert isinstance(small.w[0], list)


def matrix_stage_reader(lay: Layout):  # the mapping a wide layout's stage_of is
    from bpcheck.reference.quantities import StageOf

    return StageOf(lay)


# --- a wide case held by position -------------------------------------------------------------


def test_a_wide_drawn_case_holds_its_parameters_in_an_array():
    case, small = parse_case(case_text([70, 70, 2])), parse_case(case_text([7, 7, 2]))
    params = case.parameters
    assert isinstance(params, Positional) and params.array.nbytes == 8 * case.layout.parameter_count
    assert isinstance(small.parameters, dict) and isinstance(small.decimals.parameters, dict)
    drawn = initialize(case.layout, {"name": "normal", "seed": 1, "scale": 0.05})
    assert params == drawn and drawn == params and dict(params) == drawn and list(params) == list(drawn)
    assert (
        list(params.items())[-3:] == list(drawn.items())[-3:] and list(params.values())[:3] == list(drawn.values())[:3]
    )
    assert params["w5"] == drawn["w5"] and type(params["w5"]) is float and "b_o2" in params and "w0" not in params
    with pytest.raises(KeyError):
        params["w99999"]
    d = case.decimals.parameters
    assert isinstance(d, DrawnDecimals) and d["w5"] == Decimal(repr(drawn["w5"])) and len(d) == len(drawn)
    assert pickle.loads(pickle.dumps(case)) == case
    assert rounded_parameters(case, "float64") == drawn
    f32 = rounded_parameters(case, "float32")
    assert isinstance(f32, Positional) and f32 == {p: float(np.float32(v)) for p, v in drawn.items()}


def test_a_positional_edited_is_a_dict():
    lay = parse_case(case_text([70, 70, 2])).layout
    start, end = lay.span("gradients")
    got = Positional(lay, np.arange(end - start, dtype=float), start)
    names = list(got)
    assert names == list(itertools.islice(lay.step_names(), start, end)) and got[names[3]] == 3.0
    assert got.intact and len(got) == end - start
    got[names[5]] *= 1.5
    del got[names[-1]]
    got[names[7]] = "broken"
    assert not got.intact and got[names[5]] == 7.5 and names[-1] not in got and got[names[7]] == "broken"
    assert len(got) == end - start - 1 and list(got)[:3] == names[:3]


def test_exact_values_hold_every_value_exactly():
    a = arith.exact()
    rng = np.random.default_rng(5)
    with a.context():
        values = [a.num(1.0) / 3, -a.exp(a.num(0.5)) * 1e-300, a.num(0.1) * 2.0**-1070, a.num(10.0) ** 400]
        values += [a.num(0.0), -a.num(0.0), a.num(0.25), -a.num(2.0**-1074), a.num(math.inf), a.num(math.nan)]
        values += [a.exp(a.num(float(x))) * float(y) for x, y in rng.normal(size=(200, 2))]
    held = ExactValues().extend(values[:7], a).extend(iter(values[7:]), a)
    assert len(held) == len(values) and set(held._kept) == {1, 2, 3, 9}  # rests under subnormals, huge, nan
    for k, v in enumerate(values):
        got = held[k]
        assert type(got) is type(v) and str(got) == str(v) and (got == v or v != v)
        assert held.floats[k] == float(v) or v != v
    eq = held.equal_to(np.arange(len(values)), np.array([float(v) for v in values]))
    assert eq.tolist() == [bool(v == float(v)) for v in values]


@pytest.mark.parametrize(
    ("sizes", "examples", "net"),
    [
        ([70, 70, 2], 1, {}),
        ([60, 60, 40, 3], 2, {"config": "first", "loss": "softmax-ce", "activations": '["tanh", "relu", "identity"]'}),
        ([20, 80, 60, 2], 3, {"config": "first", "loss": "bce", "activations": '["sigmoid", "tanh", "sigmoid"]'}),
        ([60, 80, 1], 1, {"config": "gradient", "bias": "shared-per-layer"}),
    ],
)
def test_a_wide_case_row_by_row_has_the_full_values_and_bounds(monkeypatch, sizes, examples, net):
    """The wide path (rows made when read, exact values as expansions, radii straight into
    arrays) gives the very numbers of the full one (dicts by name), in both dtypes."""
    case = parse_case(case_text(sizes, examples, **net))
    monkeypatch.setattr(oracle, "NAMED_VALUES", 0)  # the row-by-row oracle, not the named one
    names = list(case.layout.step_names())
    for dtype in ["float64", "float32"]:
        exact, allowed = matrix.exact_values(case, dtype, False), matrix.allowances(case, dtype, False)
        held, floats, (radius, kink) = (
            matrix.step_exact(case, dtype),
            matrix.step_floats(case, dtype),
            matrix.step_bounds(case, dtype),
        )
        assert isinstance(held, ExactValues) and len(held) == len(names) == len(radius)
        for k, name in enumerate(names):
            e, b = exact[(name, case.default_config)], allowed[(name, case.default_config)]
            assert held[k] == e and str(held[k]) == str(e) and floats[k] == float(e), name
            assert radius[k] == b.radius and kink[k] == b.kink, name


# --- the compact path gives the same verdicts --------------------------------------------------


class Off(NumpyBackend):
    """numpy, with some values made wrong: far off, slightly off, missing, not a number."""

    def gradients(self, case, params, dtype, device):
        got = super().gradients(case, params, dtype, device)
        names = list(got)
        got[names[5]] *= 1.5
        got[names[-3]] = got[names[-3]] * (1 + 2**-40)
        del got[names[-1]]
        got[names[7]] = "broken"
        return got


@pytest.mark.parametrize(
    ("sizes", "examples", "net"),
    [
        ([70, 70, 2], 1, {}),
        ([60, 60, 40, 3], 2, {"config": "first", "loss": "softmax-ce", "activations": '["tanh", "relu", "identity"]'}),
        ([60, 80, 1], 1, {"config": "gradient", "bias": "shared-per-layer"}),
    ],
)
def test_the_compact_path_judges_as_the_full_one(sizes, examples, net):
    case = parse_case(case_text(sizes, examples, **net))
    assert matrix.wide(case)
    cell = Cell("numpy", "float64", "cpu")
    got = compact.compute(case, Off(), cell, False, "all", str)
    records = compact.records(case, cell, got, False)
    exact, allowed = matrix.exact_values(case, "float64", False), matrix.allowances(case, "float64", False)
    full = [
        judge(case, cell, t, got.get(k), exact[(t.quantity, t.config)], allowed[(t.quantity, t.config)])
        for k, t in enumerate(matrix.targets(case, False))
    ]
    kept = {r.quantity: r for r in records if count(r) == 1}
    assert sum(count(r) for r in records) == len(full) == case.layout.quantity_count
    for r in full:  # every value not a pass is recorded, as the full path records it
        if r.verdict != "pass":
            assert kept[r.quantity] == r
    assert all(kept[q] == next(r for r in full if r.quantity == q) for q in kept)
    assert sum(r.failed for r in records) == sum(r.failed for r in full) >= 3
    counted = {r.quantity for r in records if count(r) > 1}
    assert counted and all(q.startswith("(") for q in counted)


def test_certain_passes_are_never_a_pass_that_is_not():
    rng = np.random.default_rng(3)
    hi = rng.normal(size=2000)
    radius = np.abs(hi) * 2.0 ** rng.integers(-54, 2, 2000)
    values = hi + radius * rng.uniform(-1.2, 1.2, 2000)
    sure = compact.certain_passes(values, hi, radius, np.zeros(2000, bool))
    assert sure.any() and not sure.all()
    off = np.abs(values - hi)
    assert np.all(off[sure] < radius[sure]) and np.all(radius[sure] < np.abs(hi[sure]))


def test_a_wide_run_prints_counted_passes(tmp_path):
    path = write_case(tmp_path, [70, 70, 1])
    done = bpcheck("run", "--case", path, "--backend", "numpy", "--dtype", "float64", "--no-report", "--json")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert sum(r.get("count", 1) for r in records) == parse_case(case_text([70, 70, 1])).layout.quantity_count
    assert all(r["verdict"] == "pass" for r in records)


# --- memory per parameter ------------------------------------------------------------------------

MEASURE = """
import resource, sys
from bpcheck.cli import main
code = main(["run", "--case", sys.argv[1], "--backend", "numpy", "--dtype", "float64", "--no-trajectories",
             "--no-report", "--jobs", "1", "--allow-large"])
try:  # this process's own peak: ru_maxrss keeps the parent's when it was spawned from it (vfork)
    peak = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) * 1024
except (OSError, IndexError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(peak, file=sys.stderr)
sys.exit(code)
"""


def peak_bytes(tmp_path: Path, width: int) -> float:
    path = write_case(tmp_path, [width, width, 1])
    env = {**os.environ, "BPCHECK_ORACLE_CACHE": "off"}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, path], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return float(done.stderr.strip().splitlines()[-1])


def test_a_wide_run_holds_few_bytes_per_quantity(monkeypatch):
    """Every stage of a wide run, traced (Python's and NumPy's allocations): what it holds and its
    peak per quantity of one step stay near what the arrays by position need (32 bytes for an
    exact value, 9 for a bound, 9 for a backend's value; docs/limits.md), far from the dicts and
    objects per value that put [2000, 2000, 1] over 4 GB (about 350 bytes per quantity)."""
    monkeypatch.setattr(oracle, "NAMED_VALUES", 0)  # the oracle of millions of values, not the named one
    cell = Cell("numpy", "float64", "cpu")
    warm = parse_case(case_text([60, 60, 1]))  # every module imported before the count starts
    compact.records(warm, cell, compact.compute(warm, NumpyBackend(), cell, False, "all", str), False)
    text = case_text([100, 100, 1])
    tracemalloc.start()
    try:
        case = parse_case(text)
        q = case.layout.quantity_count
        got = compact.compute(case, NumpyBackend(), cell, False, "all", str)
        matrix.prepare(case, "float64", False)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
        records = compact.records(case, cell, got, False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sum(count(r) for r in records) == q and all(r.verdict == "pass" for r in records)
    assert held / q < 90, f"{held / q:.0f} bytes held per quantity (measured 56-65)"
    assert peak / q < 130, f"a peak of {peak / q:.0f} bytes per quantity (measured 83-92)"


@pytest.mark.slow
def test_memory_per_parameter_predicts_under_4_gb_at_4_million(tmp_path):
    """The issue: [2000, 2000, 1] (4,004,001 parameters) in under 4 GB. The peak RSS of a fresh
    `bpcheck run` at two widths: the bytes per added parameter between them put 4,004,001
    parameters under 3.5 GB, within the guard's own figure per parameter (bpcheck/size.py), and
    the guard's estimate is above each peak. Memory that grows back past the guard's constants
    fails here (1.08 KB per parameter did: 4.4 GB)."""
    widths = (300, 800)
    cases = [parse_case(case_text([w, w, 1])) for w in widths]
    (p1, p2), (q1, q2) = ([getattr(c.layout, f) for c in cases] for f in ("parameter_count", "quantity_count"))
    a, b = peak_bytes(tmp_path, widths[0]), peak_bytes(tmp_path, widths[1])
    slope = (b - a) / (p2 - p1)
    predicted = b + slope * (4_004_001 - p2)
    assert predicted < 3.5 * 2**30, f"{slope:.0f} bytes per parameter predict {predicted / 2**30:.2f} GB"
    per_quantity = size.BYTES_PER_QUANTITY + size.BYTES_PER_CELL_QUANTITY  # one dtype, one backend
    guard_slope = size.BYTES_PER_PARAMETER + per_quantity * (q2 - q1) / (p2 - p1)
    assert slope < guard_slope, f"{slope:.0f} bytes per parameter, the guard counts {guard_slope:.0f}"
    for case, peak in zip(cases, (a, b)):
        assert size.crosscheck([case], 1, 1, trajectories=False).bytes > peak


# --- progress ------------------------------------------------------------------------------------


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_the_time_left_on_a_terminal():
    now = [100.0]
    stream = Tty()
    p = Progress(4, stream=stream, clock=lambda: now[0])
    p.show("starting")
    assert "left" not in stream.getvalue()  # no pace yet
    now[0] += 30
    p.tick("one")
    assert "1/4" in stream.getvalue() and "1:30 left" in stream.getvalue()
    now[0] += 10
    p.tick("two")
    assert "0:40 left" in stream.getvalue()  # 40 s for 2 done: 20 s each, 2 to go
    p.close()


def test_progress_is_quiet_when_stderr_is_not_a_terminal_and_the_work_is_quick():
    stream = io.StringIO()
    p = Progress(2, stream=stream)
    p.tick("one")
    p.close()
    assert stream.getvalue() == ""


def test_progress_writes_plain_lines_with_the_time_left_when_not_a_terminal_and_the_work_is_long():
    now = [0.0]
    stream = io.StringIO()
    p = Progress(10, stream=stream, clock=lambda: now[0])
    p.tick("a")  # at once: nothing yet
    assert stream.getvalue() == ""
    now[0] = Progress.QUIET_FOR + 1  # 3 s for 2 of 10: 12 s left
    p.tick("b")
    assert stream.getvalue() == "bpcheck: 2/10 b, 0:12 left\n"
    now[0] += 1
    p.tick("c")  # a second later: no second line so soon
    assert stream.getvalue().count("\n") == 1
    now[0] += Progress.LINE_EVERY
    p.tick("d")
    assert stream.getvalue().splitlines()[-1].startswith("bpcheck: 4/10 d, ")
    p.close()
    assert "\r" not in stream.getvalue()


def test_run_ticks_through_the_engine(monkeypatch):
    labels: list[str] = []
    monkeypatch.setattr(Progress, "tick", lambda self, label="": labels.append(label))
    assert main(["run", "--backend", "numpy", "--dtype", "float64", "--no-report", "--no-trajectories"]) == 0
    assert labels == ["numpy-float64"]


def test_crosscheck_passes_ticks():
    seen: list[str] = []
    from bpcheck.reference.case import load_case

    engine.crosscheck([load_case("mazur-2015")], ["numpy"], ["float64"], trajectories=False, tick=seen.append)
    assert seen == ["numpy-float64"]


def test_work_estimated_over_a_minute_says_so_before_it_starts(capsys):
    from bpcheck import size

    size.guard(size.Estimate(seconds=size.SAY_AFTER * 1.5, bytes=1.0, work="9 parameters"), allow=False)
    assert capsys.readouterr().err == "bpcheck: estimated 90 s for 9 parameters\n"
    size.guard(size.Estimate(seconds=size.SAY_AFTER / 2, bytes=1.0, work="9 parameters"), allow=False)
    assert capsys.readouterr().err == ""
