"""Two gradient oracles that know nothing of backpropagation, to check the reference's, and the
rules that judge them against it. Both evaluate E_total with the general forward pass
(reference/mlp.py), never the backward one.

Finite differences, D(h) = (E(p + h) - E(p - h)) / 2h in MPFR, are off from dE/dp by truncation,
h^2 E'''/6, and by rounding, eps_work * (the size of E's terms) / h. Neither is known in advance:
a saturated network has gradients of 1e-36 and less beside terms of E of 1e-36 to 1. So every
parameter measures both and reports them as the estimate's own error:
- rounding: how far rounding at P digits moves E (|E at P - E at P + 20 digits|, at least
  10^-P |E|), divided by h: D(h) is computed at P + 20 digits, so this bounds its rounding with
  20 digits to spare;
- truncation: |D(2h) - D(h)| / 3 at P + 20 digits (Richardson: D(2h) - D(h) = 3 h^2 E'''/6 + ...).
The value is D(h) at P + 20 digits. It starts at h = 2^-100 (times |p| above 1) and P = 90 digits;
while error > FD_TARGET |D| it raises P (rounding) or lowers h (truncation), at most FD_ROUNDS
times and to FD_MAX_DIGITS digits, and keeps whatever error it reached.

The complex step, Im E(p + ih) / h in complex128 with h = 1e-30, subtracts no two values of E, so
h costs nothing; but it carries the derivative through the float64 real parts of the forward
pass. Where those lose what the derivative depends on (sigmoid(40) rounds to 1, so t - out with
t = 1 is 0 and the output's share of the gradient is gone), or where the gradient is a sum whose
terms cancel (rho: the error model's amplification, bpcheck.matrix.step_conditions), complex128
cannot resolve it. It needs an analytic E: through relu or leaky_relu (a kink) it does not apply, and says so.

Verdicts, per gradient and oracle (`check`):
- agree: finite differences within their own error plus the 60-digit backprop's rounding
  (|D - g| <= error + BACKPROP_ROUNDING max(1, rho) |g|), with an error of at most FD_RESOLVES |g|;
  the complex step within CS_AGREEMENT relative, a bound that never grows with rho.
- DISAGREE: further off than that, where the oracle resolves the gradient.
- at a kink: finite differences disagree, and a relu or leaky_relu pre-activation the parameter
  feeds is exactly 0, so the difference straddles the kink (`kinks`, `kinked_parameters`).
- inconclusive: the oracle cannot resolve this gradient (finite differences: their error is
  above FD_RESOLVES |g|; the complex step: see `_complex_step_cannot_resolve`).
- not applicable: the complex step through a kink.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from bpcheck.reference import activations, arith, mlp
from bpcheck.reference.case import Case
from bpcheck.reference.trace import mlp_net

COMPLEX_STEP = 1e-30

#: The relative error finite differences aim for: 10^11 below the 1e-9 slips they must catch.
FD_TARGET = 1e-20
#: The first working precision (decimal digits): resolves |g| >= 1e-40 (E's terms ~1) to FD_TARGET.
FD_START_DIGITS = 90
#: The extra digits of the reported value over the one its rounding is measured against.
FD_GUARD_DIGITS = 20
#: The first step is 2^-FD_STEP_BITS times |p| rounded up to a power of two (at least 1): exact
#: in binary, so p +- h is exact and the divisor is exactly 2h.
FD_STEP_BITS = 100
#: Refinements of precision or step, and the precision they stop at (keeps the cost bounded).
FD_ROUNDS = 4
FD_MAX_DIGITS = 400
#: Finite differences whose own error is above this, relative to the gradient, are inconclusive:
#: 1000x below the 1e-9 slips the oracles are meant to catch.
FD_RESOLVES = 1e-12
#: The backprop is exact to 60 digits, each rounding ~1e-60 of the terms: rho |g| 1e-60, times op
#: counts. 1e-40 leaves 20 digits for those and still catches 1e-9 slips wherever rho < 1e31.
BACKPROP_ROUNDING = 1e-40

#: complex128 rounds at 2^-53; 2^13 = 8192 roundings of margin for their accumulation over the
#: forward pass (the bundled analytic cases reach 8.6e-14 = 2^-43.4, xor-h5, whose gradients have
#: rho up to 1e3). Fixed: the complex step agrees only within this, whatever rho.
CS_AGREEMENT = 2.0**-40
#: Below this the gradient's imaginary parts (|g| h = 1e-280) leave float64's normal range
#: (2.2e-308) with fewer than 28 orders of magnitude to spare for intermediates.
CS_SMALLEST = 1e-250

AGREE, DISAGREE, AT_A_KINK, INCONCLUSIVE, NOT_APPLICABLE = (
    "agree",
    "DISAGREE",
    "at a kink",
    "inconclusive",
    "not applicable",
)
#: The order a case's summary reports them in: the first one any gradient has.
VERDICTS = (DISAGREE, INCONCLUSIVE, AT_A_KINK, NOT_APPLICABLE, AGREE)


@dataclass
class OracleResult:
    gradients: dict[str, Any]  # dE_total/d<p> -> value
    not_applicable: str | None = None
    errors: dict[str, Any] = field(default_factory=dict)  # dE_total/d<p> -> its own error (finite differences)


@dataclass(frozen=True)
class Estimate:
    """A finite-difference derivative, its own error (absolute) and how it was reached."""

    value: Any
    rounding: Any
    truncation: Any
    digits: int
    step_bits: int  # h = 2^-step_bits times max(1, |p|) rounded up to a power of two

    @property
    def error(self) -> Any:
        return self.rounding + self.truncation


@dataclass(frozen=True)
class Check:
    """One oracle's value for one gradient, its relative distance to the backprop, the verdict."""

    oracle: str
    value: Any  # None where not applicable
    distance: float  # |value - backprop| / |backprop| (0 or inf where backprop is 0); nan if none
    verdict: str
    why: str = ""
    error: Any = None  # the oracle's own error estimate, absolute (finite differences)


