"""The cross-check: every backend x dtype x device x quantity of a case, each value set beside
the exact value and the figure the source prints, as a list of JSON-ready records."""

from __future__ import annotations

import math
import multiprocessing
import os
import queue
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from bpcheck import backends
from bpcheck import cost
from bpcheck.cost import in_part
from bpcheck.tolerance import allowed_ulps
from bpcheck.ulps import ulp, ulps
from bpcheck.reference.arith import EXACT_DIGITS
from bpcheck.reference.case import PLAIN, Case, Figure, load_case
from bpcheck.reference.magnitude import condition
from bpcheck.reference.oracle import exact_after, exact_step, rounded_parameters
from bpcheck.reference.quantities import split_trajectory_name, stage

DTYPES = ("float64", "float32")
#: Every bundled backend and execution mode (backends/__init__.py), in the matrix's order.
BUNDLED = tuple(backends.bundled())


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
    allowed_ulps: float | None  # None: no bound (an exact 0 reached by cancellation; see magnitude.py)
    condition: float | None  # rho, the cancellation factor the bound was multiplied by (None: infinite)
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


Values = dict[tuple[str, str], "float | str"]


def targets(case: Case, trajectories: bool = True) -> list[Target]:
    """Every single-step quantity under the case's default rule, then (unless `trajectories`
    is False) the figures that need N training steps."""
    printed = {f.quantity: f for f in case.published}
    out = [
        Target(q.name, case.default_config, None, published=printed.get(q.name)) for q in case.layout.step_quantities
    ]
    if not trajectories:
        return out
    for f in case.published:
        if split_trajectory_name(f.quantity):
            out.append(Target(f.quantity, f.config or case.default_config, f.updates, f.measured, f))
    if case.steps:  # a general case: E_total and every parameter after its training steps
        for name in ["E_total", *case.layout.parameters]:
            out.append(Target(f"{name}@{case.steps}", case.default_config, case.steps))
    return out


def selected(case: Case, cell: Cell, trajectories: bool = True, part: str = "all") -> list[Target]:
    """The targets of `cell` in `part` of the run: "fast" (the default test run), "slow" or "all"."""
    return [t for t in targets(case, trajectories) if in_part(cell.backend, t.updates, part)]


def compute_cell(case_ref: str, cell: Cell, trajectories: bool = True, part: str = "all") -> Values:
    """Every selected target's value from one backend; an exception becomes its message (a string)."""
    case = load_case(case_ref)
    b = backends.get(cell.backend)
    params = rounded_parameters(case, cell.dtype)
    out: dict[tuple[str, str], float | str] = {}
    chosen = selected(case, cell, trajectories, part)
    step: dict[str, float | str] = {}
    try:
        if any(t.updates is None for t in chosen):
            step = {
                **b.forward(case, params, cell.dtype, cell.device),
                **b.gradients(case, params, cell.dtype, cell.device),
                **{f"{k}+": v for k, v in b.step(case, params, case.config, cell.dtype, cell.device).items()},
            }
    except Exception as err:  # a backend that breaks is a result, not a crash
        step = {q.name: f"{type(err).__name__}: {err}" for q in case.layout.step_quantities}
    trained: dict[tuple[str, int], dict[str, float] | str] = {}
    for t in chosen:
        if t.updates is None:
            out[(t.quantity, t.config)] = step.get(t.quantity, "missing from the backend's results")
            continue
        key = (t.config, t.updates)
        if key not in trained:
            try:
                tr = b.train(case, params, case.configs[t.config], t.updates, cell.dtype, cell.device)
                trained[key] = {**tr.params, **b.forward(case, tr.params, cell.dtype, cell.device)}
            except Exception as err:
                trained[key] = f"{type(err).__name__}: {err}"
        result = trained[key]
        base = split_trajectory_name(t.quantity)[0]  # type: ignore[index]
        out[(t.quantity, t.config)] = result if isinstance(result, str) else result[base]
    return out


def by_rule(case: Case, plain: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any]:
    """One step's quantities as the protocol defines them: forward and chain pieces of the
    plain gradient, updates under the case's rule (they differ under output-first)."""
    stage_of = case.layout.stage_of
    return {k: (rule if stage_of[k] == "update" else plain)[k] for k in plain}


