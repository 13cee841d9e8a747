"""The engine: run backends on cases, name every value, judge each against the exact value.

`crosscheck(cases, backends, dtypes)` is the one way anything in the project computes a
backend's values (run, report and its curves, explain, verify --backend, the pytest plugin,
the test suite). It takes Case objects and backends (registered names, or objects that
implement the protocol) and returns judged records (bpcheck/judge.py).

Isolation and parallelism are decided here alone: with more than one job, the work is split
into per-backend shares of similar cost (bpcheck/cost.py) that run in spawned worker
processes, so each worker imports each framework once for every case, and the caller imports
none; with one job (or a backend object that cannot be sent to a worker) it runs in-process.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any

from bpcheck import backends, compact, cost, matrix
from bpcheck.backends.declarations import Declaration
from bpcheck.backends.protocol import Backend
from bpcheck.judge import Cell, Record, judge
from bpcheck.matrix import DTYPES, allowances, exact_values, selected, targets
from bpcheck.reference.case import Case
from bpcheck.reference.oracle import rounded_parameters
from bpcheck.reference.quantities import split_trajectory_name

#: A backend as the engine is given it: a registered name, or an object implementing the protocol.
BackendLike = str | Backend
#: One cell's values: (quantity, config) -> a float, or the backend's error message.
Values = dict[tuple[str, str], "float | str"]
Tick = Callable[[str], None]


@dataclass(frozen=True)
class CurvePlan:
    """Training curves to compute beside the values: E_total of each of `steps` training steps
    of `case` under `config`, for every cell whose backend runs `steps` steps in the part."""

    case: Case
    config: str
    steps: int


@dataclass(frozen=True)
class Probe:
    """A backend as this machine has it: status, devices, and its accelerator if it lacks one."""

    name: str
    status: str
    devices: tuple[str, ...] = ()
    accelerator: str | None = None  # the accelerator this machine lacks, if the backend can use one
    missing: str = ""  # why it lacks it


@dataclass
class Computed:
    """Every cell's values and curves, and the backends that could not run, with the reason."""

    values: dict[tuple[str, Cell], Values] = field(default_factory=dict)  # (case name, cell) -> values
    curves: dict[Cell, list[float] | str] = field(default_factory=dict)  # cell -> E_total per step, or why not
    unavailable: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    """What `crosscheck` returns: judged records, the backends that could not run, and curves."""

    records: list[Record]
    unavailable: dict[str, str]
    curves: dict[Cell, list[float] | str] = field(default_factory=dict)


def name_of(b: BackendLike) -> str:
    return b if isinstance(b, str) else str(getattr(b, "name", type(b).__name__))


def resolve(b: BackendLike) -> Backend:
    """The backend object (loading a registered name's framework here)."""
    return backends.get(b) if isinstance(b, str) else b


def probe(b: BackendLike) -> Probe:
    name = name_of(b)
    status = backends.status(b) if isinstance(b, str) else "available"
    if status != "available":
        return Probe(name, status)
    obj = resolve(b)
    devices, accelerator = tuple(obj.devices()), getattr(obj, "accelerator", None)
    if accelerator and accelerator not in devices:
        return Probe(name, status, devices, accelerator, obj.accelerator_missing())  # type: ignore[attr-defined]
    return Probe(name, status, devices)


def step_values(case: Case, b: Backend, dtype: str, device: str) -> dict[str, float]:
    """Every quantity of one training step from a backend, by the protocol's rules: forward and
    chain pieces of the plain gradient, the updates (`w5+`) under the case's rule."""
    params = rounded_parameters(case, dtype)
    return {
        **b.forward(case, params, dtype, device),
        **b.gradients(case, params, dtype, device),
        **{f"{k}+": v for k, v in b.step(case, params, case.config, dtype, device).items()},
    }


