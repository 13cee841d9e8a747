"""The number types the reference runs on: the same code is the float64 reference, the float32
reference and the exact oracle.

A value always enters as a Python float (the float64 the backends are given) and is rounded
to the number type once, so every backend and the oracle start from the same numbers:
float32 runs start from float32(float64(decimal)), and the oracle from the exact value of
whatever the dtype holds.

Overflow is IEEE's in every number type: inf (and NaN after inf - inf), never an exception.
Python floats raise OverflowError from math.exp and `**` instead, so float64 takes `exp64` and
the reference squares with `squared`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Decimal digits of the exact oracle. 60 > 50 asked for; float64 needs 17.
EXACT_DIGITS = 60


@dataclass(frozen=True)
class Arithmetic:
    name: str
    num: Callable[[float], Any]  # a float64 value -> this number type (one of this type is kept as it is)
    exp: Callable[[Any], Any]
    #: Entered around every computation (MPFR's precision lives in a thread-local context).
    context: Callable[[], contextlib.AbstractContextManager[Any]] = field(default=contextlib.nullcontext)
    parse: Callable[[str], Any] = float  # a decimal string -> this number type, all digits kept
    to_str: Callable[[Any], str] = repr  # every digit this type holds
    tanh: Callable[[Any], Any] = math.tanh
    log1p: Callable[[Any], Any] = math.log1p
    #: (activation, net) -> out and (activation, net, out) -> dout/dnet where the number type
    #: decides them itself (the error model's balls, reference/bounds.py); None: the table's formulas
    activate: Callable[[Any, Any], Any] | None = None
    derivative: Callable[[Any, Any, Any], Any] | None = None
    #: (loss, logits of one example, each output's share as the table computes it) -> the
    #: shares as the number type bounds them for any standard formula (the error model)
    loss_terms: Callable[[str, Any, Any], Any] | None = None


def exp64(x: float) -> float:
    """e^x as IEEE float64 gives it: inf where it overflows (math.exp raises OverflowError)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def squared(x: Any) -> Any:
    """x ** 2 in x's number type, inf where a Python float overflows (`**` raises OverflowError)."""
    try:
        return x**2
    except OverflowError:
        return math.inf


FLOAT64 = Arithmetic("float64", float, exp64)


def real(x: Any) -> Any:
    """x's real part: the complex step's numbers are complex, every other type is real already."""
    return getattr(x, "real", x)


def complex128() -> Arithmetic:
    """Complex doubles, for the complex-step derivative f'(x) = Im f(x + ih) / h."""
    import cmath

    return Arithmetic("complex128", complex, cmath.exp, tanh=cmath.tanh, log1p=lambda z: cmath.log(1 + z))


def float32() -> Arithmetic:
    """IEEE single precision: NumPy float32 scalars (every operation rounds to float32)."""
    import numpy as np

    return Arithmetic("float32", np.float32, np.exp, tanh=np.tanh, log1p=np.log1p)


def mpmath_exact(digits: int = EXACT_DIGITS) -> Arithmetic:
    """mpmath at `digits` significant digits."""
    import mpmath

    ctx = mpmath.MPContext()
    ctx.dps = digits
    return Arithmetic(
        f"mpmath-{digits}",
        ctx.mpf,
        ctx.exp,
        contextlib.nullcontext,
        ctx.mpf,
        lambda x: ctx.nstr(x, digits + 5, strip_zeros=False),
        ctx.tanh,
        ctx.log1p,
    )


def mpfr_exact(digits: int = EXACT_DIGITS) -> Arithmetic:
    """GNU MPFR through gmpy2 at the same precision: correctly rounded, and ~5x faster than
    mpmath, which matters for 10,000-step trajectories."""
    import gmpy2

    bits = math.ceil(digits * math.log2(10)) + 8
    return Arithmetic(
        f"mpfr-{digits}",
        lambda x: gmpy2.mpfr(x, bits),
        gmpy2.exp,
        lambda: gmpy2.context(gmpy2.get_context(), precision=bits),
        lambda s: gmpy2.mpfr(s, bits),
        lambda x: format(x, f".{digits + 5}e"),
        gmpy2.tanh,
        gmpy2.log1p,
    )


def exact(digits: int = EXACT_DIGITS) -> Arithmetic:
    """The exact oracle's number type: MPFR if gmpy2 is installed, mpmath otherwise; other
    `digits` for the finite differences, which choose their working precision per parameter."""
    try:
        return mpfr_exact(digits)
    except ImportError:
        return mpmath_exact(digits)


def for_dtype(dtype: str) -> Arithmetic:
    if dtype == "float64":
        return FLOAT64
    if dtype == "float32":
        return float32()
    raise ValueError(f"unknown dtype {dtype!r}; valid: float64, float32")


def round_to(dtype: str, x: float) -> float:
    """The float64 value of `x` stored in `dtype`."""
    return float(for_dtype(dtype).num(x))
