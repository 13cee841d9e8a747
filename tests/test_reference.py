"""The reference and its exact oracle: two independent 60-digit libraries agree, the float32
run really is float32, and the per-dtype oracle starts from the dtype's own inputs."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

import numpy as np
import pytest

from bpcheck.reference import arith
from bpcheck.reference.case import Figure, load_case
from bpcheck.reference.oracle import as_decimal_case, exact_step, rounded_parameters
from bpcheck.reference.trace import step_trace, train

CASE = load_case("mazur-2015")


@pytest.mark.parametrize("config", sorted(CASE.configs))
def test_mpmath_and_mpfr_oracles_agree_to_55_digits(config):
    a, b = arith.mpmath_exact(), arith.mpfr_exact()
    ta = step_trace(CASE, CASE.parameters, CASE.configs[config], a)
    tb = step_trace(CASE, CASE.parameters, CASE.configs[config], b)
    for name in ta:
        x, y = a.to_str(ta[name]), b.to_str(tb[name])
        ma = a.parse(x)
        assert abs(ma - a.parse(y)) <= abs(ma) * a.parse("1e-55") or ma == 0, f"{name}: {x} vs {y}"


def test_oracles_agree_over_200_steps():
    a, b = arith.mpmath_exact(), arith.mpfr_exact()
    config = CASE.configs["output-first-with-bias-updates"]
    pa = train(CASE, CASE.parameters, config, 200, a).params
    pb = train(CASE, CASE.parameters, config, 200, b).params
    for name in pa:
        x = pa[name]
        assert abs(x - a.parse(b.to_str(pb[name]))) <= abs(x) * a.parse("1e-50"), name


def test_float32_reference_computes_in_float32():
    values = step_trace(CASE, CASE.parameters, CASE.config, arith.float32())
    assert {type(v) for v in values.values()} == {np.float32}


def test_oracle_starts_from_the_dtypes_inputs():
    """The float32 oracle is exact for float32(0.15), not for 0.15."""
    p32 = rounded_parameters(CASE, "float32")
    assert p32["w1"] == float(np.float32(0.15)) != 0.15
    e32, e64 = exact_step(CASE, "float32")["net_h1"], exact_step(CASE, "float64")["net_h1"]
    assert e32 != e64
    assert abs(float(e32) - 0.3775) < 1e-7 and abs(float(e64) - 0.3775) < 1e-15


def test_trajectory_losses_are_the_errors_before_each_update():
    t = train(CASE, CASE.parameters, CASE.config, 2, arith.FLOAT64)
    first = step_trace(CASE, CASE.parameters, CASE.config, arith.FLOAT64)
    assert t.losses[0] == first["E_total"]
    second = step_trace(CASE, {p: first[f"{p}+"] for p in CASE.parameters}, CASE.config, arith.FLOAT64)
    assert t.losses[1] == second["E_total"]


def test_erratum_is_recorded():
    (erratum,) = CASE.errata
    assert "w_3" in erratum["printed"] and "w_2" in erratum["correct"]


def test_the_misrounded_figures_are_recorded():
    """The single-step figures more than half a unit of their last digit from the exact value
    (from the case's decimals) are exactly those marked not_correctly_rounded."""
    a = arith.exact()
    decimal_case = as_decimal_case(CASE, a)
    step = step_trace(decimal_case, decimal_case.parameters, CASE.config, a)
    off = [f.quantity for f in CASE.published if "@" not in f.quantity and _off_by_more_than_half(f, step)]
    assert off == [f.quantity for f in CASE.published if f.not_correctly_rounded] == ["dE_o2/dout_h1"]


def _off_by_more_than_half(figure: Figure, step: dict[str, Any]) -> bool:
    exact = Decimal(str(step[figure.quantity]))
    with localcontext(prec=100):
        return abs(Decimal(figure.value) - exact) > figure.unit / 2


def test_the_trajectory_bound_is_at_least_four_times_what_correct_code_was_seen_to_do():
    """The measured part of the tolerance policy (reference/tolerance.py), checked rather than stated."""
    from bpcheck.reference.tolerance import TRAJECTORY_OBSERVED, TRAJECTORY_ULPS

    assert TRAJECTORY_ULPS >= 4 * max(TRAJECTORY_OBSERVED)
