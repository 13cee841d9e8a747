"""The error model: a rigorous bound on how far any correct floating-point evaluation of a
quantity can be from its exact value, derived from the same evaluation that produces it.

The general reference (reference/mlp.py) runs on `Ball`s: each carries `mid`, the value (the
reference's own float64 evaluation), and a radius `r` with the invariant

    |x_hat - x| <= r   for every correct evaluation x_hat, in the dtype, of the exact x,

whatever order it sums in, with or without fused multiply-adds, and whichever formula of an
elementary function it uses, as long as that function is accurate to ELEMENTARY_ULPS. Each
operation adds its own rounding to what its operands bring (forward error analysis, Higham,
"Accuracy and Stability of Numerical Algorithms", 2nd ed., sections 2.2 and 3.1), with
u = 2^-53 (float64) or 2^-24 (float32), the unit roundoff, and eta, half the smallest
subnormal (float64: the smallest subnormal), for results that underflow:

    x + y   sums are order-free: a sum of n terms is bounded as a whole,
            sum |r_i| + (n - 1) u sum |t_i| (Higham's gamma_{n-1}; any order, FMA or not),
            where |t_i| bounds each term's magnitude (|mid| + 2r)
    x * y   |x| r_y + |y| r_x + u |x||y| + eta         (|x| read as |mid| + 2r)
    x / y   (r_x |y| + |x| r_y) / |y|_min^2 + u |x| / |y|_min + eta, infinite if y's ball holds 0
    f(x)    sup |f'| over x's ball * r_x + ELEMENTARY_ULPS u |f| + eta   (exp, tanh, log1p)

A derivative taken where the ball of its argument holds a kink (relu at 0) is the hull of
the one-sided derivatives, and the ball says `kink`: every convention a framework picks lies
in it.

Overflow: a correct evaluation in the dtype overflows where a value, or any partial sum of a
sum's terms, exceeds the dtype's largest finite number, though the float64 mid does not (a
float32 net of 1e39); there the radius is infinite (`Ball.r`): the value may be inf or NaN.
Every operation here gives inf or NaN where IEEE would, never an OverflowError.

Nothing here rounds to 0 and loses its radius: a quantity whose float value underflows or
cancels to exactly 0 keeps the radius of what it was computed from, so a vanishing exact value
is judged against the magnitudes it came from (bpcheck/judge.py: ill-conditioned).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bpcheck.reference.arith import exp64  # IEEE: inf where it overflows

#: Unit roundoff and half the smallest subnormal of each dtype.
UNIT_ROUNDOFF = {"float64": 2.0**-53, "float32": 2.0**-24}
#: The largest finite number of each dtype: beyond it a correct evaluation may overflow.
LARGEST = {"float64": float(np.finfo(np.float64).max), "float32": float(np.finfo(np.float32).max)}
#: (float64's is its smallest subnormal itself: half of it is not a float64 and would round to 0)
ETA = {"float64": 2.0**-1074, "float32": 2.0**-150}
#: The accuracy assumed of exp, tanh, log1p and the logistic in every framework, in ULPs: glibc
#: and SLEEF document <= 1-4 ULPs; TensorFlow's float32 sigmoid was measured 6 ULPs off
#: (docs/findings.md). A framework worse than this is reported, which is the point.
ELEMENTARY_ULPS = 8


class Ball:
    """A value and the radius of every correct evaluation of it (see the module docstring).

    A sum in progress keeps its terms apart (`terms`, the sum of their magnitudes, and `count`)
    so that its rounding is bounded for any order once it is used."""

    __slots__ = ("mid", "_r", "_terms", "count", "kink", "dtype")

    def __init__(self, mid: float, r: float = 0.0, dtype: str = "float64", kink: bool = False):
        self.mid, self._r, self.dtype, self.kink = float(mid), r, dtype, kink
        self._terms: float | None = None  # a single term's is computed when asked (a wide net has millions)
        self.count = 1

    @property
    def terms(self) -> float:
        """The sum of the magnitudes of a pending sum's terms (one term: |mid| + 2 r)."""
        return abs(self.mid) + 2 * self._r if self._terms is None else self._terms

    @terms.setter
    def terms(self, value: float) -> None:
        self._terms = value

    @property
    def r(self) -> float:
        """The radius, the pending sum's rounding included; infinite where an evaluation in the
        dtype may overflow (the value, or a partial sum in some order, beyond its range)."""
        if not self.terms <= LARGEST[self.dtype]:
            return math.inf
        if self.count == 1:
            return self._r
        return self._r + (self.count - 1) * UNIT_ROUNDOFF[self.dtype] * self.terms

    @property
    def real(self) -> float:  # branches of the reference read this (e.g. `net >= 0`)
        return self.mid

    @property
    def size(self) -> float:
        """A bound on |x| and on |x_hat|."""
        return abs(self.mid) + 2 * self.r

    def _new(self, mid: float, r: float, *others: Ball) -> Ball:
        kink = self.kink or any(o.kink for o in others)
        return Ball(mid, r if math.isfinite(mid) else math.inf, self.dtype, kink)

    def _of(self, o: Any) -> Ball:
        return o if isinstance(o, Ball) else Ball(float(o), 0.0, self.dtype)

    def _sum(self, o: Any, sign: float) -> Ball:
        if o is self and sign < 0:  # x - x is exactly 0 (log-sum-exp's z - max z), whatever x's error
            return Ball(0.0, 0.0, self.dtype, self.kink)
        o = self._of(o)
        out = self._new(self.mid + sign * o.mid, self._r + o._r, o)
        out.terms, out.count = self.terms + o.terms, self.count + o.count
        return out

    def __add__(self, o: Any) -> Ball:
        return self._sum(o, 1.0)

    __radd__ = __add__

    def __sub__(self, o: Any) -> Ball:
        return self._sum(o, -1.0)

    def __rsub__(self, o: Any) -> Ball:
        return self._of(o)._sum(self, -1.0)

    def __neg__(self) -> Ball:
        out = self._new(-self.mid, self._r)
        out.terms, out.count = self.terms, self.count
        return out

    def __mul__(self, o: Any) -> Ball:
        o = self._of(o)
        a, b = self.size, o.size
        r = _times(a, o.r) + _times(b, self.r) + self._u * _times(a, b) + self._eta
        return self._new(self.mid * o.mid, r, o)

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Ball:
        o = self._of(o)
        low = abs(o.mid) - 2 * o.r
        if not low * low > 0:  # y's ball holds 0 (or its square underflows, or it is NaN)
            return self._new(self.mid / o.mid if o.mid else math.inf, math.inf, o)
        a = self.size
        r = (_times(self.r, o.size) + _times(a, o.r)) / (low * low) + self._u * a / low + self._eta
        return self._new(self.mid / o.mid, r, o)

    def __rtruediv__(self, o: Any) -> Ball:
        return self._of(o) / self

    def __pow__(self, k: int) -> Ball:
        out = self
        for _ in range(k - 1):
            out = out * self
        return out

    def __float__(self) -> float:
        return self.mid

    def __repr__(self) -> str:
        return f"Ball({self.mid!r} +- {self.r:.3g}{', kink' if self.kink else ''})"

    @property
    def _u(self) -> float:
        return UNIT_ROUNDOFF[self.dtype]

    @property
    def _eta(self) -> float:
        return ETA[self.dtype]

    def through(self, value: float, slope: float) -> Ball:
        """f(self) for an elementary f: `value` = f(mid), `slope` = sup |f'| over the ball."""
        r = _times(slope, self.r) + ELEMENTARY_ULPS * self._u * abs(value) + self._eta
        return self._new(value, r)

    def holds(self, point: float) -> bool:
        """Whether a correct evaluation may land on either side of `point` (or on it)."""
        return abs(self.mid - point) <= 2 * self.r