@dataclass(frozen=True)
class GradientCheck:
    quantity: str
    backprop: Any
    finite_differences: Check
    complex_step: Check


# --- evaluating E ------------------------------------------------------------------------------


def _loss(case: Case, params: dict[str, Any], a: arith.Arithmetic) -> Any:
    x = [[a.num(v) for v in row] for row in case.inputs]
    t = [[a.num(v) for v in row] for row in case.targets]
    nets, outs = mlp.forward(case.spec, x, mlp_net(case.layout, params, lambda v: v), a)
    return mlp.loss_of(case.spec, nets, outs, t, a)[1]


def _forward(case: Case, a: arith.Arithmetic) -> tuple[list[list[list[Any]]], list[list[Any]]]:
    """nets[l][n][j] and the per-output errors e_o[n][k] at the case's parameters, in `a`."""
    with a.context():
        x = [[a.num(v) for v in row] for row in case.inputs]
        t = [[a.num(v) for v in row] for row in case.targets]
        params = {p: a.num(v) for p, v in case.parameters.items()}
        nets, outs = mlp.forward(case.spec, x, mlp_net(case.layout, params, lambda v: v), a)
        return nets, mlp.loss_of(case.spec, nets, outs, t, a)[0]


# --- finite differences ------------------------------------------------------------------------


def _start_step_bits(p: float) -> int:
    """2^-bits is the first step: 2^-FD_STEP_BITS for |p| <= 1, scaled up with |p| beyond."""
    return FD_STEP_BITS - max(0, math.ceil(math.log2(abs(p)))) if abs(p) > 1 else FD_STEP_BITS


def _quotient(case: Case, params: dict[str, float], p: str, step_bits: int, digits: int) -> str:
    """D(h) = (E(p + h) - E(p - h)) / 2h, h = 2^-step_bits, at `digits` digits, as a decimal string."""
    a = arith.exact(digits)
    with a.context():
        base = {q: a.num(v) for q, v in params.items()}
        h = a.num(2.0**-step_bits)
        up = _loss(case, {**base, p: base[p] + h}, a)
        down = _loss(case, {**base, p: base[p] - h}, a)
        return a.to_str((up - down) / ((base[p] + h) - (base[p] - h)))


