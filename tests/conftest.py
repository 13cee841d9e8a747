"""The matrix's axes (backend x dtype x device x quantity) and its values, each computed once.

`--backends a,b` runs the matrix on those backends only (any registered name, e.g. the
deliberately wrong ones of tests/broken_backends.py); by default, every bundled backend and
execution mode, an uninstalled one being skipped with its reason, and so is an accelerator
column (torch-float64-cuda, jax-float64-gpu) on a machine without one. `--cases a,b` narrows
the bundled cases.

Slow checks (bpcheck/cost.py: torch-compile, eager jax, training runs estimated over 2 s) carry
the `slow` mark: the default run (`-m "not slow"`, pyproject.toml) leaves them out and
`pytest -m slow` runs only them; only the part selected is computed.

Parallel runs use pytest-xdist (`./bpcheck.sh test` is `pytest -n auto`; `--dist loadgroup` is in
pyproject.toml): a backend's tests form a group, so one worker imports its framework, and
tests/matrix_values.py computes each backend's values once in the run, shared between the workers.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from bpcheck import backends, cost, matrix
from bpcheck.reference.case import MAIN_CASE, Case, bundled_cases, load_case
from tests import broken_backends
from tests.helpers import common_keys
from tests.matrix_values import ByCase, MatrixValues, columns

CASE = MAIN_CASE

# Hypothesis: a fixed seed and few examples by default; `--hypothesis-profile=thorough` for thousands.
# No explain phase: it traces every line of a failing example's rerun, which takes minutes
# through the 60-digit oracle (and crashed once); the shrunk example and its case file suffice.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
settings.register_profile(
    "default", derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), phases=PHASES
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck), phases=PHASES
)
settings.load_profile("default")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backends", default=None, help="comma-separated backend names for the matrix")
    parser.addoption("--no-trajectories", action="store_true", help="leave out the 10,000-step figures")
    parser.addoption("--cases", default=None, help="comma-separated bundled case names (default: all)")


def pytest_configure(config: pytest.Config) -> None:
    """Registers the broken backends and the matrix's lazy values (tests/matrix_values.py): a
    backend is computed when a test first needs it, once in the run. Under pytest-xdist the
    controller makes the folder its workers share them through, and each worker runs its
    frameworks on one thread (the workers already fill the cores)."""
    broken_backends.register_all()
    config.addinivalue_line("markers", "xdist_group(name): pytest-xdist's --dist loadgroup runs a group in one worker")
    shared = _shared_folder(config)
    if hasattr(config, "workerinput"):
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ.setdefault(var, "1")
    cases = [load_case(name) for name in matrix_cases(config)]
    trajectories = not config.getoption("--no-trajectories")
    config._matrix = MatrixValues(cases, matrix_backends(config), trajectories, selected_part(config), shared)


def _shared_folder(config: pytest.Config) -> Path | None:
    """Where this run's xdist workers share computed values: made by the controller, handed to
    each worker in its workerinput; None without xdist."""
    if hasattr(config, "workerinput"):
        found = config.workerinput.get("bpcheck_values")
        return Path(found) if found else None
    if not getattr(config.option, "numprocesses", None) or getattr(config.option, "dist", "no") == "no":
        return None
    folder = Path(tempfile.mkdtemp(prefix="bpcheck-values-"))
    config._shared_values, config._fuzz_counts = folder, Counter()

    class Share:
        @staticmethod
        def pytest_configure_node(node: Any) -> None:
            node.workerinput["bpcheck_values"] = str(folder)

        @staticmethod
        def pytest_testnodedown(node: Any, error: Any) -> None:
            config._fuzz_counts.update(getattr(node, "workeroutput", {}).get("bpcheck_fuzz", {}))

    config.pluginmanager.register(Share(), "bpcheck-shared-values")
    return folder


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test parametrized by a bundled backend (or its module, `torch_backend`) joins that
    backend's xdist group, so its framework is imported in the worker that computes the backend.
    Without xdist, the self-check's own pytest starts now, to run beside the suite (under xdist
    the worker that runs it starts it: every worker collects every test)."""
    modules = {name.replace("-", "_") + "_backend": name for name in matrix.BUNDLED}
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        named = [modules.get(v, v) for v in params.values() if isinstance(v, str)]
        found = next((n for n in named if n in matrix.BUNDLED), None)
        if found and not any(item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(found))
    if hasattr(config, "workerinput") or config._matrix.shared is not None:
        return
    if any(item.path.name == "test_self_check.py" for item in items):
        from tests.test_self_check import start_broken_run

        config._broken_run = start_broken_run()