def _times(a: float, b: float) -> float:
    """a * b for bounds, where 0 times an infinite bound is 0 (an exact operand has no error to
    amplify), not nan."""
    return 0.0 if a == 0 or b == 0 else a * b


def hull(lo: float, hi: float, dtype: str) -> Ball:
    """A derivative at a kink, whichever side is taken: the exact one and a framework's may be
    any two values between `lo` and `hi`, so they are at most hi - lo apart."""
    return Ball((lo + hi) / 2, abs(hi - lo), dtype, kink=True)


def _exp(x: Ball) -> Ball:
    return x.through(exp64(x.mid), exp64(x.mid + 2 * x.r))


def _tanh(x: Ball) -> Ball:
    nearest = max(0.0, abs(x.mid) - 2 * x.r)  # |f'| = 1 - tanh^2 is largest nearest 0
    return x.through(math.tanh(x.mid), 1 - math.tanh(nearest) ** 2)


def _log1p(x: Ball) -> Ball:
    low = 1 + x.mid - 2 * x.r
    if low <= 0:
        return x._new(math.log1p(x.mid) if x.mid > -1 else -math.inf, math.inf)
    return x.through(math.log1p(x.mid), 1 / low)


def _either(formula: Ball, direct: Ball) -> Ball:
    """Every value a correct evaluation by either of two formulas may give: `formula`'s value,
    with a radius that covers `direct`'s ball too."""
    r = max(formula.r, abs(direct.mid - formula.mid) + direct.r)
    return formula._new(formula.mid, r, direct)


