"""The tolerance policy: the one place that says how far from exact a value may be.

Every bound is in ULPs of the dtype, measured at the exact value (bpcheck/ulps.py), where the
exact value is computed from the same dtype-rounded inputs the backend was given. So a bound
measures only the backend's own rounding, never the rounding of 0.05 to binary.

How the numbers were set: every bundled backend (reference, numpy, torch, jax) was run on the
post's example in float64 and float32 and the largest distance seen per stage recorded below
(`OBSERVED`, measured 2026-11-24 with the versions in constraints.txt). Each bound is that
maximum times at least 4, rounded up to a power of two: far enough above what correct code
does that the suite does not flake across BLAS builds and framework versions, and ~10^12
below what a real mistake costs (a dropped sigmoid derivative is off by ~10^15 ULPs).

Why the stages differ:
- forward: a dot product of 2 terms and one exp; a correctly rounded chain gives < 1 ULP.
- error: 1/2 (target - out)^2 subtracts nearby numbers (0.99 - 0.7729): the subtraction
  magnifies out's relative error by out / (target - out) ~ 3.5, squaring doubles it.
- chain pieces and gradients: inherit that magnification, plus a few roundings.
- update: w - eta * g with eta * g << w, so the result is dominated by w: < 1 ULP.
- trajectory: 10,000 updates, each adding rounding that gradient descent does not fully damp;
  E_total@10000 = 1/2 (0.01 - 0.0159)^2 + ... is again a difference of nearby numbers.
"""

from __future__ import annotations

#: stage -> largest ULP distance to exact seen over all bundled backends: (float64, float32).
OBSERVED: dict[str, tuple[float, float]] = {
    "forward": (0.81, 0.42),
    "error": (3.79, 0.92),
    "output-chain": (3.01, 1.07),
    "hidden-chain": (3.62, 1.11),
    "gradient": (3.62, 1.25),
    "update": (0.44, 0.47),
    "trajectory": (108.4, 92.4),
}

#: stage -> allowed ULP distance to exact, for float64 and float32 alike.
ALLOWED_ULPS: dict[str, float] = {
    "forward": 4,
    "error": 16,
    "output-chain": 16,
    "hidden-chain": 16,
    "gradient": 16,
    "update": 2,
    "trajectory": 512,
}

#: Two backends may differ by at most the larger of their two bounds (not the sum: each bound
#: is >= 4x the largest error seen, so two correct backends sit within half a bound of each
#: other; a pair at opposite edges of the band is suspect even when each alone passes).
PAIRWISE = "max of the two bounds"


def allowed_ulps(stage: str) -> float:
    return ALLOWED_ULPS[stage]


def within(distance_ulps: float, stage: str) -> bool:
    return distance_ulps <= ALLOWED_ULPS[stage]
