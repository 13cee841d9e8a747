"""Bad input, faults and unsafe paths (issue 12). What is required, whatever a backend does:

- anything a plug-in raises (an exception, SystemExit, its own KeyboardInterrupt) or returns
  instead of numbers (NaN, inf, None, strings, a list, too few quantities, arrays) is a failed
  cell with the reason: never a pass, never a traceback, in worker processes and in-process;
- a backend that cannot run (devices() raises or names no device, its import raises anything)
  is 'unavailable: <reason>', and `verify --backend` of it is not a success;
- overflow is a value, not a crash: an exact value beyond the dtype's range is ill-conditioned
  (a correct value does not fail, a wrong one does not pass), a non-finite value of a finite
  exact one fails unless the error model says a correct evaluation may overflow;
- a real Ctrl-C stops the run: one line, exit 130, no worker left behind; killing bpcheck
  with SIGKILL leaves no worker behind either.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import gmpy2
import pytest

from bpcheck import backends, engine, matrix
from bpcheck.backends import faults
from bpcheck.cli import main
from bpcheck.judge import Cell, judge
from bpcheck.reference import arith, backprop, bounds, oracle
from bpcheck.reference.case import load_case
from bpcheck.reference.tolerance import Allowance, ruling
from bpcheck.reference.trace import train
from bpcheck.reference.ulps import largest, ulp, ulps
from tests import faulty_plugins as fp

#: Its module-scoped fixtures are computed once: pytest-xdist (--dist loadgroup) keeps the file in one worker.
pytestmark = pytest.mark.xdist_group("faults")

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "overflow_cases"
POST = load_case("mazur-2015")
GRADIENTS = {q.name for q in POST.layout.step_quantities if q.stage in ("output-chain", "hidden-chain", "gradient")}
ALL_FAULTS = [*fp.FAILING, *fp.UNAVAILABLE]


def _path(cls: type) -> str:
    return f"tests.faulty_plugins:{cls.__name__}"


@pytest.fixture(scope="module")
def registered():
    """Every faulty plug-in registered by name (so the engine can send it to a worker)."""
    names = {cls: cls.name for cls in [*ALL_FAULTS, fp.TrainReturnsNone, fp.Dies]}
    for cls, name in names.items():
        backends.register(name, _path(cls))
    yield names
    for name in names.values():
        backends.unregister(name)


def _workers(case, names: list[str], dtypes=matrix.DTYPES, trajectories: bool = False) -> engine.Outcome:
    """crosscheck in two worker processes (asserting that it does use them)."""
    run = engine.Engine([case], names, dtypes, jobs=2, trajectories=trajectories)
    assert run.pool is not None, "this should run in worker processes"
    computed = run.result()
    return engine.Outcome(engine.records_of(case, computed, dtypes, trajectories), computed.unavailable)


@pytest.fixture(scope="module")
def in_workers(registered):
    """One run of every fault in two worker processes."""
    return _workers(POST, [registered[c] for c in ALL_FAULTS])


@pytest.fixture(scope="module")
def in_process():
    """One run of every fault as an object, in this process."""
    return engine.crosscheck([POST], [cls() for cls in ALL_FAULTS], jobs=1, trajectories=False)


@pytest.fixture(scope="module")
def unpicklable():
    """Every fault as an object that cannot be sent to a worker: in-process even with two jobs."""
    objects = [fp.Unpicklable(cls()) for cls in ALL_FAULTS]
    assert not engine._sendable(objects)
    return engine.crosscheck([POST], objects, jobs=2, trajectories=False)


MODES = ["in_workers", "in_process", "unpicklable"]


def _name(cls: type, mode: str) -> str:
    return cls.name + ("-unpicklable" if mode == "unpicklable" else "")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cls", list(fp.FAILING), ids=lambda c: c.__name__)
def test_a_misbehaving_plugin_is_a_failed_cell_with_the_reason(request, mode, cls):
    outcome = request.getfixturevalue(mode)
    name, reason = _name(cls, mode), fp.FAILING[cls]
    records = [r for r in outcome.records if r.backend == name]
    assert name not in outcome.unavailable
    assert {r.dtype for r in records} == set(matrix.DTYPES)
    failed = [r for r in records if r.failed]
    assert failed, f"{name}: nothing failed"
    for r in failed:
        assert r.value is None and reason in (r.error or ""), r.describe()
    gradients = [r for r in records if r.quantity in GRADIENTS]
    passed = {r.quantity for r in gradients if not r.failed}
    assert len(passed) <= (1 if cls is fp.ReturnsTooFew else 0), passed  # the one gradient it kept is right


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cls", list(fp.UNAVAILABLE), ids=lambda c: c.__name__)
def test_a_plugin_without_a_device_is_unavailable_with_the_reason(request, mode, cls):
    outcome = request.getfixturevalue(mode)
    name = _name(cls, mode)
    assert outcome.unavailable.get(name) == fp.UNAVAILABLE[cls]
    assert not [r for r in outcome.records if r.backend == name]


def test_a_worker_that_dies_leaves_its_backends_unavailable_not_a_crash(registered):
    outcome = _workers(POST, [registered[fp.Dies], "numpy"], ["float64"])
    assert outcome.unavailable[registered[fp.Dies]].startswith("unavailable: its worker failed")


def test_the_environment_record_of_a_plugin_whose_devices_raise_says_why(registered):
    from bpcheck.reporting.environment import backend_settings

    found = backend_settings(registered[fp.DevicesRaise])
    assert found == {"status": "available", "settings_error": "RuntimeError: no driver found"}


@pytest.mark.parametrize("workers", [False, True])
def test_a_train_that_returns_none_fails_its_trajectory_values(registered, workers):
    case, name = load_case("vanishing-identity"), registered[fp.TrainReturnsNone]
    if workers:
        outcome = _workers(case, [name], trajectories=True)
    else:
        outcome = engine.crosscheck([case], [name], jobs=1)
    after = [r for r in outcome.records if "@" in r.quantity]
    assert after and all(r.failed and "train() returned NoneType None" in (r.error or "") for r in after)
    assert all(not r.failed for r in outcome.records if "@" not in r.quantity)  # its single step is right


@pytest.mark.slow  # imports torch
def test_a_torch_tensor_is_not_a_number():
    pytest.importorskip("torch")
    outcome = engine.crosscheck([POST], [fp.ReturnsTensors()], ["float64"], jobs=1, trajectories=False)
    gradients = [r for r in outcome.records if r.quantity in GRADIENTS]
    assert gradients and all(r.failed and "not a number: Tensor" in (r.error or "") for r in gradients)


# --- verify --backend: exit 1 with the reason, no traceback ------------------------------------


@pytest.mark.parametrize("cls", ALL_FAULTS, ids=lambda c: c.__name__)
def test_verify_of_a_misbehaving_plugin_exits_1_with_the_reason(capsys, cls):
    code = main(["verify", "--backend", _path(cls), "--case", "mazur-2015", "--no-trajectories"])
    out, err = capsys.readouterr()
    reason = fp.FAILING.get(cls) or fp.UNAVAILABLE[cls].removeprefix("unavailable: ")
    assert code == 1, out
    assert reason in out
    assert "Traceback" not in err + out and "interrupted" not in err


def test_verify_json_of_a_plugin_that_calls_sys_exit_is_json_of_failed_cells(capsys):
    code = main(["verify", "--backend", _path(fp.Exits), "--case", "mazur-2015", "--no-trajectories", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["summary"]["failed"] == doc["summary"]["cells"] == 2
    assert all(c["error"] == "SystemExit: 0" for c in doc["cells"])


@pytest.mark.parametrize(
    "body, reason",
    [
        ("import sys\nsys.exit(0)\n", "cannot import {m}: SystemExit: 0"),
        ("raise KeyboardInterrupt\n", "cannot import {m}: KeyboardInterrupt"),
        ("class B:\n    def __init__(self):\n        raise SystemExit(2)\n", "{m}:B() raised SystemExit: 2"),
    ],
)
def test_verify_of_a_plugin_that_exits_while_loading_is_a_usage_error(capsys, tmp_path, monkeypatch, body, reason):
    module = f"exits_{abs(hash(body))}"
    (tmp_path / f"{module}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    code = main(["verify", "--backend", f"{module}:B", "--case", "mazur-2015", "--no-trajectories"])
    err = capsys.readouterr().err
    assert code == 2 and err == f"bpcheck: error: {reason.format(m=module)}\n"


# --- a real interrupt still stops the run ---------------------------------------------------


@pytest.fixture
def default_sigint():
    """Python's own SIGINT handler for the test, as in a terminal, even when the session was started
    with SIGINT ignored (a background job of a non-interactive shell)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.mark.usefixtures("default_sigint")
