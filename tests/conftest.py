"""The matrix's axes (backend x dtype x device x quantity) and its values, computed once.

`--backends a,b` runs the matrix on those backends only (any registered name, e.g. the
deliberately wrong ones of tests/broken_backends.py); by default, every bundled backend and
execution mode, an unavailable one being skipped with its reason, and so is an accelerator
column (torch-float64-cuda, jax-float64-gpu) on a machine without one. `--cases a,b` narrows
the bundled cases.

Slow checks (bpcheck/cost.py: torch-compile, eager jax, training runs estimated over 2 s) carry
the `slow` mark: the default run (`-m "not slow"`, pyproject.toml) leaves them out and
`pytest -m slow` runs only them; only the part selected is computed.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from bpcheck import cost, engine, matrix
from bpcheck.reference.case import MAIN_CASE, Case, bundled_cases, load_case
from tests import broken_backends
from tests.helpers import common_keys

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
    """Registers the broken backends and starts computing the matrix's values in worker
    processes at once, so collection and the quick tests run meanwhile."""
    broken_backends.register_all()
    cases = [load_case(name) for name in matrix_cases(config)]
    trajectories = not config.getoption("--no-trajectories")
    config._matrix = engine.Engine(
        cases, matrix_backends(config), matrix.DTYPES, trajectories=trajectories, part=selected_part(config)
    )
    # The exact values too, in a thread (the main process is mostly waiting on imports): they
    # land in the oracle's disk cache before the self-check's pytest asks for the same ones.
    config._exact, config._allowed = {}, {}

    def oracle() -> None:
        for c in cases:
            config._allowed[c.name] = {dt: matrix.allowances(c, dt, trajectories) for dt in matrix.DTYPES}
            config._exact[c.name] = {dt: matrix.exact_values(c, dt, trajectories) for dt in matrix.DTYPES}

    config._exact_thread = threading.Thread(target=oracle, daemon=True)
    config._exact_thread.start()


@pytest.hookimpl(trylast=True)  # after -m / -k have deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need the matrix's values run last, so the rest run while the workers compute;
    the self-check's own pytest starts now, beside both."""
    waits = lambda item: "values" in getattr(item, "fixturenames", ())  # noqa: E731
    items.sort(key=waits)  # stable: file order otherwise
    if any(item.path.name == "test_self_check.py" for item in items):
        from tests.test_self_check import start_broken_run

        config._broken_run = start_broken_run()


def pytest_unconfigure(config: pytest.Config) -> None:
    if getattr(config, "_matrix", None) is not None:
        config._matrix.cancel()
    proc = getattr(config, "_broken_run", None)
    if proc is not None and proc.poll() is None:
        proc.kill()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many inputs the fuzz tests generated (issue 12: the count of a thorough run is recorded)."""
    from tests.test_fuzz import GENERATED

    if GENERATED:
        counts = ", ".join(f"{n:,} {kind}" for kind, n in GENERATED.items())
        terminalreporter.write_line(f"fuzz: {sum(GENERATED.values()):,} generated inputs ({counts})")


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
    """Cells of available backends, and pytest.param skips for unavailable ones and for
    accelerator columns this machine lacks. The worker processes say which are which, so no
    framework is imported here."""
    out: list[Any] = []
    for name, found in config._matrix.probes().items():
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
        pytest.param(c, t, id=f"{c.id}-{t.quantity}", marks=slow_marks(c.backend, t.updates))
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
def values(request: pytest.FixtureRequest) -> dict[Any, dict[tuple[str, str], float | str]]:
    """Every (case, cell)'s values, computed once, in worker processes started by pytest_configure."""
    return request.config._matrix.result().values


@pytest.fixture(scope="session")
def exact(request: pytest.FixtureRequest) -> dict[str, dict[str, dict[tuple[str, str], Any]]]:
    """case -> dtype -> the exact value of every target (computed by a thread pytest_configure started)."""
    request.config._exact_thread.join()
    return request.config._exact


@pytest.fixture(scope="session")
def allowed(request: pytest.FixtureRequest) -> dict[str, dict[str, dict[tuple[str, str], Any]]]:
    """case -> dtype -> how far every target may be from exact (reference/tolerance.py)."""
    request.config._exact_thread.join()
    return request.config._allowed


@pytest.fixture
def figure_target() -> None:
    """Marks a test that runs only on targets with a published figure."""
