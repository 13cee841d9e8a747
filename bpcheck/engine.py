"""The engine: run backends on cases, name every value, judge each against the exact value.

`crosscheck(cases, backends, dtypes)` is the one way anything in the project computes a
backend's values (run, report and its curves, explain, verify --backend, the pytest plugin,
the test suite). It takes Case objects and backends (registered names, or objects that
implement the protocol) and returns judged records (bpcheck/judge.py).

Isolation and parallelism are decided here alone: with more than one job, the work is split
into per-backend shares of similar cost (bpcheck/cost.py) that run in spawned worker
processes, so each worker imports each framework once for every case, and the caller imports
none; with one job (or a backend object that cannot be sent to a worker) it runs in-process.

Faults are results, not crashes (backends/faults.py): whatever a backend's code raises or
returns (an exception, SystemExit, its own KeyboardInterrupt, NaN, None, a string, an array,
devices() with no device) becomes a failed value or an unavailable backend with the reason,
in a worker or in-process alike; a worker that dies takes its share's backends with it, as
unavailable. A real Ctrl-C stops the run: workers ignore SIGINT, and the parent cancels the
pool and terminates them. Workers also exit when the parent dies, even by SIGKILL.
"""

from __future__ import annotations

import multiprocessing
import numbers
import os
import pickle
import queue
import reprlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bpcheck import backends, compact, cost, matrix
from bpcheck.backends import faults
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
    if isinstance(b, str):
        return b
    try:
        return str(getattr(b, "name", type(b).__name__))
    except BaseException as err:  # a `name` property that raises
        if faults.genuine(err):
            raise
        return type(b).__name__


def resolve(b: BackendLike) -> Backend:
    """The backend object (loading a registered name's framework here)."""
    return backends.get(b) if isinstance(b, str) else b


class _Fault(Exception):
    """A backend's result that breaks the protocol; str() is the reason, as it is shown."""


def _reason(err: BaseException) -> str:
    """Why a backend's call gave no result: a _Fault's own words, else the exception's type and
    first line. A real Ctrl-C is not a reason: it goes on (backends/faults.py)."""
    if faults.genuine(err):
        raise err
    return str(err) if isinstance(err, _Fault) else faults.describe(err)


def probe(b: BackendLike) -> Probe:
    """The backend's status and devices. A backend whose devices() raises, or names no device,
    is unavailable with the reason: it can compute nothing."""
    name = name_of(b)
    status = backends.status(b) if isinstance(b, str) else "available"
    if status != "available":
        return Probe(name, status)
    obj = resolve(b)
    with _calling_backend():
        try:
            devices = _devices(obj.devices())
        except _Fault as err:
            return Probe(name, f"unavailable: devices() {err}")
        except BaseException as err:
            return Probe(name, f"unavailable: devices() raised {_reason(err)}")
        try:
            accelerator = getattr(obj, "accelerator", None)
            if accelerator and str(accelerator) not in devices:
                missing = str(obj.accelerator_missing())  # type: ignore[attr-defined]
                return Probe(name, status, devices, str(accelerator), missing)
        except BaseException as err:
            return Probe(name, f"unavailable: its accelerator cannot be read: {_reason(err)}")
    return Probe(name, status, devices)


def _devices(found: Any) -> tuple[str, ...]:
    if not isinstance(found, list | tuple) or not all(isinstance(d, str) for d in found):
        raise _Fault(f"returned {_shown(found)}, not a list of device names")
    if not found:
        raise _Fault("returned no device")
    return tuple(found)


def _shown(v: Any) -> str:
    """A value a backend returned, shown short: its type and the start of its repr."""
    return f"{type(v).__name__} {reprlib.repr(v)}"


def _value(v: Any) -> float | str:
    """A backend's value as the float it must be (NaN and inf included: the judge decides
    them), or why it is not one: bool, None, a string, an array or a tensor are not numbers."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return f"not a number: {_shown(v)}"
    try:
        return float(v)
    except BaseException as err:
        return f"not a number: {_shown(v)} ({_reason(err)})"


def _quantities(result: Any, method: str) -> Mapping[Any, Any]:
    if not isinstance(result, Mapping):
        raise _Fault(f"{method}() returned {_shown(result)}, not a dict of quantities")
    return result


@contextmanager
def _calling_backend() -> Iterator[None]:
    """Around a backend's own code: NumPy's floating-point warnings silenced (an overflow is
    judged, not warned about on stderr), and a real Ctrl-C it swallowed raised again after."""
    with np.errstate(all="ignore"):
        yield
    faults.reraise_if_interrupted()


def step_values(case: Case, b: Backend, dtype: str, device: str) -> dict[str, float]:
    """Every quantity of one training step from a backend, by the protocol's rules: forward and
    chain pieces of the plain gradient, the updates (`w5+`) under the case's rule."""
    params = rounded_parameters(case, dtype)
    return {
        **_quantities(b.forward(case, params, dtype, device), "forward"),
        **_quantities(b.gradients(case, params, dtype, device), "gradients"),
        **{f"{k}+": v for k, v in _quantities(b.step(case, params, case.config, dtype, device), "step").items()},
    }