@pytest.mark.parametrize("cls", [fp.SignalsItself, fp.SwallowsTheInterrupt], ids=lambda c: c.__name__)
def test_a_real_sigint_inside_a_plugin_stops_the_run(capsys, cls):
    """The plug-in is running when SIGINT arrives (it sends it itself): not its failure but the
    user's Ctrl-C, even when the plug-in catches it."""
    code = main(["verify", "--backend", _path(cls), "--case", "mazur-2015", "--no-trajectories", "--dtype", "float64"])
    out, err = capsys.readouterr()
    assert (code, err) == (130, "bpcheck: interrupted\n"), out
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    assert not faults.interrupted()


# --- import failures of any kind are 'unavailable: reason' ------------------------------------

IMPORT_FAILURES = {
    "raises_runtime_error": (
        "raise RuntimeError('jaxlib version 0.4.1 is older than jax 0.10 requires\\nreinstall')\n",
        "unavailable: RuntimeError: jaxlib version 0.4.1 is older than jax 0.10 requires",
    ),
    "raises_os_error": (
        "raise OSError('libcudart.so.12: cannot open shared object file: No such file or directory')\n",
        "unavailable: OSError: libcudart.so.12: cannot open shared object file: No such file or directory",
    ),
    "has_a_syntax_error": ("def broken(:\n    pass\n", "unavailable: SyntaxError: "),
    "exits_on_import": ("import sys\nsys.exit(3)\n", "unavailable: SystemExit: 3"),
    "interrupts_its_import": ("raise KeyboardInterrupt\n", "unavailable: KeyboardInterrupt"),
    "factory_raises": (
        "def Backend():\n    raise ValueError('needs a licence key')\n",
        "unavailable: ValueError: needs a licence key",
    ),
}


