"""The cross-check: every backend x dtype x device x quantity of a case, each value set beside
the exact value and the figure the source prints, as a list of JSON-ready records."""

from __future__ import annotations

import math
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import backends
from reference.arith import EXACT_DIGITS
from reference.case import Case, Figure, load_case
from reference.oracle import exact_after, exact_step, rounded_parameters
from reference.quantities import split_trajectory_name, stage

from bpcheck.tolerance import allowed_ulps
from bpcheck.ulps import ulp, ulps

DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Cell:
    backend: str
    dtype: str
    device: str

    @property
    def id(self) -> str:
        """torch-float64 on the CPU, torch-float64-cuda elsewhere."""
        return f"{self.backend}-{self.dtype}" + ("" if self.device == "cpu" else f"-{self.device}")


@dataclass
class Record:
    case: str
    backend: str
    dtype: str
    device: str
    quantity: str
    value: float | None
    exact: str  # the exact value, 20 significant digits
    ulps: float | None
    allowed_ulps: float
    published: str | None
    verdict: str  # pass | fail; for a published figure reproduced | not-reproduced
    config: str
    measured: str  # after-update | loss-of-last-step
    error: str | None = None


@dataclass(frozen=True)
class Target:
    """One number to compute: a quantity under a configuration, after some updates."""

    quantity: str
    config: str
    updates: int | None  # None: a quantity of one training step from the initial parameters
    measured: str = "after-update"
    published: Figure | None = None


def targets(case: Case) -> list[Target]:
    """Every single-step quantity under the case's default rule, then the closing figures."""
    printed = {f.quantity: f for f in case.published}
    out = [Target(q.name, case.default_config, None, published=printed.get(q.name)) for q in case.layout.step_quantities]
    for f in case.published:
        if split_trajectory_name(f.quantity):
            out.append(Target(f.quantity, f.config or case.default_config, f.updates, f.measured, f))
    return out


def compute_cell(case_ref: str, cell: Cell, factory: str | None = None) -> dict[tuple[str, str], float | str]:
    """Every target's value from one backend; an exception becomes its message (a string).
    `factory` registers the backend first (for a worker process that does not know it)."""
    if factory and backends.factory_path(cell.backend) != factory:
        backends.register(cell.backend, factory)
    case = load_case(case_ref)
    b = backends.get(cell.backend)
    params = rounded_parameters(case, cell.dtype)
    out: dict[tuple[str, str], float | str] = {}
    try:
        step = {**b.forward(case, params, cell.dtype, cell.device),
                **b.gradients(case, params, cell.dtype, cell.device),
                **{f"{k}+": v for k, v in b.step(case, params, case.config, cell.dtype, cell.device).items()}}
    except Exception as err:  # a backend that breaks is a result, not a crash
        step = {q.name: f"{type(err).__name__}: {err}" for q in case.layout.step_quantities}
    trained: dict[tuple[str, int], dict[str, float] | str] = {}
    for t in targets(case):
        if t.updates is None:
            out[(t.quantity, t.config)] = step.get(t.quantity, "missing from the backend's results")
            continue
        key = (t.config, t.updates)
        if key not in trained:
            try:
                tr = b.train(case, params, case.configs[t.config], t.updates, cell.dtype, cell.device)
                trained[key] = b.forward(case, tr.params, cell.dtype, cell.device)
            except Exception as err:
                trained[key] = f"{type(err).__name__}: {err}"
        result = trained[key]
        base = split_trajectory_name(t.quantity)[0]  # type: ignore[index]
        out[(t.quantity, t.config)] = result if isinstance(result, str) else result[base]
    return out


def exact_values(case: Case, dtype: str) -> dict[tuple[str, str], Any]:
    step = exact_step(case, dtype)
    out: dict[tuple[str, str], Any] = {}
    for t in targets(case):
        if t.updates is None:
            out[(t.quantity, t.config)] = step[t.quantity]
        else:
            base = split_trajectory_name(t.quantity)[0]  # type: ignore[index]
            out[(t.quantity, t.config)] = exact_after(case, dtype, case.configs[t.config], t.updates)[base]
    return out


def figure_agrees(value: float, figure: Figure, dtype: str, stage_name: str, exact: Any) -> bool:
    """|value - printed| <= one unit of the last printed digit + the dtype's allowance: the
    printed figure is within a unit of the truth, and the value within its bound of it."""
    slack = float(figure.unit) + allowed_ulps(stage_name) * ulp(exact, dtype)
    return abs(Decimal(repr(value)) - Decimal(figure.value)) <= Decimal(repr(slack))


def judge(case: Case, cell: Cell, t: Target, value: float | str, exact: Any) -> Record:
    st = stage(case.layout, t.quantity)
    bound = allowed_ulps(st)
    error = value if isinstance(value, str) else None
    v = None if isinstance(value, str) else float(value)
    d = None if v is None else ulps(v, exact, cell.dtype)
    ok = d is not None and d <= bound
    verdict = "pass" if ok else "fail"
    if t.published is not None:
        ok = ok and v is not None and figure_agrees(v, t.published, cell.dtype, st, exact)
        verdict = "reproduced" if ok else "not-reproduced"
    return Record(
        case=case.name, backend=cell.backend, dtype=cell.dtype, device=cell.device,
        quantity=t.quantity, value=v, exact=_digits(exact), ulps=None if d is None or math.isinf(d) else round(d, 3),
        allowed_ulps=bound, published=t.published.value if t.published else None, verdict=verdict,
        config=t.config, measured=t.measured, error=error,
    )


def _digits(x: Any, digits: int = 20) -> str:
    return format(Decimal(str(x)[: EXACT_DIGITS + 10]), f".{digits}g")


def run(case: Case, cells: list[Cell], jobs: int | None = None) -> list[Record]:
    """All records of `case` over `cells`, backends computed in parallel worker processes."""
    values = compute_all(str(case.path), cells, jobs)
    exact = {dt: exact_values(case, dt) for dt in {c.dtype for c in cells}}
    return [judge(case, c, t, values[c][(t.quantity, t.config)], exact[c.dtype][(t.quantity, t.config)])
            for c in cells for t in targets(case)]


def compute_all(case_ref: str, cells: list[Cell], jobs: int | None = None) -> dict[Cell, dict[tuple[str, str], float | str]]:
    """compute_cell for every cell; with jobs > 1 in spawned worker processes (frameworks are
    imported in the workers, and the parent computes the exact values meanwhile)."""
    jobs = min(jobs or os.cpu_count() or 1, len(cells))
    if jobs <= 1:
        return {c: compute_cell(case_ref, c) for c in cells}
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures: dict[Cell, Future[Any]] = {
            c: pool.submit(compute_cell, case_ref, c, backends.factory_path(c.backend)) for c in _slowest_first(cells)
        }
        case = load_case(case_ref)
        for dt in {c.dtype for c in cells}:
            exact_values(case, dt)  # fills the oracle's caches while the workers run
        return {c: futures[c].result() for c in cells}


def _slowest_first(cells: list[Cell]) -> list[Cell]:
    cost = {"torch": 0, "numpy": 2, "reference": 3, "jax": 1}
    return sorted(cells, key=lambda c: cost.get(c.backend, 0))


def as_json(records: list[Record]) -> list[dict[str, Any]]:
    return [asdict(r) for r in records]
