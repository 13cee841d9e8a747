"""What the cross-check asks of a case: its targets (every quantity of one step, and the
figures that need training), their exact values and how far from them each may be. The engine
(bpcheck/engine.py) computes the backends' values of these targets and the judge
(bpcheck/judge.py) holds them to the exact ones."""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np

from bpcheck import backends
from bpcheck.cost import in_part
from bpcheck.judge import Cell, Record, Target
from bpcheck.reference.bounds import UNIT_ROUNDOFF, Ball, forward_balls, step_ball_arrays, step_balls
from bpcheck.reference.case import PLAIN, Case
from bpcheck.reference.oracle import ExactValues, exact_after, exact_step, exact_step_values
from bpcheck.reference.quantities import WIDE as WIDE
from bpcheck.reference.quantities import split_trajectory_name
from bpcheck.reference.tolerance import TRAJECTORY_ULPS, Allowance
from bpcheck.reference.ulps import ulp

__all__ = ["DTYPES", "BUNDLED", "Cell", "Record", "Target", "targets", "selected", "exact_values", "allowances"]

DTYPES = ("float64", "float32")
#: Every bundled backend and execution mode (backends/__init__.py), in the matrix's order.
BUNDLED = tuple(backends.bundled())


def targets(case: Case, trajectories: bool = True) -> list[Target]:
    """Every single-step quantity under the case's default rule, then (unless `trajectories`
    is False) the figures that need N training steps."""
    printed = {f.quantity: f for f in case.published}
    out = [Target(name, case.default_config, None, published=printed.get(name)) for name in case.layout.step_names()]
    return out + trajectory_targets(case, trajectories)


def trajectory_targets(case: Case, trajectories: bool = True) -> list[Target]:
    """The targets after N training steps (none without `trajectories`): those of `targets` that
    follow the single-step quantities."""
    out: list[Target] = []
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


def by_rule(case: Case, plain: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any]:
    """One step's quantities as the protocol defines them: forward and chain pieces of the
    plain gradient, updates under the case's rule (they differ under output-first)."""
    stage_of = case.layout.stage_of
    return {k: (rule if stage_of[k] == "update" else plain)[k] for k in plain}


def exact_values(case: Case, dtype: str, trajectories: bool = True) -> dict[tuple[str, str], Any]:
    step = by_rule(case, exact_step(case, dtype, PLAIN), exact_step(case, dtype, case.config))
    out: dict[tuple[str, str], Any] = {(name, case.default_config): step[name] for name in case.layout.step_names()}
    out.update(trajectory_exact(case, dtype, trajectories))
    return out


def trajectory_exact(case: Case, dtype: str, trajectories: bool = True) -> dict[tuple[str, str], Any]:
    """exact_values of the targets after N training steps."""
    out: dict[tuple[str, str], Any] = {}
    for t in trajectory_targets(case, trajectories):
        base = split_trajectory_name(t.quantity)[0]  # type: ignore[index]
        out[(t.quantity, t.config)] = exact_after(case, dtype, case.configs[t.config], t.updates)[base]  # type: ignore[arg-type]
    return out


def step_allowances(case: Case, dtype: str) -> dict[str, Allowance]:
    """The error model's bound of every quantity of one step, by the protocol's rules (by_rule)."""
    plain, rule = step_balls(case, dtype, PLAIN), step_balls(case, dtype, case.config)
    return {k: Allowance(b.r, b.r, b.kink) for k, b in by_rule(case, plain, rule).items()}


def step_conditions(case: Case) -> dict[str, float]:
    """How much the error model lets each quantity of one step be off in float64, in units of its
    own rounding (u |exact|): 1 for a value rounded once, large where cancellation, saturation
    or a long chain amplify rounding (the oracles read it)."""
    exact = by_rule(case, exact_step(case, "float64", PLAIN), exact_step(case, "float64", case.config))
    u = UNIT_ROUNDOFF["float64"]
    return {
        k: max(1.0, a.radius / (u * abs(float(exact[k])))) if exact[k] else math.inf
        for k, a in step_allowances(case, "float64").items()
    }


def allowances(case: Case, dtype: str, trajectories: bool = True) -> dict[tuple[str, str], Allowance]:
    """How far each target may be from exact (reference/tolerance.py). One step: the error
    model's bound. After N training steps, a parameter: TRAJECTORY_ULPS of the largest parameter
    of its layer (a running sum of updates made at that scale, measured); an output or E_total:
    TRAJECTORY_ULPS of itself (measured), and, `derived`, that parameter drift carried through a
    forward pass of the error model (what a residual that vanishes is held to)."""
    step = step_allowances(case, dtype)
    out = {(name, case.default_config): step[name] for name in case.layout.step_names()}
    out.update(trajectory_allowances(case, dtype, trajectories))
    return out