def _states(listing: str) -> dict[str, str]:
    """`bpcheck backends --probe`'s lines as name -> state, the versions after it left out."""
    return {name: rest.split("  (")[0] for name, _, rest in (line.partition(": ") for line in listing.splitlines())}


@pytest.fixture
def import_failures(tmp_path, monkeypatch):
    """A registry of numpy and one backend per kind of import failure (modules written here,
    so the syntax error is real); name -> the status it must have."""
    for module, (body, _) in IMPORT_FAILURES.items():
        (tmp_path / f"{module}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = {"numpy": backends.declaration("numpy")}
    for module in IMPORT_FAILURES:
        registry[module] = replace(registry["numpy"], name=module, family=module, factory=f"{module}:Backend")
    monkeypatch.setattr(backends, "_REGISTRY", registry)
    monkeypatch.setattr(backends, "_LOADED", {})
    return {module: status for module, (_, status) in IMPORT_FAILURES.items()}


def test_bpcheck_backends_probe_lists_every_import_failure_as_unavailable(capsys, import_failures):
    assert main(["backends", "--probe"]) == 0
    out, err = capsys.readouterr()
    lines = _states(out)
    assert lines["numpy"] == "available"
    for name, status in import_failures.items():
        assert lines[name].startswith(status), lines[name]
    assert "Traceback" not in err


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_bpcheck_run_names_every_import_failure_and_checks_the_rest(capsys, tmp_path, import_failures, jobs):
    code = main(["run", "--no-trajectories", "--dtype", "float64", "--jobs", jobs, "--out", str(tmp_path / "r")])
    out, err = capsys.readouterr()
    assert code == 0 and "mazur-2015  float64  cpu: " in out and " 0 failing" in out
    not_run = " ".join(out.split("not run: ")[1].split())  # as one line, however the table wrapped it
    for name, status in import_failures.items():
        assert f"{name}: {status}" in not_run
    assert "Traceback" not in err


def test_bpcheck_run_of_a_backend_whose_import_fails_is_one_line(capsys, import_failures):
    assert main(["run", "--backend", "raises_os_error", "--no-report", "--jobs", "1"]) == 2
    assert capsys.readouterr().err == (
        "bpcheck: error: backend raises_os_error is unavailable: OSError: libcudart.so.12: cannot open shared "
        "object file: No such file or directory\n"
    )


def test_a_framework_whose_import_raises_is_unavailable_in_bpcheck_backends():
    """The frameworks themselves, their imports made to fail as a jax/jaxlib mismatch and a missing
    CUDA library do (an import hook in a fresh process)."""
    code = textwrap.dedent(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                top = name.partition('.')[0]
                if top == 'jax':
                    raise RuntimeError('jaxlib is version 0.4.1, but this version of jax requires 0.10')
                if top == 'torch':
                    raise OSError('libcudart.so.12: cannot open shared object file')
                if top in ('tensorflow', 'autograd'):
                    raise SystemExit(1)
        sys.meta_path.insert(0, Block())
        from bpcheck.cli import main
        sys.exit(main(['backends', '--probe']))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    lines = _states(proc.stdout)
    assert lines["numpy"] == "available"
    mismatch = "unavailable: RuntimeError: jaxlib is version 0.4.1, but this version of jax requires 0.10"
    assert lines["jax"] == lines["jax-jit"] == mismatch
    for name in ("torch", "torch-func", "torch-compile"):
        assert lines[name] == "unavailable: OSError: libcudart.so.12: cannot open shared object file"
    assert lines["tensorflow"] == lines["autograd"] == "unavailable: SystemExit: 1"


# --- overflow: values, not crashes ------------------------------------------------------------


def test_ulps_take_inf_nan_and_values_beyond_the_range():
    for dtype in ("float64", "float32"):
        top = ulp(largest(dtype), dtype)
        assert ulp(math.inf, dtype) == ulp(largest(dtype) * 2 if dtype == "float32" else math.inf, dtype) == top
        assert ulp(gmpy2.mpfr("1e500"), dtype) == top > 0
        assert math.isnan(ulp(math.nan, dtype))
        assert ulps(math.inf, 1.0, dtype) == math.inf
    assert ulp(2.0**127, "float32") == 2.0 ** (127 - 23)


def test_the_float64_reference_overflows_as_ieee_does():
    assert arith.exp64(1000.0) == math.inf and arith.squared(1e200) == math.inf
    assert backprop.logistic(-2000.0, arith.FLOAT64) == 0.0
    assert backprop.squared_error(0.0, 1e200, arith.FLOAT64) == math.inf
    case = load_case(str(CASES / "float64-divergence.toml"))
    params = {p: float(v) for p, v in case.parameters.items()}
    trained = train(case, params, case.config, 1000, arith.FLOAT64)
    assert not all(math.isfinite(v) for v in trained.params.values())
    assert not math.isfinite(trained.losses[-1])


def test_the_error_model_says_a_float32_sum_beyond_the_range_may_overflow():
    a = bounds.arithmetic("float32")
    big = a.num(3e38)
    assert math.isfinite((big * a.num(1.0)).r)
    assert (big + big).r == math.inf  # 6e38: a float32 evaluation overflows
    assert (big + big - big).r == math.inf  # the float64 mid, 3e38, is finite: its partial sum was not
    assert math.isfinite((a.num(3e18) * a.num(3e18)).r) and (a.num(3e19) * a.num(3e19)).r == math.inf


def _run(case_file: str, dtypes=matrix.DTYPES):
    case = load_case(str(CASES / case_file))
    outcome = engine.crosscheck([case], ["numpy", "reference"], dtypes, jobs=1)
    assert not outcome.unavailable
    return case, {(r.backend, r.dtype, r.quantity): r for r in outcome.records}


def _exact(case, dtype: str, quantity: str):
    target = next(t for t in matrix.targets(case) if t.quantity == quantity)
    key = (target.quantity, target.config)
    return target, matrix.exact_values(case, dtype)[key], matrix.allowances(case, dtype)[key]


def test_float32_overflow_in_the_forward_pass_is_ill_conditioned_never_fail():
    case, records = _run("float32-forward-overflow.toml")
    assert not [r.describe() for r in records.values() if r.failed]
    for backend in ("numpy", "reference"):
        r = records[(backend, "float32", "net_h1")]  # 9e38 > float32's 3.4e38
        assert r.verdict == "ill-conditioned" and r.error == "not a finite number: inf"
        assert "beyond float32's range" in (r.reason or "") and r.ulps is None and r.allowed_ulps is None
        assert records[(backend, "float64", "net_h1")].verdict == "pass"
    target, exact, allowance = _exact(case, "float32", "net_h1")
    for wrong in (5.0, -math.inf, math.nan):  # no value can pass against an exact value float32 cannot hold
        assert judge(case, Cell("x", "float32", "cpu"), target, wrong, exact, allowance).verdict == "ill-conditioned"


def test_float64_divergence_in_training_is_ill_conditioned_never_a_crash():
    case, records = _run("float64-divergence.toml")
    assert not [r.describe() for r in records.values() if r.failed]
    after = [r for r in records.values() if r.quantity.endswith("@1000")]
    assert len(after) == 2 * 2 * 3
    for r in after:
        assert r.verdict == "ill-conditioned" and f"beyond {r.dtype}'s range" in (r.reason or ""), r.describe()
    assert records[("reference", "float64", "w1+")].verdict == "pass"  # one step is still in range


def test_nan_from_inf_minus_inf_in_float32_where_the_exact_value_is_finite():
    case, records = _run("float32-inf-minus-inf.toml")
    assert not [r.describe() for r in records.values() if r.failed]
    for backend in ("numpy", "reference"):
        r = records[(backend, "float32", "E_total")]  # exact 0.5; float32 computes inf - inf
        assert r.exact == "0.5" and r.error == "not a finite number: nan"
        assert r.verdict == "ill-conditioned" and "may overflow" in (r.reason or "")
        assert records[(backend, "float64", "E_total")].verdict == "pass"
    # where the error model's bound is finite, a NaN for a finite exact value fails, with the reason
    target, exact, allowance = _exact(case, "float64", "E_total")
    record = judge(case, Cell("x", "float64", "cpu"), target, math.nan, exact, allowance)
    assert record.failed and record.error == "not a finite number: nan"
    assert record.reason == "nan where the exact value is finite in float64"
    assert "nan where the exact value is finite" in record.describe()


def test_underflow_to_zero_is_ill_conditioned_never_pass_or_fail():
    case, records = _run("underflow-to-zero.toml")
    assert not [r.describe() for r in records.values() if r.failed]
    for backend in ("numpy", "reference"):
        r = records[(backend, "float32", "dE_total/dw1")]  # exact 1e-60, below float32's subnormals
        assert (r.value, r.verdict) == (0.0, "ill-conditioned")
        assert records[(backend, "float64", "dE_total/dw1")].verdict == "pass"
    target, exact, allowance = _exact(case, "float32", "dE_total/dw1")
    assert judge(case, Cell("x", "float32", "cpu"), target, -1e-30, exact, allowance).failed


def test_a_zero_for_a_value_below_float64s_resolution_is_not_pass():
    tiny = gmpy2.mpfr("1e-400", 200)
    eta = bounds.ETA["float64"]
    assert ruling(0.0, tiny, Allowance(eta, eta), "float64")[0] == "ill-conditioned"


def test_the_posts_network_with_a_sigmoid_overflowing_exp():
    case, records = _run("sigmoid-exp-overflow.toml")
    assert not [r.describe() for r in records.values() if r.failed]
    assert records[("reference", "float64", "out_h1")].value == 0.0
    assert records[("reference", "float64", "out_h1")].verdict == "ill-conditioned"


def test_an_exact_value_that_overflows_even_the_oracle_is_ill_conditioned_and_not_cached(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("BPCHECK_ORACLE_CACHE", str(tmp_path))
    case, records = _run("oracle-overflow.toml")
    assert not [r.describe() for r in records.values() if r.failed]
    for dtype in matrix.DTYPES:
        r = records[("reference", dtype, "w1@30")]
        assert r.exact == "NaN" and r.verdict == "ill-conditioned" and "exact value undefined" in (r.reason or "")
    monkeypatch.setattr(oracle, "_MEMORY", {})  # again, from the disk cache: nothing there to refuse
    _run("oracle-overflow.toml")
    assert capsys.readouterr().err == ""


def test_the_json_of_an_overflowing_run_is_strict_json(capsys, tmp_path):
    case = str(CASES / "float32-forward-overflow.toml")
    code = main(["run", "--case", case, "--backend", "numpy", "--jobs", "1", "--json", "--out", str(tmp_path)])
    out = capsys.readouterr().out

    def refuse(token: str) -> None:
        raise AssertionError(f"{token} is not JSON")

    records = json.loads(out, parse_constant=refuse)
    assert code == 0 and any(r["reason"] for r in records)
    json.loads((tmp_path / "results.json").read_text(), parse_constant=refuse)


@pytest.mark.slow  # draws the pictures
def test_the_report_of_a_diverging_run_is_strict_json(tmp_path):
    case = str(CASES / "float64-divergence.toml")
    out = str(tmp_path / "r")
    assert main(["report", "--case", case, "--backend", "numpy,reference", "--out", out, "--jobs", "1", "--quiet"]) == 0

    def refuse(token: str) -> None:
        raise AssertionError(f"{token} is not JSON")

    doc = json.loads((tmp_path / "r" / "results.json").read_text(), parse_constant=refuse)
    assert any(None in c["values"] for c in doc["curves"])  # the overflowed steps: gaps in the picture


# --- processes: Ctrl-C and SIGKILL leave nothing behind ---------------------------------------

on_linux = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

SLEEPY_RUN = textwrap.dedent(
    """
    import sys
    from bpcheck import backends, cli
    backends.register("sleeps", "tests.faulty_plugins:Sleeps")
    sys.argv = ["bpcheck", "run", "--backend", "sleeps,numpy", "--jobs", "2", "--no-report", "--no-trajectories"]
    sys.exit(cli.main())
    """
)


DEFAULT_SIGINT_THEN_EXEC = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) and st[1] == pid:
            found.add(int(entry.name))
    return found


def _running(pids: set[int]) -> set[int]:
    return {p for p in pids if (st := _stat(p)) is not None and st[0] not in ("Z", "X")}


def _wait_gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while _running(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _running(pids)


@pytest.fixture
def reaped():
    """Pids a test started, killed at its end whatever happened (a failing test leaves no orphan)."""
    pids: set[int] = set()
    yield pids
    for pid in _running(pids):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _start(code: list[str], tmp_path: Path, **kwargs) -> tuple[subprocess.Popen[str], set[int]]:
    """Starts bpcheck and waits until the sleeping plug-in is running; returns its children.
    SIGINT is given back its default first (then the process execs bpcheck, keeping its pid), as
    a terminal's shell does: a test session started with SIGINT ignored (a background job of a
    non-interactive shell, as a CI script may be) passes that on, and Python then installs no
    KeyboardInterrupt, so the test would wait for an interrupt that never comes."""
    marker = tmp_path / "inside"
    env = {**os.environ, "BPCHECK_TEST_MARKER": str(marker)}
    argv = [sys.executable, "-c", DEFAULT_SIGINT_THEN_EXEC, *code]
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the plug-in never started"
        time.sleep(0.05)
    return proc, _children(proc.pid)


@on_linux
@pytest.mark.slow
def test_sigkill_of_bpcheck_leaves_no_worker_behind(tmp_path, reaped):
    proc, children = _start([sys.executable, "-c", SLEEPY_RUN], tmp_path)
    reaped |= children
    assert len(children) >= 2, "two workers (and the resource tracker) expected"
    proc.kill()
    proc.wait()
    assert not _wait_gone(children, 5.0), "workers outlived their parent"


@on_linux
@pytest.mark.slow
def test_ctrl_c_with_workers_is_one_line_exit_130_and_no_orphan(tmp_path, reaped):
    proc, children = _start([sys.executable, "-c", SLEEPY_RUN], tmp_path, start_new_session=True)
    reaped |= children | {proc.pid}
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: to bpcheck and its workers alike
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (130, "bpcheck: interrupted\n"), err
    assert not _wait_gone(children, 5.0), "workers outlived the interrupt"


@on_linux
def test_ctrl_c_inside_an_in_process_plugin_is_one_line_exit_130(tmp_path, reaped):
    bpcheck = Path(sys.executable).with_name("bpcheck")
    argv = [str(bpcheck), "verify", "--backend", _path(fp.Sleeps), "--case", "mazur-2015", "--no-trajectories"]
    proc, _ = _start(argv, tmp_path, start_new_session=True)
    reaped.add(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (130, "bpcheck: interrupted\n"), err
