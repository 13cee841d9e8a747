"""Two gradient oracles that know nothing of backpropagation, to check the reference's.

- Central finite differences in 60-digit arithmetic: (E(p + h) - E(p - h)) / 2h with
  h = 1e-25. Truncation error ~ h^2 E''' ~ 1e-50, rounding ~ 1e-60 / h = 1e-35: the
  difference quotient agrees with the true derivative to ~30 digits.
- The complex step in complex128: Im E(p + ih) / h with h = 1e-30, exact up to double
  rounding (no subtraction, so no cancellation) -- but only where E is analytic: relu and
  leaky_relu are not (their kink; `analytic` in reference/activations.py), so the complex
  step is *not applicable* there, and says so.

Both evaluate E_total with the general forward pass (reference/mlp.py), not the backward one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bpcheck.reference import activations, arith, mlp
from bpcheck.reference.case import Case
from bpcheck.reference.trace import mlp_net
from bpcheck.reference.ulps import error

NOT_ANALYTIC = tuple(name for name, act in activations.TABLE.items() if not act.analytic)
FD_STEP = "1e-25"
COMPLEX_STEP = 1e-30


@dataclass
class OracleResult:
    gradients: dict[str, Any]  # dE_total/d<p> -> value
    not_applicable: str | None = None


def _loss(case: Case, params: dict[str, Any], a: arith.Arithmetic) -> Any:
    x = [[a.num(v) for v in row] for row in case.inputs]
    t = [[a.num(v) for v in row] for row in case.targets]
    nets, outs = mlp.forward(case.spec, x, mlp_net(case.layout, params, lambda v: v), a)
    return mlp.loss_of(case.spec, nets, outs, t, a)[1]


def finite_differences(case: Case, params: dict[str, float]) -> OracleResult:
    """dE_total/dp for every parameter p by high-precision central differences."""
    a = arith.exact()
    with a.context():
        base = {p: a.num(v) for p, v in params.items()}
        h = a.parse(FD_STEP)
        out = {}
        for p in params:
            up = _loss(case, {**base, p: base[p] + h}, a)
            down = _loss(case, {**base, p: base[p] - h}, a)
            out[f"dE_total/d{p}"] = (up - down) / (2 * h)
        return OracleResult(out)


def complex_step(case: Case, params: dict[str, float]) -> OracleResult:
    """dE_total/dp by the complex-step derivative, or why it does not apply."""
    kinks = sorted(set(case.spec.activations) & set(NOT_ANALYTIC))
    if kinks:
        verb = "is" if len(kinks) == 1 else "are"
        return OracleResult(
            {}, f"not applicable: {' and '.join(kinks)} {verb} not analytic (the complex step needs that)"
        )
    a = arith.complex128()
    base = {p: complex(v) for p, v in params.items()}
    return OracleResult(
        {f"dE_total/d{p}": _loss(case, {**base, p: base[p] + COMPLEX_STEP * 1j}, a).imag / COMPLEX_STEP for p in params}
    )


#: Finite differences agree with the true derivative to ~30 digits (see above): relative 1e-25
#: leaves five digits of margin and is still 10^9 below float64's resolution.
FD_AGREEMENT = 1e-25


def disagreements(case: Case, backprop: dict[str, Any], bounds: dict[str, float]) -> list[str]:
    """Where either oracle disagrees with the backprop gradients `backprop` (exact values,
    keyed dE_total/d<p>), one line each. The complex step is held to `bounds`, each gradient's
    float64 error-model radius (reference/bounds.py): it runs in float64 arithmetic too."""
    bad = []
    for name, fd in finite_differences(case, case.parameters).gradients.items():
        x = backprop[name]
        if abs(fd - x) > FD_AGREEMENT * max(abs(x), abs(fd)) and fd != x:
            bad.append(f"{case.name} {name}: backprop {float(x)!r}, finite differences {float(fd)!r}")
    cs = complex_step(case, case.parameters)
    for name, v in cs.gradients.items():
        off, bound = error(v, backprop[name]), bounds.get(name, 0.0)
        if not off <= bound:
            bad.append(
                f"{case.name} {name}: backprop {float(backprop[name])!r}, complex step {v!r} ({off:.3g} > {bound:.3g})"
            )
    return bad
