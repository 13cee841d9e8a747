"""The matrix's axes (backend x dtype x device x quantity) and its values, computed once.

`--backends a,b` runs the matrix on those backends only (any registered name, e.g. the
deliberately wrong ones of tests/broken_backends.py); by default, every bundled backend, an
unavailable one being skipped with its reason. `--cases a,b` narrows the bundled cases.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import backends
from bpcheck import crosscheck
from reference.case import Case, bundled_cases, load_case
from tests import broken_backends

CASE = "mazur-2015"

# Hypothesis: a fixed seed and few examples by default; `--hypothesis-profile=thorough` for thousands.
settings.register_profile("default", derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
settings.register_profile("thorough", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
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
    config._matrix = crosscheck.Computation(
        [str(c.path) for c in cases], matrix_backends(config), list(crosscheck.DTYPES), trajectories=trajectories
    )
    # The exact values too, in a thread (the main process is mostly waiting on imports): they
    # land in the oracle's disk cache before the self-check's pytest asks for the same ones.
    config._exact, config._rho = {}, {}

    def oracle() -> None:
        for c in cases:
            config._rho[c.name] = crosscheck.conditions(c, trajectories)
            config._exact[c.name] = {dt: crosscheck.exact_values(c, dt, trajectories) for dt in crosscheck.DTYPES}

    config._exact_thread = threading.Thread(target=oracle, daemon=True)
    config._exact_thread.start()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if any(item.path.name == "test_self_check.py" for item in items):
        from tests.test_self_check import start_broken_run

        config._broken_run = start_broken_run()


def pytest_unconfigure(config: pytest.Config) -> None:
    if getattr(config, "_matrix", None) is not None:
        config._matrix.cancel()
    proc = getattr(config, "_broken_run", None)
    if proc is not None and proc.poll() is None:
        proc.kill()


def matrix_cases(config: pytest.Config) -> list[str]:
    asked = config.getoption("--cases")
    return asked.split(",") if asked else bundled_cases()


def matrix_backends(config: pytest.Config) -> list[str]:
    asked = config.getoption("--backends")
    return asked.split(",") if asked else list(broken_backends.BUNDLED)


def _cells(config: pytest.Config) -> list[Any]:
    """Cells of available backends, and pytest.param skips for unavailable ones."""
    out: list[Any] = []
    for name in matrix_backends(config):
        status = backends.status(name)
        if status != "available":
            out.append(pytest.param(None, marks=pytest.mark.skip(reason=f"{name} {status}"), id=name))
            continue
        out += [crosscheck.Cell(name, dt, dev) for dt in crosscheck.DTYPES for dev in backends.get(name).devices()]
    return out


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
    targets = crosscheck.targets(case, not metafunc.config.getoption("--no-trajectories"))
    if "figure_target" in metafunc.fixturenames:
        targets = [t for t in targets if t.published is not None]
    cells = _cells(metafunc.config)
    real = [c for c in cells if isinstance(c, crosscheck.Cell)]
    skipped = [c for c in cells if not isinstance(c, crosscheck.Cell)]
    if "pair" in metafunc.fixturenames:
        pairs = [(a, b) for a, b in itertools.combinations(real, 2) if (a.dtype, a.device) == (b.dtype, b.device)]
        params = [pytest.param((a, b), t, id=f"{a.backend}~{b.id}-{t.quantity}") for a, b in pairs for t in targets]
        metafunc.parametrize(
            ("pair", "target"),
            params or [pytest.param(None, None, marks=pytest.mark.skip(reason="fewer than two backends"))],
        )
        return
    params = [pytest.param(c, t, id=f"{c.id}-{t.quantity}") for c in real for t in targets]
    params += [pytest.param(None, None, marks=s.marks, id=s.id) for s in skipped]
    metafunc.parametrize(("cell", "target"), params)


@pytest.fixture(scope="session")
def case() -> Case:
    return load_case(CASE)


def _generate_case_tests(metafunc: pytest.Metafunc) -> None:
    """The other bundled cases: one test per (case, cell) or (case, pair of cells) covering
    every quantity (a per-quantity id for ~1,500 quantities x 8 cells would be mostly noise)."""
    names = [n for n in matrix_cases(metafunc.config) if n != CASE]
    real = [c for c in _cells(metafunc.config) if isinstance(c, crosscheck.Cell)]
    if "case_pair" in metafunc.fixturenames:
        pairs = [(a, b) for a, b in itertools.combinations(real, 2) if (a.dtype, a.device) == (b.dtype, b.device)]
        params = [pytest.param((n, a, b), id=f"{a.backend}~{b.id}-{n}") for n in names for a, b in pairs]
        metafunc.parametrize("case_pair", params or [pytest.param(None, marks=pytest.mark.skip(reason="no pairs"))])
    else:
        params = [pytest.param((n, c), id=f"{c.id}-{n}") for n in names for c in real]
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
def rho(request: pytest.FixtureRequest) -> dict[str, dict[tuple[str, str], float]]:
    """case -> every target's cancellation factor (reference/magnitude.py)."""
    request.config._exact_thread.join()
    return request.config._rho


@pytest.fixture
def figure_target() -> None:
    """Marks a test that runs only on targets with a published figure."""