def exact_values(case: Case, dtype: str, trajectories: bool = True) -> dict[tuple[str, str], Any]:
    step = by_rule(case, exact_step(case, dtype, PLAIN), exact_step(case, dtype, case.config))
    out: dict[tuple[str, str], Any] = {}
    for t in targets(case, trajectories):
        if t.updates is None:
            out[(t.quantity, t.config)] = step[t.quantity]
        else:
            base = split_trajectory_name(t.quantity)[0]  # type: ignore[index]
            out[(t.quantity, t.config)] = exact_after(case, dtype, case.configs[t.config], t.updates)[base]
    return out


def step_conditions(case: Case) -> dict[str, float]:
    """rho of every quantity of one step, by the protocol's rules (see by_rule)."""
    plain, rule = exact_step(case, "float64", PLAIN), exact_step(case, "float64", case.config)
    return by_rule(
        case, condition(case, case.parameters, PLAIN, plain), condition(case, case.parameters, case.config, rule)
    )


def conditions(case: Case, trajectories: bool = True) -> dict[tuple[str, str], float]:
    """rho of every target (reference/magnitude.py): how much cancellation amplifies rounding;
    1 for the trajectory targets, whose bound already covers 10,000 steps of drift."""
    rho = step_conditions(case)
    groups = {
        p: names
        for layer in zip(case.layout.w, case.layout.b)
        for names in [[n for row in layer[0] for n in row] + layer[1]]
        for p in names
    }
    out = {}
    for t in targets(case, trajectories):
        base = (split_trajectory_name(t.quantity) or (t.quantity, 0))[0]
        if t.updates is None:
            out[(t.quantity, t.config)] = rho.get(t.quantity, 1.0)
        elif base in groups:
            # A parameter is a running sum of updates made at the scale of its layer's
            # parameters: its rounding is measured in ULPs of the largest of them.
            final = exact_after(case, "float64", case.configs[t.config], t.updates)
            scale = max(max(abs(float(final[n])), abs(case.parameters[n])) for n in groups[base])
            out[(t.quantity, t.config)] = max(1.0, scale / (abs(float(final[base])) or 1e-300))
        else:
            out[(t.quantity, t.config)] = 1.0
    return out


def figure_agrees(value: float, figure: Figure, dtype: str, stage_name: str, exact: Any, rho: float = 1.0) -> bool:
    """|value - printed| <= one unit of the last printed digit + the dtype's allowance: the
    printed figure is within a unit of the truth, and the value within its bound of it."""
    slack = float(figure.unit) + allowed_ulps(stage_name, rho) * ulp(exact, dtype)
    return abs(Decimal(repr(value)) - Decimal(figure.value)) <= Decimal(repr(slack))


def judge(case: Case, cell: Cell, t: Target, value: float | str, exact: Any, rho: float = 1.0) -> Record:
    st = stage(case.layout, t.quantity)
    bound = allowed_ulps(st, rho)
    error = value if isinstance(value, str) else None
    v = None if isinstance(value, str) else float(value)
    d = None if v is None else ulps(v, exact, cell.dtype)
    ok = d is not None and d <= bound
    verdict = "pass" if ok else "fail"
    if t.published is not None:
        ok = ok and v is not None and figure_agrees(v, t.published, cell.dtype, st, exact, rho)
        verdict = "reproduced" if ok else "not-reproduced"
    return Record(
        case=case.name,
        backend=cell.backend,
        dtype=cell.dtype,
        device=cell.device,
        quantity=t.quantity,
        value=v,
        exact=_digits(exact),
        ulps=None if d is None or not math.isfinite(d) else round(d, 3),
        allowed_ulps=round(bound, 3) if math.isfinite(bound) else None,
        condition=round(rho, 3) if math.isfinite(rho) else None,
        published=t.published.value if t.published else None,
        verdict=verdict,
        config=t.config,
        measured=t.measured,
        error=error,
    )


def _digits(x: Any, digits: int = 20) -> str:
    return format(Decimal(str(x)[: EXACT_DIGITS + 10]), f".{digits}g")


@dataclass
class Computed:
    """Every cell's values, and the backends that could not run, with the reason."""

    values: dict[tuple[str, Cell], Values]  # (case name, cell) -> values
    unavailable: dict[str, str]


