"""Distances in units in the last place (ULPs) of a dtype, measured against exact values."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_FINFO: dict[str, Any] = {"float64": np.finfo(np.float64), "float32": np.finfo(np.float32)}


def ulp(exact: Any, dtype: str) -> float:
    """The spacing of `dtype` at the exact value: the gap between the two representable
    numbers around it (for a value that is itself representable, the gap above it)."""
    x = abs(float(exact))
    info = _FINFO[dtype]
    if x < float(info.smallest_normal):
        return float(info.smallest_subnormal)
    exponent = math.floor(math.log2(x))
    if 2.0**exponent > x:  # log2 rounded up across a power of two
        exponent -= 1
    return 2.0 ** (exponent - (info.nmant))


def error(value: float, exact: Any) -> float:
    """|value - exact|, subtracted in the exact value's own precision (then rounded)."""
    if math.isnan(value):
        return math.nan  # compares false with every bound, infinite ones included
    return float(abs(type(exact)(value) - exact) if not isinstance(exact, float) else abs(value - exact))


def ulps(value: float, exact: Any, dtype: str) -> float:
    """|value - exact| in ULPs of `dtype` at `exact` (exact is a high-precision number)."""
    return error(value, exact) / ulp(exact, dtype)
