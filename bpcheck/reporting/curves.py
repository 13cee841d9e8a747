"""Training curves for the pictures: E_total at every training step per backend and dtype,
beside the exact E_total of the same step, sampled at ~150 log-spaced steps.

A curve's step k (1-based) is the error in the forward pass of the k-th training step, i.e.
after k-1 updates: `Training.losses[k - 1]`. The post's "after 10,000 rounds" figure
(0.0000351085) is read the same way (loss-of-last-step; see reference/cases/mazur-2015.toml).
"""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal
from typing import Any

from bpcheck.engine import CurvePlan
from bpcheck.judge import Cell
from bpcheck.reference import arith, store
from bpcheck.reference.case import Case
from bpcheck.reference.oracle import as_dtype_case, code_version, rounded_parameters
from bpcheck.reference.quantities import split_trajectory_name
from bpcheck.reference.trace import train
from bpcheck.reference.ulps import ulps

DEFAULT_STEPS = 10_000


def plan(case: Case, steps: int | None = None) -> CurvePlan:
    """What to draw: enough steps to reach the case's last published E_total@N figure, under
    its rule, if it has one; else its training steps (or 10,000) under its default rule.
    `steps` overrides the count."""
    figures = [f for f in case.published if (split_trajectory_name(f.quantity) or ("",))[0] == "E_total"]
    if figures:
        last = max(figures, key=lambda f: f.updates or 0)
        config, n = last.config or case.default_config, (last.updates or 0) + 1
    else:
        config, n = case.default_config, case.steps or DEFAULT_STEPS
    return CurvePlan(case, config, steps or n)


def sample_steps(n: int, points: int = 150) -> list[int]:
    """1..n, log-spaced, always including 1 and n."""
    if n <= points:
        return list(range(1, n + 1))
    return sorted({round(math.exp(k * math.log(n) / (points - 1))) for k in range(points)} | {1, n})


def exact_curve(p: CurvePlan, dtype: str) -> list[str]:
    """The exact E_total of every step (25 significant digits), in the verified cache."""
    case, steps = p.case, p.steps
    h = hashlib.sha256(code_version().encode())
    h.update(repr((case.spec, case.inputs, case.targets, sorted(case.parameters.items()), case.learning_rate)).encode())
    h.update(repr((dtype, p.config, steps, arith.EXACT_DIGITS)).encode())
    key = h.hexdigest()[:32]
    cached = store.load("curves", key, lambda v: isinstance(v, list) and len(v) == steps and store.finite_numbers(v))
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    a = arith.exact()
    tr = train(as_dtype_case(case, dtype), rounded_parameters(case, dtype), case.configs[p.config], steps, a)
    with a.context():
        out = [format(Decimal(a.to_str(x)), ".25g") for x in tr.losses]
    if store.finite_numbers(out):  # not an overflow of MPFR's own range: the cache would refuse it
        store.save("curves", key, out)
    return out


def assemble(p: CurvePlan, losses: dict[Cell, list[float] | str], exact: dict[str, list[str]]) -> list[dict[str, Any]]:
    """One curve per cell the engine trained (`losses`: E_total per step, or why not):
    sampled steps, values, exact values and ULP distances."""
    at = sample_steps(p.steps)
    out = []
    for cell, values in losses.items():
        curve: dict[str, Any] = {
            "case": p.case.name,
            "backend": cell.backend,
            "dtype": cell.dtype,
            "device": cell.device,
            "config": p.config,
        }
        curve["steps"] = at
        curve["exact"] = [exact[cell.dtype][k - 1] for k in at]
        if isinstance(values, str):
            curve.update(values=None, ulps=None, error=values)
        else:
            far = [ulps(values[k - 1], Decimal(exact[cell.dtype][k - 1]), cell.dtype) for k in at]
            curve["values"] = [_finite(values[k - 1]) for k in at]  # an overflow's inf or NaN: null, a gap
            curve["ulps"] = [_finite(round(d, 3)) for d in far]
            curve["error"] = None
        out.append(curve)
    return out


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None