def _loss_rounding(case: Case, params: dict[str, float], digits: int) -> str:
    """How far rounding at `digits` moves E: |E at `digits` - E at digits + FD_GUARD_DIGITS|, and at
    least one rounding of E (10^-digits |E|). A bound 10^FD_GUARD_DIGITS too large for the rounding
    at digits + FD_GUARD_DIGITS, where the value is computed."""
    fine = arith.exact(digits + FD_GUARD_DIGITS)
    values = []
    for a in (arith.exact(digits), fine):
        with a.context():
            values.append(a.to_str(_loss(case, {q: a.num(v) for q, v in params.items()}, a)))
    with fine.context():
        coarse, exact = fine.parse(values[0]), fine.parse(values[1])
        return fine.to_str(max(abs(coarse - exact), abs(exact) * fine.parse(f"1e-{digits}")))


def _estimate(
    case: Case, params: dict[str, float], p: str, step_bits: int, digits: int, loss_rounding: str
) -> Estimate:
    """D(h) at digits + FD_GUARD_DIGITS, its rounding and its truncation (see the module's doc)."""
    fine = arith.exact(digits + FD_GUARD_DIGITS)
    with fine.context():
        value = fine.parse(_quotient(case, params, p, step_bits, digits + FD_GUARD_DIGITS))
        double = fine.parse(_quotient(case, params, p, step_bits - 1, digits + FD_GUARD_DIGITS))
        rounding = fine.parse(loss_rounding) * 2**step_bits
        return Estimate(value, rounding, abs(double - value) / 3, digits, step_bits)


def _refined(e: Estimate, goal: Any) -> tuple[int, int]:
    """(digits, step_bits) expected to bring e's error under `goal` > 0: h lowered by the square
    root of the truncation's excess (it goes as h^2), then P raised by the rounding's excess (it
    goes as 10^-P / h)."""
    excess = lambda part: min(1e300, float(part / goal))
    shrink = min(200, math.ceil(math.log2(excess(e.truncation)) / 2) + 2) if excess(e.truncation) > 1 else 0
    rounding = excess(e.rounding) * 2.0**shrink
    more = math.ceil(math.log10(rounding)) + 3 if rounding > 1 else 0
    return min(FD_MAX_DIGITS, e.digits + more), e.step_bits + shrink


def finite_difference(case: Case, params: dict[str, float], p: str, loss_rounding: dict[int, str]) -> Estimate:
    """dE_total/dp by central differences whose step and precision are chosen until their own
    error is below FD_TARGET of the derivative (or the rounds or digits run out).
    `loss_rounding`: digits -> _loss_rounding at them, filled as needed (shared by parameters)."""
    digits, step_bits = FD_START_DIGITS, _start_step_bits(params[p])
    for _ in range(FD_ROUNDS):
        if digits not in loss_rounding:
            loss_rounding[digits] = _loss_rounding(case, params, digits)
        e = _estimate(case, params, p, step_bits, digits, loss_rounding[digits])
        goal = FD_TARGET * abs(e.value)
        if e.error <= goal or not e.value or digits >= FD_MAX_DIGITS:  # 0: E does not move with p
            break
        digits, step_bits = _refined(e, goal)
    return e


def finite_differences(case: Case, params: dict[str, float]) -> OracleResult:
    """dE_total/dp for every parameter p, each with its own error estimate."""
    loss_rounding: dict[int, str] = {}
    estimates = {f"dE_total/d{p}": finite_difference(case, params, p, loss_rounding) for p in params}
    return OracleResult({k: e.value for k, e in estimates.items()}, None, {k: e.error for k, e in estimates.items()})


# --- the complex step --------------------------------------------------------------------------