def compute_cell(case: Case, b: Backend, cell: Cell, trajectories: bool = True, part: str = "all") -> Values:
    """Every selected target's value from one backend; an exception becomes its message."""
    if matrix.wide(case):  # by position, not by name (bpcheck/compact.py)
        return compact.compute(case, b, cell, trajectories, part, _message)  # type: ignore[return-value]
    params = rounded_parameters(case, cell.dtype)
    chosen = selected(case, cell, trajectories, part)
    step: dict[str, float | str] = {}
    if any(t.updates is None for t in chosen):
        try:
            step = dict(step_values(case, b, cell.dtype, cell.device))
        except Exception as err:  # a backend that breaks is a result, not a crash
            step = {q.name: _message(err) for q in case.layout.step_quantities}
    trained: dict[tuple[str, int], dict[str, float] | str] = {}
    out: Values = {}
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
                trained[key] = _message(err)
        result = trained[key]
        base = split_trajectory_name(t.quantity)[0]  # type: ignore[index]
        out[(t.quantity, t.config)] = result if isinstance(result, str) else result[base]
    return out


def compute_curve(plan: CurvePlan, b: Backend, cell: Cell) -> list[float] | str:
    """E_total of every training step (Training.losses) from one backend, or why not."""
    case = plan.case
    try:
        params = rounded_parameters(case, cell.dtype)
        tr = b.train(case, params, case.configs[plan.config], plan.steps, cell.dtype, cell.device)
        return [float(x) for x in tr.losses]
    except Exception as err:
        return _message(err)


