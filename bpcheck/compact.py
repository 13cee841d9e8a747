"""The compact path for wide cases (matrix.wide: more than matrix.WIDE quantities of one step):
the same values, exact values, bounds and verdicts as the engine's, held by position instead of
by name, so that a network of millions of parameters fits in memory (docs/limits.md).

- A backend's values of a cell are a float64 array in the order of `matrix.targets` (CellValues),
  not a dict of names; what is not a float (an error message) is kept apart, by position. The
  bundled backends hand them back by position (quantities.Positional), read as one array.
- The exact values are held exactly as float64 expansions in that order (matrix.step_exact,
  oracle.ExactValues), the bounds as two arrays (matrix.step_bounds); the case's parameters are
  one array (Positional) and the oracle and error model make the wide layers a row at a time.
- Judging: every value whose pass is certain from float64 arithmetic alone is counted, not
  recorded: |value - float(exact)| rounded up, plus half an ULP of float(exact) (how far the
  exact value can be from its rounding), at most the radius, and the radius below |exact|'s lower
  bound. That is tolerance.verdict's first "pass" branch with every rounding against it, so the
  verdict is the same; any other value (a failure, ill-conditioned, an error, a published figure,
  or one too close to call) goes through judge.judge against the exact value, one Record each.
  The counted passes become one Record per stage (`count` values, verdict pass).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bpcheck import matrix
from bpcheck.backends.protocol import Backend
from bpcheck.cost import in_part
from bpcheck.judge import Cell, Passes, Record, Target, judge
from bpcheck.reference.case import Case
from bpcheck.reference.oracle import rounded_parameters
from bpcheck.reference.quantities import Positional, split_trajectory_name
from bpcheck.reference.tolerance import Allowance

_U = 2.0**-53  # float64's unit roundoff
_TINY = 2.0**-1074


@dataclass
class CellValues:
    """One cell's values of a wide case, by position in matrix.targets: `values` (NaN where
    there is none), `present` (whether the target was computed in this part of the run) and
    `other`: what is not a float, by position (an error message, or a non-number)."""

    values: np.ndarray
    present: np.ndarray
    other: dict[int, Any] = field(default_factory=dict)
    everywhere: str | None = None  # one message for every single-step value (the backend raised)

    def get(self, k: int) -> Any:
        if k in self.other:
            return self.other[k]
        if self.everywhere is not None and k < self.step_count:
            return self.everywhere
        return float(self.values[k])

    step_count: int = 0


def compute(case: Case, b: Backend, cell: Cell, trajectories: bool, part: str, message: Any) -> CellValues:
    """engine.compute_cell for a wide case. `message(err)`: an exception as the cell's text."""
    lay = case.layout
    q = lay.quantity_count
    later = matrix.trajectory_targets(case, trajectories)
    out = CellValues(np.full(q + len(later), np.nan), np.zeros(q + len(later), bool), step_count=q)
    params = rounded_parameters(case, cell.dtype)
    if in_part(cell.backend, None, part):
        out.present[:q] = True
        try:
            _fill(out, lay, b.forward(case, params, cell.dtype, cell.device), "forward")
            _fill(out, lay, b.gradients(case, params, cell.dtype, cell.device), "gradients")
            updates = b.step(case, params, case.config, cell.dtype, cell.device)
            first = q - lay.parameter_count  # the updates come last, in the order of lay.parameters
            if _by_position(updates, lay, None, lay.parameter_count):
                out.values[first:] = updates.array
            else:
                for k, p in enumerate(lay.parameter_names(), first):
                    _put(out, k, updates.get(p, "missing from the backend's results"))
            del updates
        except BaseException as err:  # a backend that breaks is a result, not a crash (`message` re-raises Ctrl-C)
            out.everywhere = message(err)
        finally:
            forget = getattr(b, "forget_traces", None)  # what the backend kept of its step: not needed again
            if callable(forget):
                forget()
    trained: dict[tuple[str, int], dict[str, float] | str] = {}
    for k, t in enumerate(later, q):
        if not in_part(cell.backend, t.updates, part):
            continue
        out.present[k] = True
        key = (t.config, t.updates)
        if key not in trained:
            try:
                tr = b.train(case, params, case.configs[t.config], t.updates, cell.dtype, cell.device)  # type: ignore[arg-type]
                trained[key] = {**tr.params, **b.forward(case, tr.params, cell.dtype, cell.device)}
            except BaseException as err:
                trained[key] = message(err)
        result = trained[key]
        base = split_trajectory_name(t.quantity)[0]  # type: ignore[index]
        _put(out, k, result if isinstance(result, str) else result.get(base, "missing from the backend's results"))
    return out


def _by_position(got: Any, lay: Any, start: int | None, count: int) -> bool:
    """Whether a protocol call's result is a Positional (reference/quantities.py) holding exactly
    the quantities asked, from `start` (None: the parameters), unedited: read as an array."""
    return (
        isinstance(got, Positional)
        and got.intact
        and got.start == start
        and len(got.array) == count
        and got.layout == lay
    )


