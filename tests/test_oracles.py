"""The reference's backprop gradients against two oracles that never run a backward pass, and the
oracles' own error model: no false alarm on a correct backprop, no false comfort on a wrong one."""

from __future__ import annotations

import json
import math

import pytest

from bpcheck.cli import main
from bpcheck.matrix import step_conditions
from bpcheck.reference import arith, oracles
from bpcheck.reference.case import PLAIN, Case, bundled_cases, load_case, parse_case
from bpcheck.reference.oracle import exact_step
from bpcheck.reference.oracles import (
    AGREE,
    AT_A_KINK,
    CS_AGREEMENT,
    DISAGREE,
    FD_TARGET,
    INCONCLUSIVE,
    NOT_APPLICABLE,
    check,
    complex_step,
    disagreements,
    judge_complex_step,
    judge_finite_difference,
    kinked_parameters,
    kinks,
)

PLAIN_RULE = """
[training]
learning_rate = "0.5"
default_config = "plain"

[configs.plain]
doc = "Gradient descent from the current weights."
update_order = "simultaneous"
update_biases = false
"""

#: 2-3-2 sigmoid, half-SSE, every pre-activation near +-40: out_o1 = 1 - 1.5e-18 against a target
#: of 1 and out_o2 = 4e-18 against 0, so the gradients are 1e-35 .. 1e-68 beside an E of 1e-35.
#: float64 rounds out_o1 to 1 and t - out_o1 to 0.
SATURATED = (
    """
name = "saturated-2-3-2"
title = "A saturated sigmoid network"
question = "Do the oracles hold where every sigmoid saturates?"

[network]
layer_sizes = [2, 3, 2]
activation = "sigmoid"
loss = "half-sse"
bias = "shared-per-layer"

[data]
inputs = ["1", "1"]
targets = ["1", "0"]

[parameters]
w1 = "20"
w2 = "20"
w3 = "-20"
w4 = "-20"
w5 = "20"
w6 = "20"
w7 = "20"
w8 = "5"
w9 = "20"
w10 = "-20"
w11 = "5"
w12 = "-20"
b1 = "0"
b2 = "0"
"""
    + PLAIN_RULE
)

#: 2-2-1, relu hidden layer: net_h1 = 0.5 * 1 - 0.5 * 1 is exactly 0, a kink; net_h2 = 0.75.
RELU_AT_KINK = (
    """
name = "relu-at-kink"
title = "A relu pre-activation exactly at its kink"
question = "What do the oracles say where relu has no derivative?"

[network]
layer_sizes = [2, 2, 1]
activations = ["relu", "identity"]
loss = "half-sse"
bias = "none"

[data]
inputs = ["1", "1"]
targets = ["1"]

[parameters]
w1 = "0.5"
w2 = "-0.5"
w3 = "0.25"
w4 = "0.5"
w5 = "0.5"
w6 = "-1"
"""
    + PLAIN_RULE
)


def backprop(case: Case) -> dict:
    return exact_step(case, "float64", PLAIN)


def verdicts(checks: list, oracle: str) -> dict[str, str]:
    return {c.quantity: getattr(c, oracle).verdict for c in checks}


@pytest.mark.parametrize("name", bundled_cases())
def test_oracles_agree_with_backprop(name):
    case = load_case(name)
    checks = check(case, backprop(case), step_conditions(case))
    kinked = oracles.kinked_parameters(case)
    assert all(
        c.finite_differences.verdict == (AT_A_KINK if c.quantity[len("dE_total/d") :] in kinked else AGREE)
        for c in checks
    )
    # the complex step may be unable to resolve a gradient (cancelling-gradient), never disagree
    assert {c.complex_step.verdict for c in checks} <= {AGREE, NOT_APPLICABLE, INCONCLUSIVE}


@pytest.mark.parametrize(
    ("name", "applies"), [("mazur-2015", True), ("xor-h3", True), ("deep-mixed", False), ("softmax-classifier", False)]
)
def test_complex_step_is_not_applicable_through_relu(name, applies):
    result = complex_step(load_case(name), load_case(name).parameters)
    assert (result.not_applicable is None) == applies
    if not applies:
        assert "relu" in result.not_applicable and "not analytic" in result.not_applicable and not result.gradients


def test_a_wrong_backprop_gradient_is_reported():
    case = load_case("mazur-2015")
    wrong = dict(backprop(case))
    wrong["dE_total/dw7"] = wrong["dE_total/dw7"] * (1 + 1e-9)
    bad = disagreements(case, wrong, step_conditions(case))
    assert len(bad) == 2 and all("dE_total/dw7" in line for line in bad)
    assert "finite differences" in bad[0] and "complex step" in bad[1]
    [c] = [c for c in check(case, wrong, step_conditions(case)) if c.quantity == "dE_total/dw7"]
    assert c.finite_differences.distance == pytest.approx(1e-9, rel=1e-6)
    assert c.complex_step.distance == pytest.approx(1e-9, rel=1e-3)