def _message(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


@dataclass(frozen=True)
class _Unit:
    """One worker's unit of work: a backend in some dtypes, over every case."""

    backend: BackendLike
    dtypes: tuple[str, ...]
    declaration: Declaration | None = None  # how a worker's registry knows a name registered at run time


@dataclass(frozen=True)
class _Job:
    """What every unit is asked: the same for all workers."""

    cases: tuple[Case, ...]
    devices: tuple[str, ...] | None
    trajectories: bool
    part: str
    curve: CurvePlan | None


_QUEUE: Any = None  # in a worker process: where probes and progress go


class Engine:
    """The values of `cases` on `backends` x `dtypes` (x devices), started at once in worker
    processes (see the module docstring); `result()` waits for them."""

    def __init__(
        self,
        cases: Sequence[Case],
        backends_: Sequence[BackendLike],
        dtypes: Sequence[str] = DTYPES,
        *,
        devices: Sequence[str] | None = None,
        jobs: int | None = None,
        trajectories: bool = True,
        part: str = "all",
        curve: CurvePlan | None = None,
    ):
        self.cases, self.dtypes, self.trajectories = list(cases), list(dtypes), trajectories
        self.names = [name_of(b) for b in backends_]
        self.order = [(n, dt) for n in self.names for dt in self.dtypes]
        job = _Job(tuple(cases), tuple(devices) if devices else None, trajectories, part, curve)
        units = [_Unit(b, (dt,), _declared(b)) for b in backends_ for dt in self.dtypes]
        costs = _costs(self.cases, self.names, trajectories, part, curve)
        shares = _plan(units, min(jobs or os.cpu_count() or 1, len(units)), costs)
        self.pool: ProcessPoolExecutor | None = None
        self.queue: Any = queue.SimpleQueue()
        self._found: dict[str, Probe] = {}
        self._names_set = set(self.names)
        self._tick: Tick | None = None
        if len(shares) <= 1 or not _sendable(backends_):
            self.futures: list[Any] = [_Deferred(lambda: _compute_share(job, units, self.queue))]
            return
        ctx = multiprocessing.get_context("spawn")
        self.queue = ctx.Queue()
        self.pool = ProcessPoolExecutor(len(shares), mp_context=ctx, initializer=_worker_init, initargs=(self.queue,))
        self.futures = [self.pool.submit(_compute_share, job, share) for share in shares]

    def probes(self) -> dict[str, Probe]:
        """Each backend's status and devices, as soon as the workers have loaded them (without
        importing any framework here)."""
        if self.pool is None:
            self.futures[0].result()
        while len(self._found) < len(self._names_set):
            if not self._receive(1.0) and all(f.done() for f in self.futures):  # a worker died before reporting
                lost = Probe("", "unavailable: its worker failed")
                self._found.update({n: replace(lost, name=n) for n in self.names if n not in self._found})
        return {n: self._found[n] for n in dict.fromkeys(self.names)}

    def result(self, tick: Tick | None = None) -> Computed:
        """Waits for the workers, filling the oracle's caches meanwhile; `tick(label)` as each
        backend x dtype x device is done."""
        self._tick = tick
        if self.pool is None:  # in-process: the values first, so a wide case's oracle does not wait in memory
            self.futures[0].result()
        for case in self.cases:
            for dt in self.dtypes:
                matrix.prepare(case, dt, self.trajectories)
                if matrix.wide(case) and tick is not None:  # minutes of exact values: a unit of progress
                    tick(f"exact values {case.name} {dt}")
        while not all(f.done() for f in self.futures):
            self._receive(0.2)
        computed = Computed()
        for future in self.futures:
            statuses, values, curves = future.result()
            computed.unavailable.update({n: s for n, s in statuses.items() if s != "available"})
            computed.values.update(values)
            computed.curves.update(curves)
        while self._receive(0):
            pass
        self.cancel()
        rank = {key: k for k, key in enumerate(self.order)}
        computed.values = dict(sorted(computed.values.items(), key=lambda kv: rank[(kv[0][1].backend, kv[0][1].dtype)]))
        return computed

    def _receive(self, timeout: float) -> bool:
        """Takes one message from the workers (a probe, or a cell done); False if none came."""
        try:
            kind, item = self.queue.get(timeout=timeout) if timeout else self.queue.get_nowait()
        except (queue.Empty, OSError, ValueError, EOFError):
            return False
        if kind == "probe":
            self._found[item.name] = item
        elif kind == "done" and self._tick is not None:
            self._tick(item)
        return True

    def cancel(self) -> None:
        if self.pool is not None:
            processes = list((getattr(self.pool, "_processes", None) or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            self.pool = None


def records_of(case: Case, computed: Computed, dtypes: Sequence[str], trajectories: bool = True) -> list[Record]:
    """Each computed value of `case` judged against the exact value (a wide case's passes
    counted per stage: bpcheck/compact.py)."""
    if matrix.wide(case):
        return [
            r
            for (name, c), v in computed.values.items()
            if name == case.name
            for r in compact.records(case, c, v, trajectories)  # type: ignore[arg-type]
        ]
    exact = {dt: exact_values(case, dt, trajectories) for dt in dtypes}
    allowed = {dt: allowances(case, dt, trajectories) for dt in dtypes}
    return [
        judge(case, c, t, v[key], exact[c.dtype][key], allowed[c.dtype][key])
        for (name, c), v in computed.values.items()
        if name == case.name
        for t in targets(case, trajectories)
        if (key := (t.quantity, t.config)) in v
    ]


def crosscheck(
    cases: Sequence[Case],
    backends_: Sequence[BackendLike],
    dtypes: Sequence[str] = DTYPES,
    *,
    devices: Sequence[str] | None = None,
    jobs: int | None = None,
    trajectories: bool = True,
    part: str = "all",
    curve: CurvePlan | None = None,
    tick: Tick | None = None,
) -> Outcome:
    """Every case on every backend x dtype x device, judged: records in the cases' order;
    `tick(label)` as each cell is done (Engine.result)."""
    engine = Engine(
        cases, backends_, dtypes, devices=devices, jobs=jobs, trajectories=trajectories, part=part, curve=curve
    )
    computed = engine.result(tick)
    records = [r for case in cases for r in records_of(case, computed, dtypes, trajectories)]
    return Outcome(records, computed.unavailable, computed.curves)


@dataclass
class _Deferred:
    """The in-process stand-in for a future: runs once, when first asked."""

    call: Callable[[], Any]

    def result(self) -> Any:
        if not hasattr(self, "_value"):
            self._value = self.call()
        return self._value

    def done(self) -> bool:
        return hasattr(self, "_value")


def _declared(b: BackendLike) -> Declaration | None:
    """A named backend's declaration, for the workers: bundled ones they know already."""
    if not isinstance(b, str) or b in backends.bundled() or b not in backends.names():
        return None
    return backends.declaration(b)


def _sendable(bs: Sequence[BackendLike]) -> bool:
    """Whether every backend can be sent to a worker process: objects and declarations that
    pickle (a backend registered with a function rather than a "module:attr" path does not)."""
    try:
        pickle.dumps([b if not isinstance(b, str) else _declared(b) for b in bs])
        return True
    except Exception:
        return False


def _worker_init(q: Any) -> None:
    """Workers already fill the cores; a framework's own thread pool would only contend (and
    spin) for them. Set before any framework is imported in the worker."""
    global _QUEUE
    _QUEUE = q
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"


def _compute_share(
    job: _Job, share: list[_Unit], out: Any = None
) -> tuple[dict[str, str], dict[tuple[str, Cell], Values], dict[Cell, list[float] | str]]:
    """A worker's share: each backend loaded once, then every case in each of its dtypes."""
    report = out if out is not None else _QUEUE
    statuses: dict[str, str] = {}
    probes: dict[str, Probe] = {}
    for unit in share:
        if unit.declaration is not None:
            with suppress(backends.Unavailable):
                backends.load(unit.declaration)  # registers it here if this process does not know it
    for b in dict.fromkeys(u.backend for u in share):
        probes[name_of(b)] = found = probe(b)
        statuses[found.name] = found.status
        if report is not None:  # tell the parent at once (tests/conftest.py builds the matrix from it)
            report.put(("probe", found))
    values: dict[tuple[str, Cell], Values] = {}
    curves: dict[Cell, list[float] | str] = {}
    for unit in share:
        found = probes[name_of(unit.backend)]
        if found.status != "available":
            continue
        b = resolve(unit.backend)
        devices = [d for d in found.devices if job.devices is None or d in job.devices]
        for cell in (Cell(found.name, dt, dev) for dt in unit.dtypes for dev in devices):
            for case in job.cases:
                values[(case.name, cell)] = compute_cell(case, b, cell, job.trajectories, job.part)
            if job.curve and cost.in_part(cell.backend, job.curve.steps, job.part):
                curves[cell] = compute_curve(job.curve, b, cell)
            if report is not None:
                report.put(("done", cell.id))
    return statuses, values, curves


def _costs(
    cases: list[Case], names: list[str], trajectories: bool, part: str, curve: CurvePlan | None
) -> dict[str, float]:
    """Rough seconds per backend and dtype for its selected targets (bpcheck/cost.py)."""
    out = {name: 0.0 for name in names}
    for name in names:
        for case in cases:
            later = matrix.trajectory_targets(case, trajectories)  # the single-step ones share updates=None
            chosen = [t for t in later if cost.in_part(name, t.updates, part)] or cost.in_part(name, None, part)
            if chosen:
                runs = {(t.config, t.updates) for t in later if t.updates and cost.in_part(name, t.updates, part)}
                out[name] += cost.estimate(name, [n for _, n in runs])
        if curve and cost.in_part(name, curve.steps, part):
            out[name] += cost.estimate(name, [curve.steps])
        if out[name]:
            out[name] += cost.import_seconds(name) / 2  # once per worker; ~2 units a backend
    return out


def _plan(units: list[_Unit], jobs: int, costs: dict[str, float]) -> list[list[_Unit]]:
    """Split units into `jobs` shares of similar cost, keeping a backend's units in one share
    (one framework import per worker) unless they outweigh half a share."""
    if jobs <= 1:
        return [units]
    cost_of = lambda us: sum(costs.get(name_of(u.backend), 1.0) * len(u.dtypes) for u in us)
    groups: dict[str, list[_Unit]] = {}
    for u in units:
        groups.setdefault(name_of(u.backend), []).append(u)
    fair = cost_of(units) / jobs
    pieces = [p for g in groups.values() for p in ([g] if cost_of(g) <= fair / 2 else [[u] for u in g])]
    shares: list[list[_Unit]] = [[] for _ in range(jobs)]
    for piece in sorted(pieces, key=cost_of, reverse=True):
        min(shares, key=cost_of).extend(piece)
    return [s for s in shares if s]
