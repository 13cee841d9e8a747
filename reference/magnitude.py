"""How much cancellation each quantity of a training step suffers.

Every number carries, beside its value, rho: how much the relative errors of its inputs are
amplified in it by cancellation. Sums and differences are where it happens: for c = a + b,
rho_c = (|a| rho_a + |b| rho_b) / |c|, so 0.0554 - 0.0190 gets rho ~ 2; products, quotients
and functions pass on the worst rho of their arguments (data and constants are exact, rho 0;
every computed value has at least its own rounding, rho >= 1) (times x f'(x) / f(x) for exp, tanh and
log1p). A value with rho = 1000 may be off by ~1000 ULPs in any correct floating-point
evaluation: the tolerance policy multiplies its bound by max(1, rho).
"""

from __future__ import annotations

import math
from typing import Any

from reference import mlp
from reference.arith import Arithmetic
from reference.case import Case, Config


class Mag:
    __slots__ = ("real", "rho")

    def __init__(self, value: float, rho: float = 0.0):  # data and constants are exact: rho 0
        self.real = float(value)
        self.rho = rho

    def _sum(self, o: Any, sign: int) -> Mag:
        o = _mag(o)
        v = self.real + sign * o.real
        spread = abs(self.real) * self.rho + abs(o.real) * o.rho
        return Mag(v, max(1.0, spread / abs(v)) if v else 1.0 if spread == 0 else math.inf)

    def __add__(self, o: Any) -> Mag:
        return self._sum(o, 1)

    __radd__ = __add__

    def __sub__(self, o: Any) -> Mag:
        return self._sum(o, -1)

    def __rsub__(self, o: Any) -> Mag:
        return _mag(o)._sum(self, -1)

    def __mul__(self, o: Any) -> Mag:
        o = _mag(o)
        return Mag(self.real * o.real, max(self.rho, o.rho, 1.0))

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Mag:
        o = _mag(o)
        return Mag(self.real / o.real, max(self.rho, o.rho, 1.0))

    def __rtruediv__(self, o: Any) -> Mag:
        return _mag(o) / self

    def __pow__(self, k: int) -> Mag:
        return Mag(self.real**k, max(self.rho, 1.0))

    def __neg__(self) -> Mag:
        return Mag(-self.real, self.rho)

    def __float__(self) -> float:
        return self.real


def _mag(x: Any) -> Mag:
    return x if isinstance(x, Mag) else Mag(float(x))


def _through(f: float, x: Mag, slope: float) -> Mag:
    """f(x), whose relative error is |x f'(x) / f(x)| times x's."""
    return Mag(f, max(1.0, abs(x.real * slope / f) * x.rho) if f else 1.0)


def _exp(x: Mag) -> Mag:
    e = math.exp(x.real)
    return _through(e, x, e)


def _tanh(x: Mag) -> Mag:
    t = math.tanh(x.real)
    return _through(t, x, 1 - t * t)


def _log1p(x: Mag) -> Mag:
    return _through(math.log1p(x.real), x, 1 / (1 + x.real))


MAGNITUDE = Arithmetic("magnitude", Mag, _exp, tanh=_tanh, log1p=_log1p)


def spread(case: Case, params: dict[str, float], config: Config) -> dict[str, float]:
    """|x| * rho of every quantity x of one training step (the general reference run on
    `Mag`s): the size of the terms that cancelled into x. Divided by the *exact* |x| it gives
    the cancellation factor, even where x is exactly 0 and its float value only rounding."""
    from reference.trace import mlp_net, name_trace

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
    return {
        k: abs(v.real) * max(1.0, v.rho) if isinstance(v, Mag) else abs(float(v))
        for k, v in name_trace(case.layout, x, tr).items()
    }


def condition(case: Case, params: dict[str, float], config: Config, exact: dict[str, Any]) -> dict[str, float]:
    """rho = max(1, spread / |exact|) of every quantity of one training step. A quantity whose
    terms cancel to exactly 0 has no scale to measure ULPs against: rho is infinite and only
    a finite value is asked of it (its neighbours, made of the same terms, are still held)."""
    return {k: max(1.0, s / abs(float(exact[k])) if exact[k] else (math.inf if s else 1.0))
            for k, s in spread(case, params, config).items()}