def complex_step(case: Case, params: dict[str, float]) -> OracleResult:
    """dE_total/dp by the complex-step derivative, or why it does not apply."""
    kinks = sorted({a for a in case.spec.activations if not activations.get(a).analytic})
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


def float64_unresolved(case: Case) -> str:
    """Why the complex step's float64 forward pass cannot carry the derivative ('' if it can):
    the worst-resolved output error E_o, when it is off by more than CS_AGREEMENT relative (a
    saturated sigmoid rounds out to 1, and t - out to 0)."""
    _, e64 = _forward(case, arith.FLOAT64)
    _, exact = _forward(case, arith.exact())
    off = {(n, k): _relative(v64, v) for n, row in enumerate(e64) for k, (v64, v) in enumerate(zip(row, exact[n]))}
    n, k = max(off, key=off.__getitem__)
    if off[(n, k)] <= CS_AGREEMENT:
        return ""
    name = case.layout.ex(f"E_{case.layout.outputs[k]}", n)
    return f"float64 saturates or cancels: {name} is {e64[n][k]!r}, exact {float(exact[n][k]):.3g}"


# --- kinks -------------------------------------------------------------------------------------


def kink_points(activation: str) -> tuple[float, ...]:
    """Where `activation` is not differentiable (reference/activations.py)."""
    return tuple(k.at for k in activations.get(activation).kinks)


@dataclass(frozen=True)
class Kink:
    """A pre-activation of the exact forward pass exactly at a kink of its activation."""

    layer: int  # layer after the inputs: 0 is the first hidden layer
    neuron: int
    example: int
    quantity: str  # net_h1, net_h1[2]


def kinks(case: Case) -> list[Kink]:
    """Every pre-activation of the case that sits exactly on a kink, in exact arithmetic on the
    case's inputs and parameters (a softmax output layer has none)."""
    nets, _ = _forward(case, arith.exact())
    found = []
    for l, layer in enumerate(nets):
        points = () if l == len(nets) - 1 and case.spec.loss == "softmax-ce" else kink_points(case.spec.activations[l])
        for n, row in enumerate(layer):
            for j, z in enumerate(row):
                if any(z == point for point in points):
                    found.append(Kink(l, j, n, case.layout.ex(f"net_{case.layout.labels[l + 1][j]}", n)))
    return found


def kinked_parameters(case: Case) -> dict[str, str]:
    """Parameter -> the kinked pre-activation it moves: the neuron's own weights and bias, and
    every parameter of the layers below (conservatively: all of them)."""
    out: dict[str, str] = {}
    for kink in kinks(case):
        own = case.layout.w[kink.layer][kink.neuron] + _bias_of(case, kink.layer, kink.neuron)
        below = [p for l in range(kink.layer) for p in _layer_parameters(case, l)]
        out.update({p: kink.quantity for p in own + below if p not in out})
    return out


def _bias_of(case: Case, layer: int, neuron: int) -> list[str]:
    names = case.layout.b[layer]
    return names[:1] if case.spec.bias == "shared-per-layer" else names[neuron : neuron + 1]


def _layer_parameters(case: Case, layer: int) -> list[str]:
    return [w for row in case.layout.w[layer] for w in row] + case.layout.b[layer]


# --- judging -----------------------------------------------------------------------------------


def _relative(value: Any, exact: Any) -> float:
    """|value - exact| / |exact|: 0 where both are 0, inf where only exact is; nan for nan."""
    if isinstance(value, float) and not math.isfinite(value):
        return math.nan if math.isnan(value) else math.inf
    if not exact:
        return 0.0 if value == 0 else math.inf
    return float(abs(value - exact) / abs(exact))


