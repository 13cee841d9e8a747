"""The verdicts' invariants (reference/tolerance.py) and the hard regimes of the bundled cases:
a correct value is never fail; a wrong sign, or 0 for a nonzero value, is never pass; any
framework's convention at a kink passes; a vanishing value does not fail."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpcheck import matrix
from bpcheck.judge import Cell, judge
from bpcheck.reference.case import load_case
from bpcheck.reference.tolerance import Allowance, verdict

finite = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)
radii = st.floats(0, 1e300, allow_nan=False)


@given(finite, finite, radii, radii)
def test_a_wrong_sign_or_a_zero_is_never_pass(value, exact, radius, derived):
    v = verdict(value, exact, Allowance(radius, derived))
    if exact != 0 and (value == 0 or math.copysign(1, value) != math.copysign(1, exact)):
        assert v != "pass"


@given(finite, radii, st.floats(-1, 1))
def test_a_value_within_its_bound_is_never_fail(exact, radius, where):
    assert verdict(exact + where * radius, exact, Allowance(radius, radius)) != "fail" or not math.isfinite(
        exact + where * radius
    )


def _judged(case_name: str, quantity: str, value: float, dtype: str = "float64"):
    case = load_case(case_name)
    target = next(t for t in matrix.targets(case, False) if t.quantity == quantity)
    key = (target.quantity, target.config)
    exact = matrix.exact_values(case, dtype, False)[key]
    return judge(case, Cell("any", dtype, "cpu"), target, value, exact, matrix.allowances(case, dtype, False)[key])


@pytest.mark.parametrize("convention", [0.0, 0.5, 1.0])  # torch.relu, jnp.maximum, tf.maximum / clamp
def test_every_convention_at_a_relu_kink_passes_and_is_marked(convention):
    record = _judged("relu-kink", "dout_h1/dnet_h1", convention)
    assert record.verdict == "pass" and record.kink
    assert _judged("relu-kink", "dout_h1/dnet_h1", 1.5).verdict == "fail"


def test_a_value_downstream_of_a_kink_passes_under_the_other_convention():
    case = load_case("relu-kink")
    exact = matrix.exact_values(case, "float64", False)
    d_out = float(exact[("dE_total/dout_h1", case.default_config)])
    assert _judged("relu-kink", "delta_h1", d_out * 1.0).verdict == "pass"  # relu'(0) = 1 instead of 0
    assert _judged("relu-kink", "delta_h1", d_out * 2.0).verdict == "fail"


def test_saturated_gradients_are_ill_conditioned_and_a_wrong_sign_never_passes():
    case = load_case("saturated-sigmoid")
    exact = matrix.exact_values(case, "float64", False)
    tiny = [k for k, x in exact.items() if k[0].startswith("dE_total/dw") and 0 < abs(float(x)) < 1e-17]
    assert tiny, "the case should have gradients below float64's resolution"
    for q, _ in tiny:
        x = float(exact[(q, case.default_config)])
        assert _judged("saturated-sigmoid", q, x).verdict in ("pass", "ill-conditioned")
        assert _judged("saturated-sigmoid", q, -x).verdict != "pass"
        assert _judged("saturated-sigmoid", q, 0.0).verdict != "pass"
    assert any(_judged("saturated-sigmoid", q, 0.0).verdict == "ill-conditioned" for q, _ in tiny)


def test_a_vanishing_error_after_training_does_not_fail():
    case = load_case("vanishing-identity")
    target = next(t for t in matrix.targets(case) if t.quantity == "E_total@100")
    key = (target.quantity, target.config)
    for dtype in ("float64", "float32"):
        exact = matrix.exact_values(case, dtype)[key]
        off = float(exact) * (1 + 1e-6)  # what correct backends return: ~1e-26 off, 1e9 ULPs of E_total
        record = judge(case, Cell("any", dtype, "cpu"), target, off, exact, matrix.allowances(case, dtype)[key])
        assert record.verdict in ("pass", "ill-conditioned"), record.describe()
        assert judge(case, Cell("any", dtype, "cpu"), target, 1.0, exact, matrix.allowances(case, dtype)[key]).failed