def test_finite_differences_resolve_a_saturated_network():
    """Gradients of 1e-35 .. 1e-68: the step and precision follow, so the oracle's own error
    stays under FD_TARGET of each gradient and a correct backprop gets no false alarm."""
    case = parse_case(SATURATED)
    exact = backprop(case)
    checks = check(case, exact, step_conditions(case))
    assert min(abs(float(exact[c.quantity])) for c in checks) < 1e-60
    assert verdicts(checks, "finite_differences") == {c.quantity: AGREE for c in checks}
    for c in checks:
        assert c.finite_differences.error <= FD_TARGET * abs(c.backprop)


def test_the_complex_step_never_agrees_when_it_is_off():
    """float64 saturates here, and the complex step is off by 50% .. 10^16 on most gradients
    (its old bound, scaled by rho, called 50% off 'agree'). It is inconclusive there, never agree."""
    case = parse_case(SATURATED)
    checks = check(case, backprop(case), step_conditions(case))
    assert not [c.quantity for c in checks if c.complex_step.verdict == DISAGREE]
    for c in checks:
        assert (c.complex_step.verdict == AGREE) == (c.complex_step.distance <= CS_AGREEMENT)
    off = [c for c in checks if c.complex_step.distance > 0.4]
    assert len(off) >= 8 and {c.complex_step.verdict for c in off} == {INCONCLUSIVE}
    assert all("float64 saturates" in c.complex_step.why for c in off)


@pytest.mark.parametrize("gradient", ["dE_total/dw1", "dE_total/dw7", "dE_total/dw10"])
def test_a_tiny_gradient_of_the_wrong_sign_is_caught(gradient):
    """dw1 (3e-51): the complex step is 50% off and rho ~1e17, so the old rule passed the wrong
    sign; dw7 (1.8e-35): the complex step is 0; dw10: the complex step itself is right."""
    case = parse_case(SATURATED)
    wrong = dict(backprop(case))
    wrong[gradient] = -wrong[gradient]
    [c] = [c for c in check(case, wrong, step_conditions(case)) if c.quantity == gradient]
    assert c.finite_differences.verdict == DISAGREE
    assert c.complex_step.verdict != AGREE
    assert any(gradient in line for line in disagreements(case, wrong, step_conditions(case)))


def test_a_relu_at_its_kink_says_so():
    case = parse_case(RELU_AT_KINK)
    assert [k.quantity for k in kinks(case)] == ["net_h1"]
    assert kinked_parameters(case) == {"w1": "net_h1", "w2": "net_h1"}
    checks = check(case, backprop(case), step_conditions(case))
    assert verdicts(checks, "finite_differences") == {
        "dE_total/dw1": AT_A_KINK,
        "dE_total/dw2": AT_A_KINK,
        "dE_total/dw3": AGREE,
        "dE_total/dw4": AGREE,
        "dE_total/dw5": AGREE,
        "dE_total/dw6": AGREE,
    }
    straddled = checks[0].finite_differences
    assert "net_h1" in straddled.why and float(straddled.value) == pytest.approx(-0.4375)  # half of one side's
    assert {c.complex_step.verdict for c in checks} == {NOT_APPLICABLE}
    assert disagreements(case, backprop(case), step_conditions(case)) == []


def test_no_kink_off_the_kink():
    case = parse_case(RELU_AT_KINK.replace('w2 = "-0.5"', 'w2 = "-0.25"'))
    assert kinks(case) == [] and kinked_parameters(case) == {}
    assert {c.finite_differences.verdict for c in check(case, backprop(case))} == {AGREE}


def test_finite_differences_refine_a_poor_start(monkeypatch):
    """From h = 2^-8 at 30 digits (errors ~1e-7), the step and precision are refined until the
    error estimate is under FD_TARGET, and the estimate covers the true error."""
    monkeypatch.setattr(oracles, "FD_STEP_BITS", 8)
    monkeypatch.setattr(oracles, "FD_START_DIGITS", 30)
    case = load_case("mazur-2015")
    exact = backprop(case)
    rounding: dict[int, str] = {}
    for p in ("w1", "w5", "b2"):
        e = oracles.finite_difference(case, case.parameters, p, rounding)
        g = exact[f"dE_total/d{p}"]
        assert e.step_bits > 8 and e.digits > 30
        assert abs(e.value - g) <= e.error <= FD_TARGET * abs(g)


@pytest.mark.parametrize(
    ("off", "error", "rho", "kink", "verdict"),
    [
        ("1e-30", "1e-25", 1.0, "", AGREE),
        ("1e-9", "1e-25", 1.0, "", DISAGREE),
        ("1e-9", "1e-25", 1.0, "net_h1", AT_A_KINK),
        ("1e-30", "1e-10", 1.0, "", INCONCLUSIVE),  # its own error too large to vouch for agreement
        ("1e-30", "1e-35", 1e15, "", AGREE),  # the backprop's 60-digit rounding, amplified by rho
        ("1e-30", "1e-35", 1.0, "", DISAGREE),
    ],
)
def test_finite_difference_verdicts(off, error, rho, kink, verdict):
    """A gradient of 1, finite differences `off` from it with their own `error`."""
    a = arith.exact()
    with a.context():
        one = a.num(1.0)
        assert judge_finite_difference(one + a.parse(off), a.parse(error), one, rho, kink).verdict == verdict


