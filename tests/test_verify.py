"""bpcheck verify on written values: the formula table is the reference's step, correct files
get no diagnosis, and each catalogued mistake is found from the numbers it computes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bpcheck.reference import arith
from bpcheck.reference.case import Case, Config, load_case
from bpcheck.reference.trace import step_trace
from bpcheck.verify import formulas as F
from bpcheck.verify.check import applicable, check_written
from bpcheck.verify.mistakes import CATALOGUE, correct_step, run
from bpcheck.verify.values import parse_values

ROOT = Path(__file__).resolve().parents[1]
MAZUR = load_case("mazur-2015")


def as_written(values: dict, digits: int = 9) -> str:
    """Values as a person writes them: `digits` significant digits."""
    return "\n".join(f"{q} = {format(Decimal(str(v)), f'.{digits}g')}" for q, v in values.items())


def walk_of(case: Case, config: Config, text: str):
    return check_written(case, config, parse_values(text, case.layout))


@pytest.mark.parametrize("config", list(MAZUR.configs))
def test_formula_table_is_the_reference_step(config):
    """The walk's table, evaluated, is reference.trace.step_trace bit for bit (float64)."""
    cfg = MAZUR.configs[config]
    table = F.evaluate(F.table(MAZUR, cfg, arith.FLOAT64), F.leaves(MAZUR, MAZUR.parameters, arith.FLOAT64))
    expected = step_trace(MAZUR, MAZUR.parameters, cfg, arith.FLOAT64)
    assert {q: table[q] for q in expected} == expected


def test_the_posts_figures_are_ok_but_the_one_it_prints_misrounded():
    """Every single-step figure the post prints is the exact value correctly rounded, except the
    ones the case marks not_correctly_rounded (one): that one is wrong, explained by nothing,
    and noted. The marking is checked here, not taken on trust."""
    figures = [f for f in MAZUR.published if "@" not in f.quantity]
    text = "\n".join(f"{f.quantity} = {f.value}" for f in figures)
    w = walk_of(MAZUR, MAZUR.config, text)
    misrounded = [f.quantity for f in figures if f.not_correctly_rounded]
    assert misrounded == ["dE_o2/dout_h1"] and w.counts()["checked"] == 29
    assert [c.quantity for c in w.quantities if c.status != "ok"] == misrounded
    assert w.first_wrong == "dE_o2/dout_h1" and w.diagnosis == []
    assert any(n.startswith("dE_o2/dout_h1 = -0.019049119 is the source's printed figure") for n in w.notes)
    assert (ROOT / "examples/values/mazur-2015-post.values").read_text().endswith(text + "\n")


@pytest.mark.parametrize("config", list(MAZUR.configs))
def test_the_exact_step_rounded_gets_no_diagnosis(config):
    cfg = MAZUR.configs[config]
    w = walk_of(MAZUR, cfg, as_written(step_trace(MAZUR, MAZUR.parameters, cfg, arith.exact())))
    assert w.counts()["ok"] == len(MAZUR.layout.step_quantities)
    assert w.diagnosis == [] and not w.failed


def cases_and_mistakes() -> list:
    """Every catalogued mistake on a case and rule where it can be made."""
    out = []
    for name, config in (("mazur-2015", None), ("mazur-2015", "with-bias-updates"), ("mazur-2015", "output-first")):
        case = load_case(name)
        usable, _ = applicable(case, case.configs[config or case.default_config])
        out += [pytest.param(name, config, m.id, id=f"{name}-{config or 'default'}-{m.id}") for m in usable]
    out += [
        pytest.param("batch-mean", None, "batch-sum-for-mean"),
        pytest.param("batch-sum", None, "batch-mean-for-sum"),
    ]
    return out


@pytest.mark.parametrize("case_name, config, mistake", cases_and_mistakes())
def test_each_mistake_is_diagnosed_from_its_own_numbers(case_name, config, mistake):
    """The mistake's step, written to 9 significant digits: the first wrong value is one the
    mistake changed (not always the first in the post's order: under output-first,
    dnet_o2/dout_h1 is w7+ and follows from it), and the mistake explains it."""
    case = load_case(case_name)
    cfg = case.configs[config or case.default_config]
    m = next(m for m in CATALOGUE if m.id == mistake)
    values = run(m, case, case.parameters, cfg, arith.exact())
    w = walk_of(case, cfg, as_written(values))
    exact = correct_step(case, case.parameters, cfg, arith.exact())
    nine = lambda v: format(Decimal(str(v)), ".9g")  # noqa: E731
    changed = [q for q in values if nine(values[q]) != nine(exact[q])]
    assert w.first_wrong in changed
    first = next(c for c in w.quantities if c.quantity == w.first_wrong)
    assert first.status == "wrong" and mistake in first.explained_by
    assert any(d["mistake"] == mistake and d["explains_first_wrong"] for d in w.diagnosis)
    assert all(c.status == "ok" for c in w.quantities if c.quantity not in changed)


def test_taner_unals_value_is_not_explained_at_his_precision():
    """He wrote -0.017144288; delta_o2 * w6 is -0.0171442064: the w6-for-w7 slip agrees only
    to 1E-7, not to the 1E-9 he wrote, so it is the nearest mistake, not an explanation."""
    text = (ROOT / "examples/values/taner-unal.values").read_text()
    w = walk_of(MAZUR, MAZUR.config, text)
    assert w.first_wrong == "dE_o2/dout_h1" and w.diagnosis == []
    c = next(c for c in w.quantities if c.quantity == "dE_o2/dout_h1")
    assert c.status == "wrong" and c.explained_by == []
    assert set(c.nearest) == {"w6-for-w7", "transposed-output-weights"} and c.nearest_matches_at == "1E-7"


def test_a_value_following_from_an_earlier_wrong_one_is_carried():
    """Taner's value carried on by hand: dE_total/dout_h1 = 0.055399425 + -0.017144288."""
    text = (ROOT / "examples/values/taner-unal.values").read_text() + "dE_total/dout_h1 = 0.038255137\n"
    w = walk_of(MAZUR, MAZUR.config, text)
    c = next(c for c in w.quantities if c.quantity == "dE_total/dout_h1")
    assert c.status == "carried" and w.first_wrong == "dE_o2/dout_h1"


def test_precision_is_the_one_written():
    """0.4 claims a tenth, 0.40 a hundredth: both are w5 = 0.4; 0.41 is a hundredth off, more than
    the half a hundredth a correctly rounded 0.40 can be. dE_o1/dout_h1 is 0.05539942465."""
    for text, ok in (
        ("0.4", True),
        ("0.40", True),
        ("0.41", False),
        ("0.0554", True),
        ("0.05540", True),
        ("0.05539", False),
        ("0.0552", False),
    ):
        q = "dnet_o1/dout_h1" if text.startswith("0.4") else "dE_o1/dout_h1"
        assert walk_of(MAZUR, MAZUR.config, f"{q} = {text}").failed is not ok, text
