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

Overflow (`ruling`): values are judged as IEEE arithmetic gives them, inf and NaN included.
An exact value beyond the dtype's range (larger than its largest finite number: float32's
3.4e38 is easily passed by an identity network's forward pass or a diverging training run)
cannot be held by any value of the dtype, so whatever a backend gives for it, inf or a finite
number, is ill-conditioned, with the reason: a correct value does not fail and a wrong one does
not pass. A non-finite value of an exact value the dtype holds fails, unless the error model's
bound is infinite: then some correct evaluation may overflow on the way (a sum whose terms
exceed the range, a division by what may round to 0) and it is ill-conditioned, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bpcheck.reference.ulps import beyond_range, error

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


def verdict(value: float, exact: Any, allowance: Allowance, dtype: str | None = None) -> str:
    """pass: within a bound that is below |exact| (so the value has exact's sign and is not 0):
    the radius, or else the derived bound; or at a kink within the span of its one-sided
    derivatives. ill-conditioned: within the bounds, but they reach |exact|, so no correct digit
    can be expected in this dtype (neither pass nor fail); and the overflows of `ruling`. fail:
    anything else, a non-finite value where the bounds are finite too.
    So a correct evaluation is never `fail`, and a wrong sign or a 0 for a nonzero value is
    never `pass`."""
    return ruling(value, exact, allowance, dtype)[0]


def ruling(value: float, exact: Any, allowance: Allowance, dtype: str | None = None) -> tuple[str, str | None]:
    """The verdict, and the reason where the bound alone does not give it: an exact value
    beyond `dtype`'s range, a non-finite value (see the module docstring). Without a dtype,
    the range is not asked about."""
    if dtype is not None and beyond_range(exact, dtype):
        what = "undefined (NaN even at 60 digits)" if math.isnan(float(exact)) else f"beyond {dtype}'s range"
        return "ill-conditioned", f"exact value {what}: no value in {dtype} can be checked against it"
    if not math.isfinite(value):
        if not math.isfinite(max(allowance.radius, allowance.derived)):
            return (
                "ill-conditioned",
                f"{value} where a correct evaluation may overflow (the error model's bound is infinite)",
            )
        return "fail", f"{value} where the exact value is finite" + (f" in {dtype}" if dtype else "")
    return _within(value, exact, allowance), None


def _within(value: float, exact: Any, allowance: Allowance) -> str:
    x, off = abs(float(exact)), error(value, exact)
    if off <= allowance.radius and (allowance.kink or value == exact or allowance.radius < x):
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