def _fill(out: CellValues, lay: Any, got: dict[str, Any], part: str) -> None:
    """Each quantity of `part` (Layout.span) from a protocol call's dict, into its position."""
    start, end = lay.span(part)
    if _by_position(got, lay, start, end - start):
        out.values[start:end] = got.array  # type: ignore[attr-defined]
        return
    for k, name in enumerate(itertools.islice(lay.step_names(), start, end), start):  # a call's stages: consecutive
        _put(out, k, got.get(name, "missing from the backend's results"))


def _put(out: CellValues, k: int, v: Any) -> None:
    if type(v) is float or isinstance(v, np.floating):
        out.values[k] = v
    else:
        out.other[k] = v


def records(case: Case, cell: Cell, got: CellValues, trajectories: bool) -> list[Record]:
    """engine.records_of for one cell of a wide case: a Record for every value that is not a
    certain pass, then one per stage counting the certain passes."""
    lay, dtype = case.layout, cell.dtype
    q = lay.quantity_count
    exact, hi = matrix.step_exact(case, dtype), matrix.step_floats(case, dtype)
    radius, kink = matrix.step_bounds(case, dtype)
    values = got.values[:q]
    sure = certain_passes(values, hi, radius, kink) & got.present[:q]
    equal = np.flatnonzero(~sure & (values == hi) & (radius >= 0) & got.present[:q])
    sure[equal] = exact.equal_to(equal, values[equal])  # equal to exact: `off == 0` passes
    if got.everywhere is not None:
        sure[:] = False
    for k in got.other:
        if k < q:
            sure[k] = False
    printed = {f.quantity: f for f in case.published}
    judged = ~sure & got.present[:q]
    if printed:  # a published figure is judged (reproduced or not) even where it passes
        for k, name in enumerate(lay.step_names()):
            judged[k] |= name in printed and bool(got.present[k])
    out: list[Record] = []
    positions = np.flatnonzero(judged).tolist()
    for k, name in zip(positions, _names_at(lay.step_names(), positions)):
        target = Target(name, case.default_config, None, published=printed.get(name))
        allowance = Allowance(float(radius[k]), float(radius[k]), bool(kink[k]))
        out.append(judge(case, cell, target, got.get(k), exact[k], allowance))
        sure[k] = False
    counts = {stage: int(np.count_nonzero(sure[first:end])) for stage, (first, end) in lay.stage_spans().items()}
    out += [passes(case, cell, stage, n) for stage, n in counts.items() if n]
    later = matrix.trajectory_targets(case, trajectories)
    if later and got.present[q:].any():
        exact_later = matrix.trajectory_exact(case, dtype, trajectories)
        allowed_later = matrix.trajectory_allowances(case, dtype, trajectories)
        for k, t in enumerate(later, q):
            if got.present[k]:
                key = (t.quantity, t.config)
                out.append(judge(case, cell, t, got.get(k), exact_later[key], allowed_later[key]))
    return out


def _names_at(names: Iterator[str], positions: list[int]) -> Iterator[str]:
    """The names at `positions` (ascending) of a stream of names."""
    at = 0
    for k in positions:
        yield next(itertools.islice(names, k - at, None))
        at = k + 1


def certain_passes(values: np.ndarray, hi: np.ndarray, radius: np.ndarray, kink: np.ndarray) -> np.ndarray:
    """Where tolerance.verdict is certainly "pass" from float64 arithmetic: `hi` is the exact
    value rounded to nearest, so |exact - hi| <= u |hi| + tiny; each bound below is rounded
    against the pass (a relative 4u), and anything not finite is left to the exact judge. In
    blocks of CHUNK values: the temporaries of millions would outweigh the arrays."""
    ok = np.empty(len(values), dtype=bool)
    for first in range(0, len(values), CHUNK):
        part = slice(first, first + CHUNK)
        ok[part] = _certain(values[part], hi[part], radius[part], kink[part])
    return ok


#: Values judged at once by certain_passes.
CHUNK = 1 << 20


def _certain(values: np.ndarray, hi: np.ndarray, radius: np.ndarray, kink: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):
        off_hi = np.abs(values - hi) * (1 + 4 * _U) + np.abs(hi) * (_U * (1 + 4 * _U)) + 2 * _TINY
        low = np.abs(hi) * (1 - 4 * _U) - 2 * _TINY  # |exact| is at least this
        ok = np.isfinite(values) & np.isfinite(off_hi) & np.isfinite(radius)
        ok &= off_hi <= radius * (1 - 4 * _U)
        ok &= kink | (radius * (1 + 4 * _U) < low)
    return ok


def passes(case: Case, cell: Cell, stage: str, count: int) -> Record:
    """The Record standing for `count` values of `stage` that pass."""
    return Passes(
        case=case.name,
        backend=cell.backend,
        dtype=cell.dtype,
        device=cell.device,
        quantity=f"({count:,} {stage} values)",
        value=None,
        exact="",
        ulps=None,
        allowed_ulps=None,
        condition=None,
        published=None,
        verdict="pass",
        config=case.default_config,
        measured="after-update",
        count=count,
    )
