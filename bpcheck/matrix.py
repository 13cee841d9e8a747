"""What the cross-check asks of a case: its targets (every quantity of one step, and the
figures that need training), their exact values and how far from them each may be. The engine
(bpcheck/engine.py) computes the backends' values of these targets and the judge
(bpcheck/judge.py) holds them to the exact ones."""

from __future__ import annotations

import math
from typing import Any

from bpcheck import backends
from bpcheck.cost import in_part
from bpcheck.judge import Cell, Record, Target
from bpcheck.reference.bounds import UNIT_ROUNDOFF, Ball, forward_balls, step_balls
from bpcheck.reference.case import PLAIN, Case
from bpcheck.reference.oracle import exact_after, exact_step
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
    out: dict[tuple[str, str], Allowance] = {}
    drift: dict[tuple[str, int], dict[str, Ball]] = {}
    for t in targets(case, trajectories):
        key = (t.quantity, t.config)
        if t.updates is None:
            out[key] = step[t.quantity]
            continue
        final = exact_after(case, dtype, case.configs[t.config], t.updates)
        scale = _layer_scales(case, final)
        base = split_trajectory_name(t.quantity)[0]  # type: ignore[index]
        if base in scale:
            out[key] = Allowance(*[TRAJECTORY_ULPS * ulp(scale[base], dtype)] * 2)
            continue
        run = (t.config, t.updates)
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