@pytest.mark.parametrize(
    ("value", "exact", "rho", "unresolved", "verdict"),
    [
        (1.0 + 2**-45, 1.0, 1.0, "", AGREE),
        (1.0 + 2**-45, 1.0, 1e30, "", AGREE),
        (-0.08, 1.0, 1.0, "", DISAGREE),  # 108% off, the wrong sign
        (-0.08, 1.0, 1e30, "", INCONCLUSIVE),  # ... where cancellation could explain it: never agree
        (-0.08, 1.0, 1.0, "float64 saturates", INCONCLUSIVE),
        (1.0 + 1e-9, 1.0, 100.0, "", DISAGREE),  # rho 100 explains 1e-10, not 1e-9
        (0.0, 1e-260, 1.0, "", INCONCLUSIVE),  # below what complex128's imaginary parts hold
        (math.nan, 1.0, 1.0, "", INCONCLUSIVE),
    ],
)
def test_complex_step_verdicts(value, exact, rho, unresolved, verdict):
    assert judge_complex_step(value, exact, rho, unresolved).verdict == verdict


def test_oracles_command(capsys):
    assert main(["oracles", "--case", "mazur-2015,deep-mixed"]) == 0
    out = capsys.readouterr().out
    assert "mazur-2015: 10 gradients; finite differences agree (largest distance " in out
    assert "; complex step agree (largest distance " in out
    assert "deep-mixed: 59 gradients; finite differences agree (largest distance " in out
    assert "; complex step not applicable: leaky_relu and relu are not analytic" in out
    assert len(out.splitlines()) == 2  # nothing to explain


def test_oracles_command_explains_what_does_not_agree(tmp_path, capsys):
    (tmp_path / "saturated.toml").write_text(SATURATED)
    (tmp_path / "kink.toml").write_text(RELU_AT_KINK)
    assert main(["oracles", "--case", f"{tmp_path / 'saturated.toml'},{tmp_path / 'kink.toml'}"]) == 0
    out = capsys.readouterr().out
    assert "saturated-2-3-2: 14 gradients; finite differences agree (largest distance " in out
    assert "; complex step inconclusive on 11, agree on 3" in out
    assert (
        "relu-at-kink: 6 gradients; finite differences at a kink on 2, agree on 4; complex step not applicable" in out
    )
    assert "  dE_total/dw7: backprop -1.80485138784541" in out
    assert "    complex step 0.0, distance 1: inconclusive (float64 saturates or cancels: E_o1 is 0.0" in out
    assert (
        "    finite differences -0.4375, distance inf, own error " in out and ": at a kink (net_h1 is exactly 0" in out
    )


def test_oracles_command_json(tmp_path, capsys):
    (tmp_path / "kink.toml").write_text(RELU_AT_KINK)
    assert main(["oracles", "--json", "--case", f"mazur-2015,{tmp_path / 'kink.toml'}"]) == 0
    doc = json.loads(capsys.readouterr().out)
    mazur, kink = doc["cases"]
    assert mazur["case"] == "mazur-2015" and len(mazur["gradients"]) == 10
    w5 = next(g for g in mazur["gradients"] if g["quantity"] == "dE_total/dw5")
    assert w5["backprop"] == pytest.approx(0.082167041, rel=1e-8)  # the post prints 0.082167041
    assert w5["finite_differences"]["verdict"] == AGREE and w5["finite_differences"]["distance"] < 1e-50
    assert 0 < w5["finite_differences"]["error"] < 1e-20
    assert w5["complex_step"]["verdict"] == AGREE and w5["complex_step"]["distance"] <= CS_AGREEMENT
    w1 = kink["gradients"][0]
    assert w1["finite_differences"] | {"error": None} == {
        "value": -0.4375,
        "distance": None,  # backprop is 0 there: no relative distance
        "verdict": AT_A_KINK,
        "why": w1["finite_differences"]["why"],
        "error": None,
    }
    assert w1["complex_step"]["value"] is None and w1["complex_step"]["verdict"] == NOT_APPLICABLE


def test_oracles_command_fails_on_a_disagreement(monkeypatch, capsys):
    from bpcheck.commands import oracles as command

    real = command.exact_step

    def wrong(case, dtype, config):
        values = dict(real(case, dtype, config))
        values["dE_total/dw7"] *= 1 + 1e-9
        return values

    monkeypatch.setattr(command, "exact_step", wrong)
    assert main(["oracles", "--case", "mazur-2015", "--verbose"]) == 1
    out = capsys.readouterr().out
    assert "finite differences DISAGREE on 1, agree on 9; complex step DISAGREE on 1, agree on 9" in out
    assert len([line for line in out.splitlines() if line.startswith("    ")]) == 20  # --verbose: every one
