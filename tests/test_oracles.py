"""The reference's backprop gradients against two oracles that never run a backward pass."""

from __future__ import annotations

import pytest

from bpcheck.cli import main
from bpcheck.matrix import step_allowances
from bpcheck.reference.case import bundled_cases, load_case
from bpcheck.reference.oracle import exact_step
from bpcheck.reference.oracles import complex_step, disagreements


@pytest.mark.parametrize("name", bundled_cases())
def test_oracles_agree_with_backprop(name):
    case = load_case(name)
    assert (
        disagreements(
            case, exact_step(case, "float64"), {k: a.radius for k, a in step_allowances(case, "float64").items()}
        )
        == []
    )


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
    wrong = dict(exact_step(case, "float64"))
    wrong["dE_total/dw7"] = wrong["dE_total/dw7"] * (1 + 1e-9)
    bad = disagreements(case, wrong, {k: a.radius for k, a in step_allowances(case, "float64").items()})
    assert len(bad) == 2 and all("dE_total/dw7" in line for line in bad)
    assert "finite differences" in bad[0] and "complex step" in bad[1]


def test_oracles_command(capsys):
    assert main(["oracles", "--case", "mazur-2015,deep-mixed"]) == 0
    out = capsys.readouterr().out
    assert "mazur-2015: 10 gradients; finite differences agree; complex step agree" in out
    assert "deep-mixed: 59 gradients; finite differences agree; complex step not applicable: " in out
