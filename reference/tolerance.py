"""The tolerance policy: the one place that says how far from exact a value may be, and what
the verdict is.

Every exact value is computed from the same dtype-rounded inputs the backend was given
(reference/oracle.py), so a bound measures only the backend's own rounding, never the rounding
of 0.05 to binary.

One training step: the bound is derived, not measured. The error model (reference/bounds.py)
runs the reference on balls and gives each quantity a radius that every correct evaluation in
the dtype lies within, whatever its summation order, FMA use or elementary-function library
(up to bounds.ELEMENTARY_ULPS). It grows where cancellation, saturation or a long chain of
operations amplify rounding, and it never collapses to 0 when a value underflows or cancels.

N training steps: rounding accumulates over thousands of updates, and a forward error bound
through them grows far faster than the real drift, so the parameters' bound is measured: a
parameter after N steps is a running sum of updates made at the scale of its layer's
parameters and may be TRAJECTORY_ULPS ULPs of the largest of them from exact. TRAJECTORY_ULPS
is the power of two at or above 4x the largest distance any bundled backend showed over every
bundled case (TRAJECTORY_OBSERVED, benchmarks/observed_ulps.py; tests/test_reference.py holds
the rule). An output or E_total after N steps is derived from that: the parameter drift
carried through a forward pass of the error model (at least TRAJECTORY_ULPS ULPs of the value
itself, the measured bound they are held to first). A residual that training drives towards 0
(E_total of a network that fits its data) keeps the absolute bound of the outputs it is
computed from, so it cannot fail by vanishing; where that bound reaches |exact| it is
ill-conditioned.

Verdicts (`verdict`): pass, ill-conditioned (no correct digit can be expected in this dtype:
neither pass nor fail), fail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bpcheck.reference.ulps import error

#: The largest distance to exact, in ULPs as above, of any value after N training steps over the
#: bundled cases and backends: (float64, float32) (benchmarks/observed_ulps.py, 2026-11-24).
TRAJECTORY_OBSERVED = (123.8, 192.2)
#: The measured bound of values after N training steps: the power of two >= 4x TRAJECTORY_OBSERVED.
TRAJECTORY_ULPS = 1024


@dataclass(frozen=True)
class Allowance:
    """How far from its exact value a quantity may be: `radius` (absolute), the bound it is held
    to; `derived`, the error model's bound (reference/bounds.py; for a training run, from the
    measured parameter bound), which says whether any digit can be expected at all; `kink`:
    derived at a point where the function is not differentiable (the radius spans every
    one-sided derivative there)."""

    radius: float
    derived: float
    kink: bool = False


#: The verdicts, from best to worst.
VERDICTS = ("pass", "ill-conditioned", "fail")


def verdict(value: float, exact: Any, allowance: Allowance) -> str:
    """pass: within a bound that is below |exact| (so the value has exact's sign and is not 0):
    the radius, or else the derived bound; or at a kink within the span of its one-sided
    derivatives. ill-conditioned: within the bounds, but they reach |exact|, so no correct digit
    can be expected in this dtype (neither pass nor fail). fail: anything else, a non-finite
    value too.
    So a correct evaluation is never `fail`, and a wrong sign or a 0 for a nonzero value is
    never `pass`."""
    if not math.isfinite(value):
        return "fail"
    x, off = abs(float(exact)), error(value, exact)
    if off <= allowance.radius and (allowance.kink or off == 0 or allowance.radius < x):
        return "pass"
    widest = max(allowance.radius, allowance.derived)
    if off <= widest:
        return "pass" if widest < x else "ill-conditioned"
    return "fail"


def within(a: float, b: float, exact: Any, allowance: Allowance) -> bool:
    """Two backends' values against each other: each correct one lies within its radius of
    exact, so two lie within twice the widest bound of each other. Values at a kink may differ
    by the whole span of conventions."""
    return allowance.kink or abs(a - b) <= 2 * max(allowance.radius, allowance.derived)