def _activate(act: Any, net: Ball) -> Ball:
    """f(net) by the table's formula, or (an elementary f) by one library call of that accuracy."""
    formula = act.f(net, arithmetic(net.dtype))
    if act.elementary is None:
        return formula
    nearest = max(0.0, abs(net.mid) - 2 * net.r)
    slope = act.elementary.max_slope if act.name != "tanh" else 1 - math.tanh(nearest) ** 2
    return _either(formula, net.through(act.elementary.f(net.mid), slope))


def _derivative(act: Any, net: Ball, out: Ball) -> Ball:
    """f'(net): the table's formula (from out, as the post does), the direct library f', and at
    a kink the hull of its one-sided derivatives: every convention a framework picks."""
    d = act.derivative(net, out, arithmetic(net.dtype))
    if act.elementary is not None:
        d = _either(d, net.through(act.elementary.df(net.mid), act.elementary.max_curvature))
    for k in act.kinks:
        if net.holds(k.at):
            d = _either(hull(min(k.left, k.right), max(k.left, k.right), net.dtype), d)
    return d


def _loss_terms(loss: str, logits: list[Ball], shares: list[Ball]) -> list[Ball]:
    """A logit loss's shares as any standard formula computes them: frameworks write BCE as
    max(z, 0) - t z + log1p(e^-|z|) or (1 - t) z + m + log(e^-m + e^(-z-m)), and softmax
    cross-entropy as z_max - z + log(sum e^(z - z_max)), each rounding at the scale of the logits
    they cancel; so each share may be off by ELEMENTARY_ULPS u times those magnitudes too."""
    top = max(abs(z.mid) + 2 * z.r for z in logits)
    out = []
    for z, e in zip(logits, shares):
        scale = 3 * (abs(z.mid) + 2 * z.r) + (2 * top if loss == "softmax-ce" else 0.0) + e.size
        out.append(_either(e, Ball(e.mid, e.r + ELEMENTARY_ULPS * e._u * scale, e.dtype)))
    return out


def _constant(v: float, dtype: str) -> Ball:
    """A constant of the computation: exact when the dtype holds it, else within half an ULP."""
    held = float(np.float32(v)) if dtype == "float32" else float(v)
    return Ball(float(v), 0.0 if held == v else UNIT_ROUNDOFF[dtype] * abs(v), dtype)