def trajectory_allowances(case: Case, dtype: str, trajectories: bool = True) -> dict[tuple[str, str], Allowance]:
    """allowances of the targets after N training steps."""
    out: dict[tuple[str, str], Allowance] = {}
    drift: dict[tuple[str, int | None], dict[str, Ball]] = {}
    scales: dict[tuple[str, int | None], dict[str, float]] = {}  # once per run: a layer's scale reads every parameter
    for t in trajectory_targets(case, trajectories):
        key, run = (t.quantity, t.config), (t.config, t.updates)
        final = exact_after(case, dtype, case.configs[t.config], t.updates)  # type: ignore[arg-type]
        scale = scales[run] if run in scales else scales.setdefault(run, _layer_scales(case, final))
        base = split_trajectory_name(t.quantity)[0]  # type: ignore[index]
        if base in scale:
            out[key] = Allowance(*[TRAJECTORY_ULPS * ulp(scale[base], dtype)] * 2)
            continue
        if run not in drift:
            radius = {p: TRAJECTORY_ULPS * ulp(s, dtype) for p, s in scale.items()}
            drift[run] = forward_balls(case, dtype, {p: float(final[p]) for p in scale}, radius)
        out[key] = Allowance(TRAJECTORY_ULPS * ulp(final[base], dtype), drift[run][base].r)
    return out


def _layer_scales(case: Case, final: dict[str, Any]) -> dict[str, float]:
    """Each parameter's layer scale: the largest magnitude in its layer, before or after training."""
    out = {}
    for weights, biases in zip(case.layout.w, case.layout.b):
        names = [n for row in weights for n in row] + list(biases)
        scale = max(max(abs(float(final[n])), abs(case.parameters[n])) for n in names)
        out.update(dict.fromkeys(names, scale))
    return out


# --- wide cases -------------------------------------------------------------------------------
_KEPT: dict[tuple[int, str, str], tuple[Any, Any]] = {}


def wide(case: Case) -> bool:
    """More quantities of one step than WIDE (reference/quantities.py): judged in the compact path
    (bpcheck/compact.py), its values in arrays by position, the passes counted per stage."""
    return case.layout.quantity_count > WIDE


def _kept(case: Case, what: str, dtype: str, compute: Any) -> Any:
    """`compute()`, once per case object, dtype and kind (a wide case's arrays are costly)."""
    key = (id(case), what, dtype)
    hit = _KEPT.get(key)
    if hit is not None and hit[0]() is case:
        return hit[1]
    value = compute()
    _KEPT[key] = (weakref.ref(case), value)
    return value


def _one_trace(case: Case) -> bool:
    """Whether one trace under the case's rule gives every quantity by_rule asks for: a rule that
    updates simultaneously computes the plain gradient's forward, chain pieces and gradients
    with the very same operations (whether it updates the biases changes only its updates), so
    only output-first needs a second trace."""
    return case.config.update_order == PLAIN.update_order


def step_exact(case: Case, dtype: str) -> ExactValues:
    """The exact value of every single-step target, in order (by_rule: the updates under the
    case's rule, the rest from the plain gradient): the first quantity_count of `targets`, held
    exactly in 32 bytes each (oracle.ExactValues)."""

    def compute() -> ExactValues:
        if _one_trace(case):
            return exact_step_values(case, dtype, case.config, into=ExactValues())  # type: ignore[no-any-return]
        values = exact_step_values(case, dtype, PLAIN, "gradients", into=ExactValues())  # the updates come last
        return exact_step_values(case, dtype, case.config, "updates", into=values)  # type: ignore[no-any-return]

    return _kept(case, "exact", dtype, compute)  # type: ignore[no-any-return]


def step_floats(case: Case, dtype: str) -> np.ndarray:
    """step_exact rounded to float64 (to nearest): the compact path's first, conservative look."""
    return step_exact(case, dtype).floats  # type: ignore[no-any-return]


def step_bounds(case: Case, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """step_allowances as arrays in target order: the radius (= the derived bound) and the kink
    flag of every single-step target."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        if _one_trace(case):
            return step_ball_arrays(case, dtype, case.config)
        radius, kink = step_ball_arrays(case, dtype, PLAIN, "gradients")  # the updates come last
        r_rule, k_rule = step_ball_arrays(case, dtype, case.config, "updates")
        return np.concatenate([radius, r_rule]), np.concatenate([kink, k_rule])

    return _kept(case, "bounds", dtype, compute)  # type: ignore[no-any-return]


def prepare(case: Case, dtype: str, trajectories: bool = True) -> None:
    """Computes and keeps what judging `case` in `dtype` needs (the engine calls this while the
    backends run): a wide case's bounds first, then its exact values (the larger, kept)."""
    if not wide(case):
        exact_values(case, dtype, trajectories)
        return
    step_bounds(case, dtype)
    step_floats(case, dtype)
    for t in trajectory_targets(case, trajectories):
        exact_after(case, dtype, case.configs[t.config], t.updates)  # type: ignore[arg-type]
