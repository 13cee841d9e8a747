"""Distances in units in the last place (ULPs) of a dtype, measured against exact values.

Any value is accepted, as IEEE arithmetic would: an exact value beyond the dtype's range (or
inf) has the spacing of the dtype's largest binade, NaN has a NaN spacing, and a distance to
or from a non-finite value is inf or NaN, never an exception (judging them: tolerance.py)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_FINFO: dict[str, Any] = {"float64": np.finfo(np.float64), "float32": np.finfo(np.float32)}


def largest(dtype: str) -> float:
    """The largest finite number of `dtype`."""
    return float(_FINFO[dtype].max)


def beyond_range(exact: Any, dtype: str) -> bool:
    """Whether `dtype` cannot hold the exact value: larger in magnitude than its largest finite
    number (a correct evaluation overflows, or lands on that number), inf, or NaN."""
    x = abs(float(exact))  # a 60-digit number beyond float64's range reads as inf
    return not x <= largest(dtype)


def ulp(exact: Any, dtype: str) -> float:
    """The spacing of `dtype` at the exact value: the gap between the two representable
    numbers around it (for a value that is itself representable, the gap above it; beyond the
    dtype's range, inf included, the gap of its largest binade; NaN for NaN)."""
    x = abs(float(exact))
    info = _FINFO[dtype]
    if math.isnan(x):
        return math.nan
    if x < float(info.smallest_normal):
        return float(info.smallest_subnormal)
    top = int(info.maxexp) - 1  # the largest binade: [2^top, 2^(top+1))
    if x >= 2.0**top:
        exponent = top
    else:
        exponent = math.floor(math.log2(x))
        if 2.0**exponent > x:  # log2 rounded up across a power of two
            exponent -= 1
    return 2.0 ** (exponent - (info.nmant))


def error(value: float, exact: Any) -> float:
    """|value - exact|, subtracted in the exact value's own precision (then rounded): inf for
    an infinite value of a finite exact one, NaN where either is NaN or both are inf."""
    if math.isnan(value):
        return math.nan  # compares false with every bound, infinite ones included
    return float(abs(type(exact)(value) - exact) if not isinstance(exact, float) else abs(value - exact))


def ulps(value: float, exact: Any, dtype: str) -> float:
    """|value - exact| in ULPs of `dtype` at `exact` (exact is a high-precision number)."""
    return error(value, exact) / ulp(exact, dtype)
