"""Backends declare themselves (backends/declarations.py): a new one is one Declaration, and the
registry, the cost model, the environment record and the plots all follow from it."""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest

from bpcheck import backends, cost, engine, matrix
from bpcheck.backends.declarations import Declaration
from bpcheck.reference.case import load_case
from bpcheck.reporting import environment
from bpcheck.reporting.plots import backend_style
from tests.declared_backend import DECLARATION

NUMPY = "bpcheck.backends.numpy_backend:NumpyBackend"


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Names a test registers; unregistered afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        backends.unregister(name)


def test_bundled_backends_have_distinct_colours_and_markers():
    declared = [backends.declaration(n) for n in backends.bundled()]
    assert len({d.color for d in declared}) == len({d.marker for d in declared}) == len(declared) == 9
    assert all(d.color and d.marker for d in declared)


def test_the_bundled_names_are_the_matrix_in_order():
    assert backends.bundled() == list(matrix.BUNDLED)
    assert backends.bundled() == backends.names()[:9]
    assert backends.bundled()[:3] == ["reference", "numpy", "torch"] and backends.bundled()[-1] == "autograd"


def test_families_declare_what_the_old_tables_said():
    assert cost.slow_reason("torch-compile", None) and cost.slow_reason("jax", None)
    assert cost.slow_reason("jax-jit", None) is None and cost.slow_reason("numpy", 10_000) is None
    assert cost.slow_reason("torch", 10_000) == "10,000 training steps of torch take ~4 s"
    assert [backends.declaration(n).accelerator for n in ("numpy", "torch", "jax-jit", "tensorflow")] == [
        None,
        "cuda",
        "gpu",
        "gpu",
    ]
    assert {backends.declaration(n).family for n in ("torch", "torch-func", "torch-compile")} == {"torch"}


def test_a_backend_declared_once_is_everywhere(registered):
    """One Declaration, nothing else: a name, cost hints, a colour and marker of its own, its
    settings in the environment record, and a cross-check."""
    backends.register(DECLARATION)
    registered.append("declared")
    assert "declared" in backends.names() and "declared" not in backends.bundled()
    assert cost.slow_reason("declared", 300) == "300 training steps of declared take ~3 s"
    assert cost.slow_reason("declared", 100) is None
    assert cost.estimate("declared", [100]) == pytest.approx(2 * 2.0 + 100 * 0.01)  # a compilation per run
    assert cost.import_seconds("declared") == 3.0
    color, marker = backend_style("declared")
    assert (color, marker) not in {backend_style(n) for n in backends.bundled()} and color != "#1f77b4"
    assert backends.get("declared").accelerator == "tpu"  # type: ignore[attr-defined]
    settings = environment.capture(["declared"])["backends"]["declared"]
    assert settings["status"] == "available" and settings["answer"] == 42
    outcome = engine.crosscheck([load_case("mazur-2015")], ["declared"], ["float64"], jobs=1, trajectories=False)
    records = outcome.records
    assert not outcome.unavailable and records and all(r.backend == "declared" and not r.failed for r in records)


def test_a_factory_carries_its_declaration(registered):
    backends.register("carried", "tests.declared_backend:DeclaredBackend")
    registered.append("carried")
    declared = backends.declaration("carried")
    assert (declared.name, declared.factory) == ("carried", "tests.declared_backend:DeclaredBackend")
    assert (declared.step_seconds, declared.settings) == (0.01, "tests.declared_backend:settings")


def test_plug_ins_without_a_declaration_get_defaults_and_styles_no_one_else_has(registered):
    for k in range(40):  # more than the spare colours and markers
        backends.register(f"plug-in-{k}", NUMPY)
        registered.append(f"plug-in-{k}")
    declared = [backends.declaration(n) for n in backends.names()]
    assert len({d.color for d in declared}) == len({d.marker for d in declared}) == len(declared)
    plug_in = backends.declaration("plug-in-0")
    assert (plug_in.family, plug_in.accelerator, plug_in.slow_reason, plug_in.settings) == (
        "plug-in-0",
        None,
        None,
        None,
    )
    assert cost.estimate("plug-in-0", [1000]) == pytest.approx(0.5 + 0.1)


def test_an_unknown_backend_has_no_declaration():
    with pytest.raises(KeyError, match="unknown backend 'mxnet'"):
        backends.declaration("mxnet")
    assert backend_style("mxnet") == ("#7f7f7f", ".")  # e.g. in another machine's results


def _in_a_worker(declared: Declaration) -> tuple[bool, str, float]:
    """What a worker process does with its parent's declaration."""
    known = declared.name in backends.names()
    b = backends.load(declared)
    case = load_case("mazur-2015")
    return known, b.name, b.forward(case, dict(case.parameters), "float64", "cpu")["E_total"]


def test_a_worker_loads_a_backend_from_the_pickled_declaration():
    declared = pickle.loads(pickle.dumps(DECLARATION))
    assert declared == DECLARATION
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        known, name, e_total = pool.submit(_in_a_worker, DECLARATION).result(timeout=120)
    assert (known, name) == (False, "declared") and e_total == pytest.approx(0.298371109, abs=1e-9)


def test_load_by_name_is_get():
    assert backends.load("numpy") is backends.get("numpy")