def run(
    case: Case,
    names: list[str],
    dtypes: list[str],
    jobs: int | None = None,
    trajectories: bool = True,
    part: str = "all",
) -> tuple[list[Record], dict[str, str]]:
    """The records of `case` for the named backends (the checks in `part`), and {backend:
    reason} for those unavailable."""
    computed = Computation([str(case.path)], names, dtypes, jobs, trajectories, part).result([case])
    return records_of(case, computed, dtypes, trajectories), computed.unavailable


def records_of(case: Case, computed: Computed, dtypes: list[str], trajectories: bool = True) -> list[Record]:
    """Each computed value of `case` judged against the exact value."""
    exact = {dt: exact_values(case, dt, trajectories) for dt in dtypes}
    rho = conditions(case, trajectories)
    return [
        judge(case, c, t, v[key], exact[c.dtype][key], rho[key])
        for (name, c), v in computed.values.items()
        if name == case.name
        for t in targets(case, trajectories)
        if (key := (t.quantity, t.config)) in v
    ]


def compute_backend(
    case_refs: list[str],
    name: str,
    dtypes: list[str],
    factory: str | None = None,
    trajectories: bool = True,
    part: str = "all",
) -> tuple[str, dict[tuple[str, Cell], Values]]:
    """(status, values of each case and cell) of one backend over `dtypes` and every device it has."""
    _register(name, factory)
    found = probe(name)
    if found.status != "available":
        return found.status, {}
    cells = [Cell(name, dt, dev) for dt in dtypes for dev in found.devices]
    return found.status, {
        (load_case(ref).name, c): compute_cell(ref, c, trajectories, part) for ref in case_refs for c in cells
    }


def _register(name: str, factory: str | None) -> None:
    """In a worker: register a backend by the path the parent knew it by (e.g. a test's)."""
    if factory and backends.factory_path(name) != factory:
        backends.register(name, factory)


@dataclass(frozen=True)
class Probe:
    """A backend as this machine has it: status, devices, and its accelerator if it lacks one."""

    name: str
    status: str
    devices: tuple[str, ...] = ()
    accelerator: str | None = None  # the accelerator this machine lacks, if the backend can use one
    missing: str = ""  # why it lacks it


def probe(name: str) -> Probe:
    status = backends.status(name)
    if status != "available":
        return Probe(name, status)
    b = backends.get(name)
    devices, accelerator = tuple(b.devices()), getattr(b, "accelerator", None)
    if accelerator and accelerator not in devices:
        return Probe(name, status, devices, accelerator, b.accelerator_missing())  # type: ignore[attr-defined]
    return Probe(name, status, devices)


_PROBES: Any = None  # in a worker process: the queue its probes go to