def judge_finite_difference(value: Any, error: Any, exact: Any, rho: float, kink: str = "") -> Check:
    """Finite differences against the backprop's exact value (see the module's doc)."""
    distance = _relative(value, exact)
    backprop_rounding = BACKPROP_ROUNDING * max(1.0, rho) * abs(exact) if exact else 0
    name = "finite differences"
    if abs(value - exact) <= error + backprop_rounding:
        if error <= FD_RESOLVES * max(abs(value), abs(exact)) or value == exact == 0:
            return Check(name, value, distance, AGREE, error=error)
        why = f"their own error {float(error):.2g} is above {FD_RESOLVES:g} of the gradient"
        return Check(name, value, distance, INCONCLUSIVE, why, error)
    if kink:
        why = f"{kink} is exactly 0, a kink: the difference straddles it and the one-sided derivatives differ"
        return Check(name, value, distance, AT_A_KINK, why, error)
    why = f"off by {distance:.3g}, beyond their own error {float(error):.2g}"
    return Check(name, value, distance, DISAGREE, why, error)


def judge_complex_step(value: float, exact: Any, rho: float, unresolved: str = "") -> Check:
    """The complex step against the backprop's exact value (see the module's doc)."""
    distance = _relative(value, exact)
    if distance <= CS_AGREEMENT:
        return Check("complex step", value, distance, AGREE)
    why = _complex_step_cannot_resolve(value, exact, rho, distance, unresolved)
    if why:
        return Check("complex step", value, distance, INCONCLUSIVE, why)
    return Check("complex step", value, distance, DISAGREE, f"off by {distance:.3g} > {CS_AGREEMENT:.3g}")


def _complex_step_cannot_resolve(value: float, exact: Any, rho: float, distance: float, unresolved: str) -> str:
    """Why complex128 cannot resolve this gradient to `distance` ('' if it can): a non-finite
    value, a gradient too small for its imaginary parts, a float64 forward pass that loses what
    the derivative depends on, or cancellation (rho) that lets correct complex128 be this far off."""
    if not math.isfinite(value):
        return f"{value!r} in complex128"
    if abs(exact) < CS_SMALLEST:
        return f"|gradient| < {CS_SMALLEST:g}: its imaginary parts fall out of float64's normal range"
    if unresolved:
        return unresolved
    if distance <= CS_AGREEMENT * max(1.0, rho):
        return f"cancellation (rho = {rho:.3g}) lets correct complex128 be off by up to {CS_AGREEMENT * rho:.3g}"
    return ""


def check(case: Case, backprop: dict[str, Any], rho: dict[str, float] | None = None) -> list[GradientCheck]:
    """Both oracles against the backprop gradients `backprop` (exact values keyed dE_total/d<p>),
    gradient by gradient; rho: the gradients' cancellation factors (1 where missing)."""
    rho = rho or {}
    fd = finite_differences(case, case.parameters)
    cs = complex_step(case, case.parameters)
    unresolved = "" if cs.not_applicable else float64_unresolved(case)
    kinked = kinked_parameters(case)
    out = []
    for name, value in fd.gradients.items():
        g, r = backprop[name], rho.get(name, 1.0)
        kink = kinked.get(name.removeprefix("dE_total/d"), "")
        fd_check = judge_finite_difference(value, fd.errors[name], g, r, kink)
        out.append(GradientCheck(name, g, fd_check, _complex_step_check(cs, name, g, r, unresolved)))
    return out


def _complex_step_check(cs: OracleResult, name: str, exact: Any, rho: float, unresolved: str) -> Check:
    if cs.not_applicable:
        why = cs.not_applicable.removeprefix("not applicable: ")
        return Check("complex step", None, math.nan, NOT_APPLICABLE, why)
    return judge_complex_step(cs.gradients[name], exact, rho, unresolved)


def disagreements(case: Case, backprop: dict[str, Any], rho: dict[str, float]) -> list[str]:
    """One line for every DISAGREE of `check`: finite differences first, then the complex step."""
    checks = check(case, backprop, rho)
    return [
        f"{case.name} {c.quantity}: backprop {float(c.backprop)!r}, {o.oracle} {float(o.value)!r} ({o.why})"
        for attr in ("finite_differences", "complex_step")
        for c in checks
        if (o := getattr(c, attr)).verdict == DISAGREE
    ]
