"""Someone's own implementation: loaded from `package.module:Object`, checked against the
protocol, run through the cross-check on every bundled case and dtype, and walked."""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from bpcheck import backends, engine
from bpcheck.backends import faults
from bpcheck.backends.protocol import METHODS
from bpcheck.judge import Record
from bpcheck.reference.case import Case
from bpcheck.reference.quantities import split_trajectory_name
from bpcheck.verify.check import check_computed
from bpcheck.verify.walk import Walk


class LoadError(ValueError):
    """An object that cannot be used as a backend; the message is one line."""


def load_backend(spec: str) -> Any:
    """The backend named by `spec`: `package.module:Object` (an instance, or a class or
    factory called with no arguments), or the name of a registered backend."""
    if ":" not in spec:
        if spec in backends.names():
            try:
                return backends.get(spec)
            except backends.Unavailable as err:
                raise LoadError(f"backend {spec} is unavailable: {err}") from None
        raise LoadError(
            f"--backend expects package.module:Object or one of {', '.join(backends.names())}; got {spec!r}"
        )
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise LoadError(f"--backend expects package.module:Object, got {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` would: the current folder's packages
    try:  # whatever the module's own code raises, SystemExit included, is its failure (backends/faults.py)
        module = importlib.import_module(module_name)
    except BaseException as err:
        raise LoadError(f"cannot import {module_name}: {_reason(err)}") from None
    try:
        return _backend_of(module, spec, module_name, attr)
    except LoadError:
        raise
    except BaseException as err:
        raise LoadError(f"{spec} cannot be loaded: {_reason(err)}") from None


def _reason(err: BaseException) -> str:
    if faults.genuine(err):
        raise err
    return faults.describe(err)


def _backend_of(module: Any, spec: str, module_name: str, attr: str) -> Any:
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise LoadError(f"{module_name} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "forward")):
        try:
            obj = obj()
        except BaseException as err:
            raise LoadError(f"{spec}() raised {_reason(err)}") from None
    for method in METHODS:
        if not callable(getattr(obj, method, None)):
            raise LoadError(
                f"{spec} is not a backend: it has no method {method}() (the protocol: {', '.join(METHODS)})"
            )
    return obj


@dataclass
class CellResult:
    """One case x dtype x device: the walk of its single-step values, or why there is none."""

    case: str
    dtype: str
    device: str
    walk: Walk | None = None
    skipped: str | None = None  # the backend does not do this case (NotImplementedError), or the walk cannot
    error: str | None = None  # the backend raised
    missing: dict[str, str] = field(default_factory=dict)  # quantity -> why there is no value
    step_failures: list[str] = field(default_factory=list)  # the cross-check's failing single-step values
    trajectory_failures: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.error or self.missing or self.step_failures or self.trajectory_failures)


def verify_backend(backend: Any, cases: list[Case], dtypes: list[str], trajectories: bool) -> list[CellResult]:
    """Every case and dtype: the cross-check against the exact oracle, then the walk. The
    object is handed to the engine as it is: nothing is registered."""
    outcome = engine.crosscheck(cases, [backend], dtypes, jobs=1, trajectories=trajectories)
    if outcome.unavailable:
        reason = next(iter(outcome.unavailable.values()))
        return [CellResult(case.name, dt, "?", error=reason) for case in cases for dt in dtypes]
    cells: dict[tuple[str, str, str], list[Record]] = {}
    for r in outcome.records:
        cells.setdefault((r.case, r.dtype, r.device), []).append(r)
    by_name = {case.name: case for case in cases}
    return [_cell(by_name[name], dt, dev, rs) for (name, dt, dev), rs in cells.items()]


def _cell(case: Case, dtype: str, device: str, records: list[Record]) -> CellResult:
    res = CellResult(case.name, dtype, device)
    step = [r for r in records if split_trajectory_name(r.quantity) is None]
    res.trajectory_failures = [r.quantity for r in records if r not in step and r.failed]
    errors = {r.quantity: r.error for r in step if r.error and r.failed}  # not an inf that is ill-conditioned
    if errors and len(errors) == len(step):
        message = next(iter(errors.values())) or ""
        if message.startswith("NotImplementedError"):
            res.skipped, res.trajectory_failures = f"the backend does not do this case ({message})", []
        else:
            res.error = message
        return res
    res.missing = {q: e for q, e in errors.items() if e}
    res.step_failures = [r.quantity for r in step if r.value is not None and r.failed]
    values = {r.quantity: r.value for r in step if r.value is not None}
    bounds = {r.quantity: r.allowed_ulps for r in step}
    try:
        res.walk = check_computed(case, dtype, values, bounds)  # type: ignore[arg-type]
    except (KeyError, ValueError, NotImplementedError) as err:  # a network the walk does not know yet
        res.skipped = f"the walk cannot handle this case yet ({type(err).__name__}: {err})"
    return res