def pytest_unconfigure(config: pytest.Config) -> None:
    proc = getattr(config, "_broken_run", None)
    if proc is not None and proc.poll() is None:
        proc.kill()
    folder = getattr(config, "_shared_values", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker hands its fuzz count to the controller (Share.pytest_testnodedown)."""
    if hasattr(session.config, "workeroutput"):
        from tests.test_fuzz import GENERATED

        session.config.workeroutput["bpcheck_fuzz"] = dict(GENERATED)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many inputs the fuzz tests generated (the count of a thorough run is recorded), in
    this process or, under xdist, in its workers."""
    from tests.test_fuzz import GENERATED

    found = GENERATED + getattr(terminalreporter.config, "_fuzz_counts", Counter())
    if found:
        counts = ", ".join(f"{n:,} {kind}" for kind, n in found.items())
        terminalreporter.write_line(f"fuzz: {sum(found.values()):,} generated inputs ({counts})")


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """A long string (a whole file's text) is named by its argument in a test id, as pytest 9.2 does,
    not spelled out: pytest 9.1 (pinned, constraints.txt) would put all of it there."""
    if isinstance(val, str) and len(val) > 100:
        return argname
    return None


def selected_part(config: pytest.Config) -> str:
    """ "fast", "slow" or "all": which checks the `-m` expression keeps."""
    markexpr = config.getoption("markexpr", "") or ""
    if not markexpr:
        return "all"
    try:
        from _pytest.mark.expression import Expression

        expr = Expression.compile(markexpr)
        fast, slow = expr.evaluate(lambda m, **_: False), expr.evaluate(lambda m, **_: m == "slow")
    except Exception:  # a private pytest API: when it changes, compute everything
        return "all"
    return "all" if fast and slow else "fast" if fast else "slow" if slow else "none"


def slow_marks(backend: str, updates: int | None) -> list[Any]:
    return [pytest.mark.slow] if cost.slow_reason(backend, updates) else []


def matrix_cases(config: pytest.Config) -> list[str]:
    asked = config.getoption("--cases")
    return asked.split(",") if asked else bundled_cases()


def matrix_backends(config: pytest.Config) -> list[str]:
    asked = config.getoption("--backends")
    return asked.split(",") if asked else list(matrix.BUNDLED)


def _cells(config: pytest.Config) -> list[Any]:
    """Cells of the backends, and pytest.param skips for uninstalled ones and for accelerator
    columns this machine lacks (tests/matrix_values.py: read without importing a framework, so
    every xdist worker collects the same ids at once)."""
    out: list[Any] = []
    for name in matrix_backends(config):
        found = columns(name)
        if found.status != "available":
            out.append(pytest.param(None, marks=pytest.mark.skip(reason=f"{name} {found.status}"), id=name))
            continue
        out += [matrix.Cell(name, dt, dev) for dt in matrix.DTYPES for dev in found.devices]
        if found.accelerator:
            out += [
                pytest.param(None, marks=pytest.mark.skip(reason=found.missing), id=f"{name}-{dt}-{found.accelerator}")
                for dt in matrix.DTYPES
            ]
    return out


def group(cell: matrix.Cell) -> Any:
    """The xdist group of a cell's tests: its backend's, so one worker computes it; a backend slow
    as a whole (torch-compile) is split by dtype, so that two workers can share it. A pair of
    cells goes with the costlier framework's: its worker computes that one anyway, and the cheap
    one (reference, numpy) is quickly computed or read (grouped with the cheap one, the pairs of
    reference and of numpy made two workers wait on each other for every framework)."""
    slow = backends.declared(cell.backend).slow_reason
    return pytest.mark.xdist_group(f"{cell.backend}-{cell.dtype}" if slow else cell.backend)


def _pairs(real: list[matrix.Cell]) -> list[tuple[matrix.Cell, matrix.Cell]]:
    return [(a, b) for a, b in itertools.combinations(real, 2) if (a.dtype, a.device) == (b.dtype, b.device)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case_cell" in metafunc.fixturenames or "case_pair" in metafunc.fixturenames:
        _generate_case_tests(metafunc)
    if "target" not in metafunc.fixturenames:
        return
    if CASE not in matrix_cases(metafunc.config):
        metafunc.parametrize(
            ("cell", "target"), [pytest.param(None, None, marks=pytest.mark.skip(reason=f"{CASE} not selected"))]
        )
        return
    case = load_case(CASE)
    targets = matrix.targets(case, not metafunc.config.getoption("--no-trajectories"))
    if "figure_target" in metafunc.fixturenames:
        targets = [t for t in targets if t.published is not None]
    cells = _cells(metafunc.config)
    real = [c for c in cells if isinstance(c, matrix.Cell)]
    skipped = [c for c in cells if not isinstance(c, matrix.Cell)]
    params = [
        pytest.param(c, t, id=f"{c.id}-{t.quantity}", marks=[*slow_marks(c.backend, t.updates), group(c)])
        for c in real
        for t in targets
    ]
    params += [pytest.param(None, None, marks=s.marks, id=s.id) for s in skipped]
    metafunc.parametrize(("cell", "target"), params)


def _pair_id(a: matrix.Cell, b: matrix.Cell, name: str) -> str:
    return f"{a.backend}~{b.id}-{name}"


def _part_params(config: pytest.Config, name: str, cells: tuple[matrix.Cell, ...], id_: str) -> list[Any]:
    """One param per part ("fast", "slow") in which these cells have checks of case `name`."""
    trajectories = not config.getoption("--no-trajectories")
    out = []
    for part in ("fast", "slow"):
        if common_keys(name, cells, trajectories, part):
            marks = [pytest.mark.slow] if part == "slow" else []
            marks.append(group(max(cells, key=lambda c: backends.declared(c.backend).import_seconds)))
            out.append(pytest.param((name, *cells, part), id=id_ + ("-slow" if part == "slow" else ""), marks=marks))
    return out


@pytest.fixture(scope="session")
def case() -> Case:
    return load_case(CASE)


def _generate_case_tests(metafunc: pytest.Metafunc) -> None:
    """One test per (case, cell, part) covering every quantity, and per (case, pair of cells,
    part): a per-quantity id for every case would be mostly noise. The post's pairs are here
    too; its per-quantity ids are test_matrix's."""
    config = metafunc.config
    real = [c for c in _cells(config) if isinstance(c, matrix.Cell)]
    names = matrix_cases(config)
    if "case_pair" in metafunc.fixturenames:
        pairs = _pairs(real)
        params = [p for n in names for a, b in pairs for p in _part_params(config, n, (a, b), _pair_id(a, b, n))]
        metafunc.parametrize("case_pair", params or [pytest.param(None, marks=pytest.mark.skip(reason="no pairs"))])
    else:
        names = [n for n in names if n != CASE]
        params = [p for n in names for c in real for p in _part_params(config, n, (c,), f"{c.id}-{n}")]
        metafunc.parametrize("case_cell", params or [pytest.param(None, marks=pytest.mark.skip(reason="no cases"))])


@pytest.fixture(scope="session")
def values(request: pytest.FixtureRequest) -> MatrixValues:
    """(case, cell) -> every value of that cell, its backend computed once in the run."""
    return request.config._matrix


@pytest.fixture(scope="session")
def exact(request: pytest.FixtureRequest) -> ByCase:
    """case -> dtype -> the exact value of every target."""
    return ByCase(request.config._matrix, "exact")


@pytest.fixture(scope="session")
def allowed(request: pytest.FixtureRequest) -> ByCase:
    """case -> dtype -> how far every target may be from exact (reference/tolerance.py)."""
    return ByCase(request.config._matrix, "allowed")


@pytest.fixture
def figure_target() -> None:
    """Marks a test that runs only on targets with a published figure."""