class Computation:
    """compute_backend for every backend, started at once. With jobs > 1 it runs in spawned
    worker processes, each given a planned share, so frameworks are imported in the workers
    only (once each) and the caller is free meanwhile."""

    def __init__(
        self,
        case_refs: list[str],
        names: list[str],
        dtypes: list[str],
        jobs: int | None = None,
        trajectories: bool = True,
        part: str = "all",
    ):
        self.order = [(n, dt) for n in names for dt in dtypes]
        self.trajectories = trajectories
        units = [(n, [dt]) for n, dt in self.order]
        costs = _costs(case_refs, names, trajectories, part)
        plan = _plan(units, min(jobs or os.cpu_count() or 1, len(units)), costs)
        self.pool: ProcessPoolExecutor | None = None
        if len(plan) <= 1:
            self.futures: list[Any] = [_Done(_compute_share(case_refs, units, {}, trajectories, part))]
            return
        factories = {n: backends.factory_path(n) for n in names}
        ctx = multiprocessing.get_context("spawn")
        self.queue = ctx.Queue()
        self.pool = ProcessPoolExecutor(
            max_workers=len(plan), mp_context=ctx, initializer=_worker_init, initargs=(self.queue,)
        )
        self.futures = [
            self.pool.submit(_compute_share, case_refs, share, factories, trajectories, part) for share in plan
        ]

    def probes(self) -> dict[str, Probe]:
        """Each backend's status and devices, as soon as the workers have loaded them (without
        importing any framework here)."""
        if getattr(self, "_probes", None) is None:
            names = list(dict.fromkeys(n for n, _ in self.order))
            found: dict[str, Probe] = {}
            if self.pool is None:
                found = {n: probe(n) for n in names}
            while len(found) < len(names):
                try:
                    p = self.queue.get(timeout=1)
                    found[p.name] = p
                except queue.Empty:
                    if all(f.done() for f in self.futures):  # a worker died before reporting
                        found.update({n: Probe(n, "unavailable: its worker failed") for n in names if n not in found})
            self._probes = {n: found[n] for n in names}
        return self._probes

    def result(self, cases: list[Case] = ()) -> Computed:  # type: ignore[assignment]
        """Waits for the workers, filling the oracle's caches for `cases` meanwhile."""
        for case in cases:
            for dt in dict.fromkeys(dt for _, dt in self.order):
                exact_values(case, dt, self.trajectories)
        computed = Computed({}, {})
        for future in self.futures:
            statuses, values = future.result()
            computed.unavailable.update({n: s for n, s in statuses.items() if s != "available"})
            computed.values.update(values)
        self.cancel()
        rank = {key: k for k, key in enumerate(self.order)}
        computed.values = dict(sorted(computed.values.items(), key=lambda kv: rank[(kv[0][1].backend, kv[0][1].dtype)]))
        return computed

    def cancel(self) -> None:
        if self.pool is not None:
            processes = list((getattr(self.pool, "_processes", None) or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            self.pool = None


@dataclass
class _Done:
    value: Any

    def result(self) -> Any:
        return self.value


def _worker_init(probes: Any) -> None:
    """Workers already fill the cores; a framework's own thread pool would only contend (and
    spin) for them. Set before any framework is imported in the worker."""
    global _PROBES
    _PROBES = probes
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"


def _compute_share(
    case_refs: list[str],
    share: list[tuple[str, list[str]]],
    factories: dict[str, str | None],
    trajectories: bool,
    part: str = "all",
) -> tuple[dict[str, str], dict[tuple[str, Cell], Values]]:
    """A worker's share; `factories` registers backends the worker's registry does not know."""
    statuses: dict[str, str] = {}
    values: dict[tuple[str, Cell], Values] = {}
    for name in dict.fromkeys(n for n, _ in share):
        _register(name, factories.get(name))
        if _PROBES is not None:  # tell the parent at once (tests/conftest.py builds the matrix from it)
            _PROBES.put(probe(name))
    for name, dtypes in share:
        statuses[name], v = compute_backend(case_refs, name, dtypes, factories.get(name), trajectories, part)
        values.update(v)
    return statuses, values


def _costs(case_refs: list[str], names: list[str], trajectories: bool, part: str) -> dict[str, float]:
    """Rough seconds per backend and dtype for its selected targets (bpcheck/cost.py)."""
    cases = [load_case(ref) for ref in case_refs]
    out = {name: 0.0 for name in names}
    for name in names:
        cell = Cell(name, "float64", "cpu")
        for case in cases:
            chosen = selected(case, cell, trajectories, part)
            if not chosen:
                continue
            runs = {(t.config, t.updates) for t in chosen if t.updates}
            out[name] += cost.estimate(name, [n for _, n in runs])
        if out[name]:
            out[name] += cost.import_seconds(name) / 2  # once per worker; ~2 units a backend
    return out


def _plan(units: list[tuple[str, list[str]]], jobs: int, costs: dict[str, float]) -> list[list[tuple[str, list[str]]]]:
    """Split (backend, dtypes) units into `jobs` shares of similar cost, keeping a backend's
    units in one share (one framework import per worker) unless they outweigh half a share."""
    if jobs <= 1:
        return [units]
    cost_of = lambda us: sum(costs.get(n, 1.0) * len(d) for n, d in us)
    groups: dict[str, list[tuple[str, list[str]]]] = {}
    for u in units:
        groups.setdefault(u[0], []).append(u)
    fair = cost_of(units) / jobs
    pieces = [p for g in groups.values() for p in ([g] if cost_of(g) <= fair / 2 else [[u] for u in g])]
    shares: list[list[tuple[str, list[str]]]] = [[] for _ in range(jobs)]
    for piece in sorted(pieces, key=cost_of, reverse=True):
        min(shares, key=cost_of).extend(piece)
    return [s for s in shares if s]


def as_json(records: list[Record]) -> list[dict[str, Any]]:
    return [asdict(r) for r in records]