def _trained(
    case: Case, b: Backend, params: dict[str, float], config: str, steps: int, cell: Cell
) -> Mapping[Any, Any]:
    """The parameters after `steps` updates and the forward pass from them, by name."""
    tr = b.train(case, params, case.configs[config], steps, cell.dtype, cell.device)
    trained = _quantities(getattr(tr, "params", None), "train")
    return {**trained, **_quantities(b.forward(case, dict(trained), cell.dtype, cell.device), "forward")}


MISSING = "missing from the backend's results"


def compute_cell(case: Case, b: Backend, cell: Cell, trajectories: bool = True, part: str = "all") -> Values:
    """Every selected target's value from one backend: a float, or why there is none (whatever
    the backend raised, SystemExit and its own KeyboardInterrupt included, or returned instead
    of a number)."""
    if matrix.wide(case):  # by position, not by name (bpcheck/compact.py)
        with _calling_backend():
            return compact.compute(case, b, cell, trajectories, part, _reason)  # type: ignore[return-value]
    params = rounded_parameters(case, cell.dtype)
    chosen = selected(case, cell, trajectories, part)
    step: Mapping[Any, Any] | str = {}
    with _calling_backend():
        if any(t.updates is None for t in chosen):
            try:
                step = step_values(case, b, cell.dtype, cell.device)
            except BaseException as err:  # a backend that breaks is a result, not a crash
                step = _reason(err)
        trained: dict[tuple[str, int], Mapping[Any, Any] | str] = {}
        out: Values = {}
        for t in chosen:
            if t.updates is None:
                if isinstance(step, str):
                    out[(t.quantity, t.config)] = step
                else:
                    out[(t.quantity, t.config)] = _value(step[t.quantity]) if t.quantity in step else MISSING
                continue
            key = (t.config, t.updates)
            if key not in trained:
                try:
                    trained[key] = _trained(case, b, params, t.config, t.updates, cell)
                except BaseException as err:
                    trained[key] = _reason(err)
            result = trained[key]
            base = split_trajectory_name(t.quantity)[0]  # type: ignore[index]
            if isinstance(result, str):
                out[(t.quantity, t.config)] = result
            else:
                out[(t.quantity, t.config)] = _value(result[base]) if base in result else MISSING
    return out


