"""How much cancellation each quantity of a training step suffers.

Every number carries, beside its value, the size S of the terms that went into it: a sum's S
is the sum of its terms' S (so 0.0554 - 0.0190 has S ~ 0.074, twice the result), a product
carries each factor's S scaled by the other factor, a function its argument's S times f'(x);
every computed value is at least its own size, data and constants (exact) contribute 0.
rho = S / |exact value| is how much cancellation amplified rounding: a value with rho = 1000
may be off by ~1000 ULPs in any correct floating-point evaluation, and the tolerance policy
multiplies its bound by max(1, rho).
"""

from __future__ import annotations

import math
from typing import Any

from bpcheck.reference import activations, mlp
from bpcheck.reference.arith import FLOAT64, Arithmetic
from bpcheck.reference.case import Case, Config


class Mag:
    """A value and its spread S = |value| * rho: the size of the terms that cancelled into it
    (0 for data and constants, which are exact). Carrying S rather than rho keeps the
    information when a float computation cancels to exactly 0."""

    __slots__ = ("real", "s")

    def __init__(self, value: float, s: float = 0.0):
        self.real = float(value)
        self.s = s

    def _sum(self, o: Any, sign: int) -> Mag:
        o = _mag(o)
        v = self.real + sign * o.real
        return Mag(v, max(abs(v), self.s + o.s))

    def __add__(self, o: Any) -> Mag:
        return self._sum(o, 1)

    __radd__ = __add__

    def __sub__(self, o: Any) -> Mag:
        return self._sum(o, -1)

    def __rsub__(self, o: Any) -> Mag:
        return _mag(o)._sum(self, -1)

    def __mul__(self, o: Any) -> Mag:
        o = _mag(o)
        v = self.real * o.real
        return Mag(v, max(abs(v), self.s * abs(o.real), o.s * abs(self.real)))

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Mag:
        o = _mag(o)
        v = self.real / o.real
        return Mag(v, max(abs(v), self.s / abs(o.real), abs(v) * o.s / abs(o.real)))

    def __rtruediv__(self, o: Any) -> Mag:
        return _mag(o) / self

    def __pow__(self, k: int) -> Mag:
        v = self.real**k
        return Mag(v, max(abs(v), abs(self.real) ** (k - 1) * self.s))

    def __neg__(self) -> Mag:
        return Mag(-self.real, self.s)

    def __float__(self) -> float:
        return self.real


def _mag(x: Any) -> Mag:
    return x if isinstance(x, Mag) else Mag(float(x))


def _through(f: float, x: Mag, slope: float) -> Mag:
    """f(x): its own rounding, and x's spread carried through f'(x)."""
    return Mag(f, max(abs(f), abs(slope) * x.s))


def _exp(x: Mag) -> Mag:
    e = math.exp(x.real)
    return _through(e, x, e)


def _tanh(x: Mag) -> Mag:
    t = math.tanh(x.real)
    return _through(t, x, activations.TANH.derivative(x.real, t, FLOAT64))


def _log1p(x: Mag) -> Mag:
    return _through(math.log1p(x.real), x, 1 / (1 + x.real))


MAGNITUDE = Arithmetic("magnitude", Mag, _exp, tanh=_tanh, log1p=_log1p)


def spread(case: Case, params: dict[str, float], config: Config) -> dict[str, float]:
    """|x| * rho of every quantity x of one training step (the general reference run on
    `Mag`s): the size of the terms that cancelled into x. Divided by the *exact* |x| it gives
    the cancellation factor, even where x is exactly 0 and its float value only rounding."""
    from bpcheck.reference.trace import mlp_net, name_trace

    x = [[Mag(v) for v in row] for row in case.inputs]
    t = [[Mag(v) for v in row] for row in case.targets]
    tr = mlp.training_step(
        case.spec,
        x,
        t,
        mlp_net(case.layout, params, Mag),
        Mag(case.learning_rate),
        MAGNITUDE,
        config.update_order == "output-first",
        config.update_biases,
    )
    return {k: v.s if isinstance(v, Mag) else abs(float(v)) for k, v in name_trace(case.layout, x, tr).items()}


def condition(case: Case, params: dict[str, float], config: Config, exact: dict[str, Any]) -> dict[str, float]:
    """rho = max(1, spread / |exact|) of every quantity of one training step. A quantity whose
    terms cancel to exactly 0 has no scale to measure ULPs against: rho is infinite and only
    a finite value is asked of it (its neighbours, made of the same terms, are still held)."""
    return {
        k: max(1.0, s / abs(float(exact[k])) if exact[k] else (math.inf if s else 1.0))
        for k, s in spread(case, params, config).items()
    }
