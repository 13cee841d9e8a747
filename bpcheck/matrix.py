"""What the cross-check asks of a case: its targets (every quantity of one step, and the
figures that need training), their exact values and their cancellation factors. The engine
(bpcheck/engine.py) computes the backends' values of these targets and the judge
(bpcheck/judge.py) holds them to the exact ones."""

from __future__ import annotations

from typing import Any

from bpcheck import backends
from bpcheck.cost import in_part
from bpcheck.judge import Cell, Record, Target
from bpcheck.reference.case import PLAIN, Case
from bpcheck.reference.magnitude import condition
from bpcheck.reference.oracle import exact_after, exact_step
from bpcheck.reference.quantities import split_trajectory_name

__all__ = ["DTYPES", "BUNDLED", "Cell", "Record", "Target", "targets", "selected", "exact_values", "conditions"]

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