def arithmetic(dtype: str) -> Any:
    """The number type `Ball` as an Arithmetic the reference runs on."""
    from bpcheck.reference.arith import Arithmetic

    return Arithmetic(
        f"ball-{dtype}",
        lambda v: v if isinstance(v, Ball) else _constant(v, dtype),
        _exp,
        tanh=_tanh,
        log1p=_log1p,
        activate=_activate,
        derivative=_derivative,
        loss_terms=_loss_terms,
    )


def step_balls(case: Any, dtype: str, config: Any) -> dict[str, Ball]:
    """Every quantity of one training step of `case` (inputs as a `dtype` backend holds them)
    under `config`, as a Ball: the reference's value and the radius of any correct evaluation."""
    from bpcheck.reference import mlp
    from bpcheck.reference.oracle import as_dtype_case, rounded_parameters
    from bpcheck.reference.trace import mlp_net, name_trace

    a, held = arithmetic(dtype), as_dtype_case(case, dtype)
    x = [[a.num(v) for v in row] for row in held.inputs]
    t = [[a.num(v) for v in row] for row in held.targets]
    params = rounded_parameters(case, dtype)
    tr = mlp.training_step(
        case.spec,
        x,
        t,
        mlp_net(case.layout, params, a.num),
        a.num(held.learning_rate),
        a,
        config.update_order == "output-first",
        config.update_biases,
    )
    return {
        k: v if isinstance(v, Ball) else Ball(float(v), 0.0, dtype) for k, v in name_trace(case.layout, x, tr).items()
    }


def step_ball_arrays(case: Any, dtype: str, config: Any, keep: str = "all") -> tuple[np.ndarray, np.ndarray]:
    """step_balls's radii and kinks as arrays in the order of `case.layout.step_items()` (or
    the part `keep` names: trace.step_values): what a wide case keeps of its balls (each Ball
    is ~130 bytes; the two arrays, 9 per quantity). The weights, their gradients and updates
    are balls a row at a time (mlp.Rows), read into the arrays as they are made."""
    from bpcheck.reference import mlp
    from bpcheck.reference.oracle import as_dtype_case, rounded_parameters
    from bpcheck.reference.trace import iter_kept, mlp_net

    a, held, lay = arithmetic(dtype), as_dtype_case(case, dtype), case.layout
    x = [[a.num(v) for v in row] for row in held.inputs]
    t = [[a.num(v) for v in row] for row in held.targets]
    tr = mlp.training_step(
        case.spec,
        x,
        t,
        mlp_net(lay, rounded_parameters(case, dtype), a.num),
        a.num(held.learning_rate),
        a,
        config.update_order == "output-first",
        config.update_biases,
        keep,
        lazy=True,
    )
    q, p = lay.quantity_count, lay.parameter_count
    n = {"gradients": q - p, "updates": p}.get(keep, q)
    radius, kink = np.zeros(n), np.zeros(n, dtype=bool)
    count = 0
    for k, v in enumerate(iter_kept(lay, x, tr, keep)):
        count += 1
        if isinstance(v, Ball):
            radius[k], kink[k] = v.r, v.kink
    if count != n:
        raise RuntimeError(f"the trace gave {count} values for {n} quantities")
    return radius, kink


def forward_balls(case: Any, dtype: str, params: dict[str, float], radius: dict[str, float]) -> dict[str, Ball]:
    """Outputs and E_total of a forward pass from `params`, each known only to within `radius`
    (a trained parameter's measured drift): how far they may be, given that drift."""
    from bpcheck.reference.oracle import as_dtype_case
    from bpcheck.reference.trace import forward

    a = arithmetic(dtype)
    balls = {p: Ball(float(v), radius.get(p, 0.0), dtype) for p, v in params.items()}
    return dict(forward(as_dtype_case(case, dtype), balls, a))
