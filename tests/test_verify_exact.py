"""How verify judges a hand-written value: against the exact value from the case's decimals (not
their float64 roundings), within half a unit of the last digit written, and "too coarse" when
one unit of that digit is as large as the value itself."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pytest

from bpcheck.cli import main
from bpcheck.reference import arith
from bpcheck.reference.case import Case, load_case
from bpcheck.reference.oracle import as_decimal_case, exact_step
from bpcheck.reference.trace import step_trace
from bpcheck.verify.check import check_written
from bpcheck.verify.values import parse_values
from bpcheck.verify.walk import Walk

MAZUR = load_case("mazur-2015")
#: The post's network; a batch of four; tanh and cross-entropy with drawn weights; a softmax.
CASES = ("mazur-2015", "batch-mean", "xor-h3", "softmax-classifier")


def walk_of(case: Case, text: str) -> Walk:
    return check_written(case, case.config, parse_values(text, case.layout))


def status_of(case: Case, line: str) -> str:
    (c,) = walk_of(case, line).quantities
    return c.status


def exact_from_decimals(case: Case) -> dict[str, Decimal]:
    """Every quantity of one step by the general reference (reference.trace), from the decimals,
    to the oracle's digits (so rounded, 0.3775 is 0.3775, not 0.37749999...97)."""
    a = arith.exact()
    d = as_decimal_case(case, a)
    step = step_trace(d, d.parameters, case.config, a)
    return {q: rounded(Decimal(str(v)), arith.EXACT_DIGITS) for q, v in step.items()}


def sampled(case: Case) -> list[str]:
    """The first, middle and last quantity of each stage."""
    by_stage: dict[str, list[str]] = {}
    for q in case.layout.step_quantities:
        by_stage.setdefault(q.stage, []).append(q.name)
    return sorted({n for names in by_stage.values() for n in (names[0], names[len(names) // 2], names[-1])})


def rounded(x: Decimal, digits: int) -> Decimal:
    """`x` correctly rounded to `digits` significant digits."""
    with localcontext(prec=digits, rounding=ROUND_HALF_EVEN):
        return +x


def test_twenty_digits_of_net_h1_are_ok():
    """0.15 * 0.05 + 0.20 * 0.10 + 0.35 is 0.3775 exactly; from float64(0.05) & co it is not, to 20 digits."""
    line = "net_h1 = 0.37750000000000000000"
    assert status_of(MAZUR, line) == "ok"
    from_floats = Decimal(str(exact_step(MAZUR, "float64")["net_h1"]))
    assert abs(from_floats - Decimal("0.3775")) > Decimal("0.5E-20")


@pytest.mark.parametrize("digits", [3, 9, 20, 40])
@pytest.mark.parametrize("name", CASES)
def test_a_correct_value_is_ok_at_any_number_of_digits(name, digits):
    case = load_case(name)
    exact = exact_from_decimals(case)
    text = "\n".join(f"{q} = {rounded(exact[q], digits)}" for q in sampled(case))
    w = walk_of(case, text)
    assert len(w.quantities) >= 15 and {c.status for c in w.quantities} == {"ok"}


@pytest.mark.parametrize("digits", [3, 9, 20, 40])
@pytest.mark.parametrize("name", CASES)
def test_one_unit_of_the_last_digit_off_is_not_ok(name, digits):
    """The correctly rounded value moved one unit towards the exact value (then less than a unit
    from it, but more than half: a full-unit rule would pass it) and one unit away: neither is ok."""
    case = load_case(name)
    exact = exact_from_decimals(case)
    lines = []
    with localcontext(prec=2 * arith.EXACT_DIGITS):
        for q in sampled(case):
            r = rounded(exact[q], digits)
            unit = Decimal(1).scaleb(r.as_tuple().exponent)  # type: ignore[arg-type]
            if abs(r - exact[q]) * 2 == unit:
                continue  # a tie (0.3775 to 3 digits) has two correct roundings
            towards = unit if r < exact[q] else -unit
            lines.append((f"{q} = {r + towards}", f"{q} = {r - towards}"))
    assert len(lines) >= 15
    for side in (0, 1):
        w = walk_of(case, "\n".join(pair[side] for pair in lines))
        assert {c.status for c in w.quantities} <= {"wrong", "carried"}, [(c.quantity, c.status) for c in w.quantities]


@pytest.mark.parametrize(
    "name, line, status",
    [
        ("mazur-2015", "out_h1 = 1e5", "wrong"),  # 0.593: nothing like 1E+5
        ("mazur-2015", "E_total = 1", "wrong"),  # 0.298 rounds to 0 at one unit, not to 1
        ("mazur-2015", "dE_total/dw5 = 0", "too-coarse"),  # 0.0822 does round to 0 ...
        ("mazur-2015", "dE_total/dw5 = 0.1", "too-coarse"),  # ... and to 0.1, saying nothing either way
        ("mazur-2015", "w5+ = 0", "too-coarse"),
        ("mazur-2015", "E_total = 0.3", "ok"),  # a tenth is below 0.298
        ("mazur-2015", "dnet_h1/dw2 = 0.1", "ok"),  # exactly i2: exact at any precision
        ("batch-mean", "E_total = 0", "too-coarse"),
        ("xor-h3", "E_total = 0.7", "ok"),
        ("xor-h3", "E_total = 1", "too-coarse"),  # 0.747 rounds to 1 at one unit
    ],
)
def test_coarse_and_absurd_values_are_refused(name, line, status):
    assert status_of(load_case(name), line) == status


def test_too_coarse_is_listed_and_fails_but_is_not_wrong(tmp_path, capsys):
    path = tmp_path / "coarse.values"
    path.write_text("net_h1 = 0.3775\ndE_total/dw5 = 0\n")
    code = main(["verify", str(path), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["first_wrong"] is None and doc["independent"] == []
    assert doc["too_coarse"] == ["dE_total/dw5"] and doc["summary"]["too-coarse"] == 1
    assert main(["verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert "1 ok, 0 wrong, 0 carried, 1 too coarse" in out and "too coarse to verify: dE_total/dw5" in out


def test_carried_allows_half_a_unit_of_each_given_input():
    """dE_total/dout_h1 from the given dE_o1/dout_h1 and a wrong dE_o2/dout_h1: their sum, or
    within half a unit of each (1.5E-9 in all), is carried; two units off is wrong."""
    given = "dE_o1/dout_h1 = 0.055399425\ndE_o2/dout_h1 = -0.017144288\n"
    for total, status in (("0.038255137", "carried"), ("0.038255138", "carried"), ("0.038255139", "wrong")):
        w = walk_of(MAZUR, given + f"dE_total/dout_h1 = {total}")
        assert next(c.status for c in w.quantities if c.quantity == "dE_total/dout_h1") == status, total