def compute_curve(plan: CurvePlan, b: Backend, cell: Cell) -> list[float] | str:
    """E_total of every training step (Training.losses) from one backend, or why not."""
    case = plan.case
    with _calling_backend():
        try:
            params = rounded_parameters(case, cell.dtype)
            tr = b.train(case, params, case.configs[plan.config], plan.steps, cell.dtype, cell.device)
            found = getattr(tr, "losses", None)
            if not isinstance(found, list | tuple):
                raise _Fault(f"train() returned losses {_shown(found)}, not a list of numbers")
            losses = [_value(x) for x in found]
        except BaseException as err:
            return _reason(err)
    wrong = next((x for x in losses if isinstance(x, str)), None)
    return wrong if wrong is not None else [float(x) for x in losses]


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
        self.shares = shares
        if len(shares) <= 1 or not _sendable(backends_):
            self.shares = [units]
            self.futures: list[Any] = [_Deferred(lambda: _in_process(job, units, self.queue))]
            return
        ctx = multiprocessing.get_context("spawn")
        self.queue = ctx.Queue()
        main = threading.current_thread() is threading.main_thread()
        self.pool = ProcessPoolExecutor(
            len(shares), mp_context=ctx, initializer=_worker_init, initargs=(self.queue, os.getpid(), main)
        )
        try:
            with _sigint_blocked():  # workers start with SIGINT blocked, until they ignore it
                self.futures = [self.pool.submit(_compute_share, job, share) for share in shares]
        except BaseException:
            self.cancel()
            raise

    def probes(self) -> dict[str, Probe]:
        """Each backend's status and devices, as soon as the workers have loaded them (without
        importing any framework here)."""
        try:
            if self.pool is None:
                self.futures[0].result()
            while len(self._found) < len(self._names_set):
                if not self._receive(1.0) and all(f.done() for f in self.futures):  # a worker died before reporting
                    lost = Probe("", "unavailable: its worker failed")
                    self._found.update({n: replace(lost, name=n) for n in self.names if n not in self._found})
        except BaseException:  # Ctrl-C: no worker outlives the run
            self.cancel()
            raise
        return {n: self._found[n] for n in dict.fromkeys(self.names)}

    def result(self, tick: Tick | None = None) -> Computed:
        """Waits for the workers, filling the oracle's caches meanwhile; `tick(label)` as each
        backend x dtype x device is done. A share whose worker failed (it died: a plug-in that
        called os._exit or crashed the interpreter) leaves its backends unavailable, with why."""
        self._tick = tick
        try:
            if self.pool is None:  # in-process: the values first, so a wide case's oracle does not wait in memory
                self.futures[0].result()
            for case in self.cases:
                for dt in self.dtypes:
                    matrix.prepare(case, dt, self.trajectories)
                    if matrix.wide(case) and tick is not None:  # minutes of exact values: a unit of progress
                        tick(f"exact values {case.name} {dt}")
            while not all(f.done() for f in self.futures):
                self._receive(0.2)
        except BaseException:  # Ctrl-C: no worker outlives the run
            self.cancel()
            raise
        computed = Computed()
        for share, future in zip(self.shares, self.futures):
            if isinstance(future, _Deferred):
                statuses, values, curves = future.result()  # in-process: an error here is the engine's own
            else:
                try:
                    statuses, values, curves = future.result()
                except BaseException as err:
                    lost = f"unavailable: its worker failed ({_reason(err)})"  # a real Ctrl-C goes on
                    statuses, values, curves = {name_of(u.backend): lost for u in share}, {}, {}
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
        """Stops the workers: pending shares cancelled, every worker terminated and reaped."""
        if self.pool is not None:
            processes = list((getattr(self.pool, "_processes", None) or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                with suppress(Exception):
                    process.terminate()
            deadline = time.monotonic() + 2.0
            for process in processes:
                with suppress(Exception):
                    process.join(max(0.0, deadline - time.monotonic()))
                    if process.is_alive():
                        process.kill()
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
    except BaseException as err:  # whatever its own __reduce__ raises
        if faults.genuine(err):
            raise
        return False


def _in_process(job: _Job, share: list[_Unit], out: Any) -> Any:
    """The whole run in this process, telling a real Ctrl-C from a plug-in's own KeyboardInterrupt."""
    with faults.watching():
        return _compute_share(job, share, out)


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT held back in this thread while it starts workers: they inherit the mask, so a Ctrl-C
    during their start-up cannot interrupt them before `_worker_init` ignores it (here it is
    delivered when the block ends)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _worker_init(q: Any, parent: int, main_thread: bool) -> None:
    """A worker: SIGINT ignored (the parent alone handles Ctrl-C, so a KeyboardInterrupt here
    is a plug-in's own), gone when its parent is (`_exit_with_parent`), and one thread per
    framework: workers already fill the cores, and a framework's own thread pool would only
    contend (and spin) for them. Set before any framework is imported in the worker."""
    global _QUEUE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _exit_with_parent(parent, main_thread)
    _QUEUE = q
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"


#: How often a worker checks that its parent is alive, in seconds.
PARENT_POLL = 0.5


def _exit_with_parent(parent: int, main_thread: bool) -> None:
    """The worker exits as soon as its parent dies, however it dies (SIGKILL included): on Linux
    the kernel kills it (PR_SET_PDEATHSIG; only for a pool started from the parent's main
    thread, since the signal follows the thread that started the worker), and everywhere a
    daemon thread watches for the parent's pid to change."""
    if main_thread and sys.platform.startswith("linux"):
        with suppress(Exception):
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the watch began
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os._exit(1)

    threading.Thread(target=watch, name="bpcheck-parent-watch", daemon=True).start()


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
    """Rough seconds per backend and dtype for its selected targets (bpcheck/cost.py), without
    the framework's import (`_plan` counts that once per family and share)."""
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
    return out


def _plan(units: list[_Unit], jobs: int, costs: dict[str, float]) -> list[list[_Unit]]:
    """Split units into `jobs` shares of similar cost, longest first. A framework family's units
    (torch, torch-func) stay in one share, so its import is paid once (counted once per share);
    only a family whose work, imports aside, outweighs a fair share is split (by backend, then by
    dtype), since each share it is split into imports the framework again."""
    if jobs <= 1:
        return [units]
    family = lambda u: backends.declared(name_of(u.backend)).family  # noqa: E731
    work = lambda us: sum(costs.get(name_of(u.backend), 1.0) * len(u.dtypes) for u in us)  # noqa: E731
    imports = lambda us: sum(cost.import_seconds(name_of(u.backend)) for u in {family(u): u for u in us}.values())  # noqa: E731
    cost_of = lambda us: work(us) + imports(us) if any(costs.get(name_of(u.backend), 1.0) for u in us) else 0.0  # noqa: E731
    fair = cost_of(units) / jobs

    def pieces(group: list[_Unit], by: Callable[[_Unit], Any]) -> list[list[_Unit]]:
        split: dict[Any, list[_Unit]] = {}
        for u in group:
            split.setdefault(by(u), []).append(u)
        return list(split.values())

    out: list[list[_Unit]] = []
    for fam in pieces(units, family):
        if work(fam) <= fair:
            out.append(fam)
            continue
        for one in pieces(fam, lambda u: name_of(u.backend)):
            out += [one] if work(one) <= fair else [[u] for u in one]
    shares: list[list[_Unit]] = [[] for _ in range(jobs)]
    for piece in sorted(out, key=cost_of, reverse=True):
        min(shares, key=cost_of).extend(piece)
    return [s for s in shares if s]
