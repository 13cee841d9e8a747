"""The tolerance policy: the one place that says how far from exact a value may be.

Every bound is in ULPs of the dtype, measured at the exact value (reference/ulps.py), where the
exact value is computed from the same dtype-rounded inputs the backend was given. So a bound
measures only the backend's own rounding, never the rounding of 0.05 to binary.

    allowed(quantity) = ALLOWED_ULPS[stage] * max(1, rho)

rho is the quantity's cancellation factor (reference/magnitude.py): how much subtracting
nearby numbers amplifies the rounding of what went into it. 0.99 - 0.7729 in the post's
dE_total/dout_o2 gives rho ~ 3.5; a gradient that sums per-example terms of opposite sign can
reach rho ~ 1000. Correct code is off by a few ULPs *of the terms*, i.e. by ~rho ULPs of the
result, so the bound scales with it instead of hiding real errors everywhere else.

How the numbers were set: `benchmarks/observed_ulps.py` ran the bundled backends of the time
(reference, numpy, torch, jax; the five added since are held to the same bounds and pass them
across every case) on every bundled case in float64 and float32 and recorded, per stage, the
largest distance divided by rho (`OBSERVED`, 2026-11-24, versions of constraints.txt; the
Hypothesis `thorough` profile's maxima are in `OBSERVED_RANDOM`). Each bound is at least 4x
that, rounded up to a power of two: far enough above what correct code does that the suite
does not flake across BLAS builds and framework versions, and ~10^12 below what a real mistake
costs (a dropped sigmoid derivative is off by ~10^15 ULPs).

Stages: forward (a dot product and one activation), error (the loss: subtractions), output-
and hidden-chain (dE/dout, dout/dnet, delta), gradient (sums over the batch), update
(w - eta g, dominated by w), trajectory (N steps; rounding accumulates without being damped,
and a parameter is measured in ULPs of the largest parameter of its layer, see
matrix.conditions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bpcheck.reference.ulps import ulp, ulps

#: stage -> largest (ULP distance / max(1, rho)) seen over the bundled cases: (float64, float32).
OBSERVED: dict[str, tuple[float, float]] = {
    "forward": (1.98, 3.13),
    "error": (2.03, 1.93),
    "output-chain": (1.40, 1.33),
    "hidden-chain": (4.25, 4.13),
    "gradient": (2.38, 2.95),
    "update": (1.63, 1.07),
    "trajectory": (123.8, 192.2),
}

#: stage -> largest (ULP distance / max(1, rho)) seen over random networks by the `thorough`
#: Hypothesis profile (tests/test_properties.py, 2026-11-24, 75 s per backend: reference 861,
#: numpy 1,240, torch 1,211, jax 34 networks, each in both dtypes; benchmarks/random_cases.py).
OBSERVED_RANDOM: dict[str, tuple[float, float]] = {
    "forward": (2.76, 2.68),
    "error": (4.82, 5.81),
    "output-chain": (4.02, 4.07),
    "hidden-chain": (4.05, 4.26),
    "gradient": (4.16, 4.38),
    "update": (3.09, 3.94),
}

#: stage -> allowed ULPs per unit of rho, for float64 and float32 alike: the power of two at or
#: above 4x the larger of OBSERVED and OBSERVED_RANDOM.
ALLOWED_ULPS: dict[str, float] = {
    "forward": 16,
    "error": 32,
    "output-chain": 32,
    "hidden-chain": 32,
    "gradient": 32,
    "update": 16,
    "trajectory": 1024,
}


def allowed_ulps(stage: str, rho: float = 1.0) -> float:
    """The bound for a quantity of `stage` whose cancellation factor is rho (>= 1 amplifies)."""
    return ALLOWED_ULPS[stage] * max(1.0, rho)


@dataclass(frozen=True)
class Distance:
    """How far a value is from the exact one, against the bound it is held to."""

    ulps: float  # nan for a nan value (compares false with every bound)
    bound: float

    @property
    def ok(self) -> bool:
        return self.ulps <= self.bound


def distance(value: float, exact: Any, dtype: str, stage: str, rho: float = 1.0) -> Distance:
    """The one comparison every verdict is made of: `value`'s ULPs of `dtype` from `exact`
    against the policy's bound for `stage` and rho (bpcheck/judge.py turns it into records)."""
    return Distance(ulps(value, exact, dtype), allowed_ulps(stage, rho))


def apart(a: float, b: float, exact: Any, dtype: str, stage: str, rho: float = 1.0) -> Distance:
    """Two backends' values against each other, in ULPs at the exact value: held to the larger
    of their two bounds (equal here), not their sum. Each bound is >= 4x the largest error
    seen, so two correct backends sit within half a bound of each other; a pair at opposite
    edges of the band is suspect even when each alone passes."""
    return Distance(abs(a - b) / ulp(exact, dtype), allowed_ulps(stage, rho))
