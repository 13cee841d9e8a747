"""Hand-worked examples of any network (issue 15): values rounded as they go are carried, not
wrong; the first true mistake is named and what follows from it is carried from it; delta =
-dE/dnet with the update w + eta * delta * x is a convention, not a mistake; a source's printed
figures that follow from its own earlier figures are reproduced-from-printed.

The values checked here are worked out in this file, by a person's arithmetic (mpmath sigmoid,
decimals rounded as written, each from the rounded ones before it), not taken from the tool:
on the 2-2-1 and 3-2-2 hand-worked cases (no biases) and the post's 2-2-2 network."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import mpmath
import pytest

from bpcheck.cli import main
from bpcheck.judge import FAILING, Cell, judge
from bpcheck.matrix import allowances, exact_values, targets
from bpcheck.reference import arith
from bpcheck.reference.case import Case, bundled_cases, load_case
from bpcheck.reference.trace import step_trace
from bpcheck.reporting import diff, model
from bpcheck.reporting.results import records
from bpcheck.table import render
from bpcheck.verify import formulas as F
from bpcheck.verify.check import check_written
from bpcheck.verify.mistakes import correct_step
from bpcheck.verify.values import parse_values

ROOT = Path(__file__).resolve().parents[1]
mpmath.mp.dps = 50
HAND = ("hand-2-2-1", "hand-3-2-2")


# --- a person working a one-hidden-layer sigmoid network without biases by hand ---------------


def rounded(x: object, places: int) -> str:
    """x rounded to `places` decimals, as written."""
    d = Decimal(mpmath.nstr(mpmath.mpf(x), 45, strip_zeros=False))
    return str(d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def by_hand(case: Case, sign: int = 1, places: int = 4, slip: dict | None = None) -> tuple[dict[str, str], set[str]]:
    """Every value of one step as a person writes it: each to `places` decimals, computed from
    the rounded values before it. sign -1: delta = (target - out) out (1 - out) and the update
    w + eta * delta * x. `slip`: {quantity: function of the correct value, or "net": the hidden
    derivative taken from net}. Returns the values and the names computed from a slipped one."""
    slip = slip or {}
    lay, d = case.layout, case.decimals
    m = lambda s: mpmath.mpf(str(s))  # noqa: E731
    w = {p: m(v) for p, v in d.parameters.items()}
    x = {i: m(v) for i, v in zip(lay.inputs, d.inputs[0])}
    t = {o: m(v) for o, v in zip(lay.outputs, d.targets[0])}
    eta = m(d.learning_rate)
    out: dict[str, str] = {}
    tainted: set[str] = set()

    def write(name: str, value: object, deps: list[str]) -> mpmath.mpf:
        if name in slip and callable(slip[name]):
            value = slip[name](value)
            tainted.add(name)
        if any(dep in tainted for dep in deps):
            tainted.add(name)
        out[name] = rounded(value, places)
        return m(out[name])

    sig = lambda z: 1 / (1 + mpmath.exp(-z))  # noqa: E731
    val = {**x}
    for layer in (0, 1):
        below = lay.inputs if layer == 0 else [f"out_{h}" for h in lay.hidden]
        for row, n in zip(lay.w[layer], lay.labels[layer + 1]):
            net = sum(w[p] * val[b] for p, b in zip(row, below))
            val[f"net_{n}"] = write(f"net_{n}", net, below)
            val[f"out_{n}"] = write(f"out_{n}", sig(val[f"net_{n}"]), [f"net_{n}"])
    for o in lay.outputs:
        y = val[f"out_{o}"]
        val[f"E_{o}"] = write(f"E_{o}", (t[o] - y) ** 2 / 2, [f"out_{o}"])
        val[f"delta_{o}"] = write(f"delta_{o}", sign * (y - t[o]) * y * (1 - y), [f"out_{o}"])
    val["E_total"] = write("E_total", sum(val[f"E_{o}"] for o in lay.outputs), [f"E_{o}" for o in lay.outputs])
    for j, h in enumerate(lay.hidden):
        y = val[f"net_{h}"] if slip.get(f"delta_{h}") == "net" else val[f"out_{h}"]
        s = sum(val[f"delta_{o}"] * w[row[j]] for o, row in zip(lay.outputs, lay.w[1]))
        deps = [f"out_{h}", *(f"delta_{o}" for o in lay.outputs)]
        val[f"delta_{h}"] = write(f"delta_{h}", s * y * (1 - y), deps)
        if slip.get(f"delta_{h}") == "net":
            tainted.add(f"delta_{h}")
    for layer, below in ((1, [f"out_{h}" for h in lay.hidden]), (0, lay.inputs)):
        for row, n in zip(lay.w[layer], lay.labels[layer + 1]):
            for p, b in zip(row, below):
                write(f"{p}+", w[p] - sign * eta * val[f"delta_{n}"] * val[b], [f"delta_{n}", b])
    return out, tainted


def walk_of(case: Case, values: dict[str, str], config: str | None = None):
    text = "\n".join(f"{q} = {v}" for q, v in values.items())
    return check_written(case, case.configs[config or case.default_config], parse_values(text, case.layout))


def statuses(w) -> dict[str, str]:
    return {c.quantity: c.status for c in w.quantities}


# --- the formulas, derived from any case ----------------------------------------------------


@pytest.mark.parametrize("name", bundled_cases())
def test_the_formula_table_is_the_reference_step_on_every_case(name):
    """One table, derived from the case's network, is the reference's step bit for bit (float64),
    under every rule of the case, whatever the shape."""
    case = load_case(name)
    for config in case.configs.values():
        table = F.evaluate(F.table(case, config, arith.FLOAT64), F.leaves(case, case.parameters, arith.FLOAT64))
        expected = step_trace(case, case.parameters, config, arith.FLOAT64)
        assert {q: table[q] for q in expected} == expected, config.name


@pytest.mark.parametrize("name", ["mazur-2015", "hand-2-2-1", "hand-3-2-2", "deep-mixed", "softmax-classifier"])
def test_the_other_sign_convention_negates_the_deltas_and_nothing_else(name):
    case = load_case(name)
    a = arith.exact()
    plain = correct_step(case, case.parameters, case.config, a)
    other = correct_step(case, case.parameters, case.config, a, sign=-1)
    with a.context():
        for q in plain:
            assert other[q] == (-plain[q] if q.startswith("delta_") else plain[q]), q


@pytest.mark.parametrize("name", bundled_cases())
def test_every_case_is_walked_with_its_mistakes(name):
    """On every bundled shape: the exact step, rounded to 12 digits, is all ok; one output made
    wrong is the first wrong value, and the error computed from it is carried from it."""
    case = load_case(name)
    exact = correct_step(*_decimal_case(case), case.config, arith.exact())
    out = next(q.name for q in case.layout.step_quantities if q.name.startswith("out_o"))
    err = next(q.name for q in case.layout.step_quantities if q.name.startswith("E_o"))
    values = {q: format(Decimal(str(exact[q])), ".12g") for q in (out, err, "E_total")}
    assert not walk_of(case, values).failed
    wrong = {**values, out: str(Decimal(values[out]) + Decimal("0.125"))}
    w = walk_of(case, wrong)
    assert w.first_wrong == out and statuses(w)[err] in ("carried", "ok")


def _decimal_case(case: Case) -> tuple[Case, dict]:
    from bpcheck.reference.oracle import as_decimal_case

    d = as_decimal_case(case, arith.exact())
    return d, d.parameters


# --- carried rounding, the first true mistake, what follows from it -----------------------------


@pytest.mark.parametrize("name", HAND + ("mazur-2015",))
def test_values_rounded_as_they_go_are_never_wrong(name):
    """Every value worked from the rounded ones before it is ok or only rounding: not a failure,
    at any precision; and where the rounding shows, it is said, with the values it follows from."""
    case = load_case(name)
    said = []
    for places in (2, 3, 4, 5):
        values = by_hand(case, places=places)[0] if name != "mazur-2015" else _post_rounded(places)
        w = walk_of(case, values)
        got = statuses(w)
        assert set(got.values()) <= {"ok", "rounding", "too-coarse"}, (places, got)
        assert w.first_wrong is None and not w.failed or "too-coarse" in got.values()
        rounding = [c for c in w.quantities if c.status == "rounding"]
        assert all(c.from_values and set(c.from_values) <= set(values) for c in rounding)
        said += rounding
    assert said, "rounding as it goes must show somewhere"


def _post_rounded(places: int) -> dict[str, str]:
    """The post's forward pass and output layer, by hand, rounded as it goes."""
    m, r = mpmath.mpf, rounded
    sig = lambda z: 1 / (1 + mpmath.exp(-z))  # noqa: E731
    v = {"out_h1": r(sig(m("0.3775")), places), "out_h2": r(sig(m("0.3925")), places)}
    v["net_o1"] = r(m("0.4") * m(v["out_h1"]) + m("0.45") * m(v["out_h2"]) + m("0.6"), places)
    v["out_o1"] = r(sig(m(v["net_o1"])), places)
    v["delta_o1"] = r((m(v["out_o1"]) - m("0.01")) * m(v["out_o1"]) * (1 - m(v["out_o1"])), places)
    v["w5+"] = r(m("0.4") - m("0.5") * m(v["delta_o1"]) * m(v["out_h1"]), places)
    return v


def test_net_o1_from_the_posts_rounded_outputs_is_rounding_and_said():
    """The issue's example: 0.4 * 0.5933 + 0.45 * 0.5969 + 0.6 = 1.105925 exactly."""
    w = walk_of(load_case("mazur-2015"), {"out_h1": "0.5933", "out_h2": "0.5969", "net_o1": "1.105925"})
    c = w.get("net_o1")
    assert c is not None and c.status == "rounding" and c.from_values == ["out_h1", "out_h2"] and not w.failed
    # what 0.5933 and 0.5969 can stand for (each within half a unit) gives 1.105925 +- 4.25E-5, no further
    for net, status in (
        ("1.105967", "rounding"),
        ("1.105882", "rounding"),
        ("1.105975", "wrong"),
        ("1.107925", "wrong"),
    ):
        w = walk_of(load_case("mazur-2015"), {"out_h1": "0.5933", "out_h2": "0.5969", "net_o1": net})
        assert statuses(w)["net_o1"] == status, net


@pytest.mark.parametrize(
    "name, places, slip, first",
    [
        ("hand-2-2-1", 4, {"out_o1": lambda v: v + mpmath.mpf("0.01")}, "out_o1"),
        ("hand-2-2-1", 5, {"delta_h1": "net", "delta_h2": "net"}, "delta_h1"),
        ("hand-3-2-2", 3, {"out_o2": lambda v: 1 - v}, "out_o2"),
        ("hand-3-2-2", 4, {"delta_o1": lambda v: v * 2}, "delta_o1"),
    ],
)
@pytest.mark.parametrize("sign", [1, -1])
def test_the_first_true_mistake_is_named_and_what_follows_from_it_is_carried(name, places, slip, first, sign):
    """A slip at one value (or the same slip at two): the first is the first wrong value; every
    value worked from a slipped one is carried from it (or, by chance, right); nothing else is
    wrong or carried; and the rest is ok or only rounding. Under either sign convention."""
    case = load_case(name)
    values, tainted = by_hand(case, sign, places, slip)
    w = walk_of(case, values)
    got = statuses(w)
    assert w.first_wrong == first, got
    for q, status in got.items():
        if q in tainted and q != first and q not in slip:
            assert status in ("carried", "ok"), (q, status)
            if status == "carried":  # from the slipped values (here and there, two alike)
                assert set(w.get(q).carried_from) <= set(slip) and w.get(q).carried_from, q  # type: ignore[union-attr]
        elif q not in tainted:
            assert status in ("ok", "rounding"), (q, status)
    assert sum(s == "carried" for s in got.values()) >= 3
    assert (w.convention == "delta-sign-convention") == (sign == -1)


def test_a_hidden_derivative_from_net_is_named_from_the_students_own_rounded_values():
    """The slip is made on rounded values, so its exact value matches only to their precision:
    the catalogue's mistake is found from the person's own values."""
    case = load_case("hand-2-2-1")
    values, _ = by_hand(case, -1, 5, {"delta_h1": "net", "delta_h2": "net"})
    w = walk_of(case, values)
    assert "derivative-from-net" in w.get("delta_h1").explained_by  # type: ignore[union-attr]
    assert any(d["mistake"] == "derivative-from-net" and d["explains_first_wrong"] for d in w.diagnosis)


def test_three_factor_form_from_a_wrong_piece_is_carried_even_with_delta_given():
    """Issue 13: dE_total/dw5 = dE_total/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5 from a wrong
    dout_o1/dnet_o1, delta_o1 given right: carried, not wrong; so is w5+ from it."""
    wrong_piece = Decimal("0.1886")
    three = Decimal("0.74136507") * wrong_piece * Decimal("0.593269992")
    values = {
        "out_h1": "0.593269992",
        "dE_total/dout_o1": "0.74136507",
        "dout_o1/dnet_o1": str(wrong_piece),
        "delta_o1": "0.138498562",
        "dE_total/dw5": str(round(three, 7)),
        "w5+": str(round(Decimal("0.4") - Decimal("0.5") * round(three, 7), 7)),
    }
    w = walk_of(load_case("mazur-2015"), values)
    assert w.first_wrong == "dout_o1/dnet_o1"
    assert statuses(w)["dE_total/dw5"] == "carried" and statuses(w)["w5+"] == "carried"
    assert w.get("dE_total/dw5").carried_from == ["dout_o1/dnet_o1"]  # type: ignore[union-attr]


# --- the sign convention ----------------------------------------------------------------------


@pytest.mark.parametrize("name", HAND + ("mazur-2015",))
def test_delta_of_the_other_sign_with_its_update_is_a_convention(name):
    """delta = (target - out) out (1 - out), w + eta * delta * x: checked under the convention,
    nothing wrong; the same deltas with w - eta * delta * x (uphill) are a mistake, not a
    convention, and a note says why."""
    case = load_case(name)
    if name == "mazur-2015":
        a = arith.exact()
        exact = correct_step(case, case.parameters, case.config, a, sign=-1)
        good = {q: format(Decimal(str(exact[q])), ".6g") for q in ("out_o1", "delta_o1", "w5+", "delta_h1", "w1+")}
    else:
        good, _ = by_hand(case, -1, 4)
    w = walk_of(case, good)
    assert w.convention == "delta-sign-convention" and not w.failed, statuses(w)
    deltas = [c for c in w.quantities if c.quantity.startswith("delta_")]
    assert deltas and all(c.convention for c in deltas)
    updates = [q for q in good if q.endswith("+") and q[:-1] in case.layout.weights]
    start = {q: Decimal(str(case.decimals.parameters[q[:-1]])) for q in updates}
    uphill = {**good, **{q: str(2 * start[q] - Decimal(good[q])) for q in updates}}  # each step the other way
    bad = walk_of(case, uphill)
    assert bad.convention is None and bad.first_wrong is not None and bad.first_wrong.startswith("delta_")
    assert any("not a convention" in n for n in bad.notes)
    one = {**good, updates[0]: uphill[updates[0]]}  # one update the other way: a slip there, the convention holds
    slip = walk_of(case, one)
    assert slip.convention == "delta-sign-convention" and slip.first_wrong == updates[0]


def test_the_convention_is_said_and_in_the_catalogue(capsys):
    code = main(["verify", str(ROOT / "examples/values/hand-3-2-2.values")])
    out = capsys.readouterr().out
    assert code == 1 and "consistent sign convention (δ = −dE/dnet)" in out
    assert main(["verify", "--list", "--json"]) == 0
    kinds = {m["mistake"]: m["kind"] for m in json.loads(capsys.readouterr().out)["mistakes"]}
    assert kinds["delta-sign-convention"] == "convention" and kinds["derivative-from-net"] == "mistake"


# --- the bundled values files -------------------------------------------------------------------


def test_the_2_2_1_students_file():
    """Rounded as they go, delta with the other sign, the hidden derivative from net: the first
    wrong value is delta_h1, named; w1+, w2+ carried from it; rounding said, not failed."""
    case = load_case("hand-2-2-1")
    w = check_written(case, case.config, _file("hand-2-2-1"))
    got = statuses(w)
    assert w.convention == "delta-sign-convention" and w.first_wrong == "delta_h1"
    assert "derivative-from-net" in w.get("delta_h1").explained_by  # type: ignore[union-attr]
    assert set(w.carried_from("delta_h1")) == {"w1+", "w2+"} and set(w.carried_from("delta_h2")) == {"w3+", "w4+"}
    assert got["net_o1"] == got["w5+"] == "rounding" and got["delta_o1"] == "rounding"


def test_the_3_2_2_students_file():
    case = load_case("hand-3-2-2")
    w = check_written(case, case.config, _file("hand-3-2-2"))
    assert w.convention == "delta-sign-convention" and w.first_wrong == "out_o2"
    after = {"E_o2", "E_total", "delta_o2", "delta_h1", "delta_h2", "w9+", "w10+", "w1+", "w2+", "w3+", "w4+", "w6+"}
    assert set(w.carried_from("out_o2")) == after and w.with_status("wrong") == ["out_o2"]
    assert set(w.with_status("rounding")) == {"net_o1", "net_o2"}


def _file(name: str) -> dict:
    from bpcheck.verify.values import read_values

    return read_values(str(ROOT / f"examples/values/{name}.values"), load_case(name).layout)


def test_values_may_be_strings_and_keep_every_digit():
    case = load_case("mazur-2015")
    as_string = parse_values('[values]\n"out_h1" = "0.59327000"\n"w5+" = "0.3589"', case.layout)
    as_number = parse_values('[values]\n"out_h1" = 0.59327000\n"w5+" = 0.3589', case.layout)
    assert as_string["out_h1"].text == as_number["out_h1"].text == "0.59327000"
    assert as_string["out_h1"].unit == Decimal("1E-8") and as_string["w5+"].text == "0.3589"


# --- published figures: reproduced-from-printed ------------------------------------------------


def _judged(name: str) -> dict[str, object]:
    """Each printed figure of `name` judged against the exact float64 value (a correct backend)."""
    case = load_case(name)
    exact, allowed = exact_values(case, "float64", False), allowances(case, "float64", False)
    cell = Cell("reference", "float64", "cpu")
    return {
        t.quantity: judge(
            case,
            cell,
            t,
            float(exact[(t.quantity, t.config)]),
            exact[(t.quantity, t.config)],
            allowed[(t.quantity, t.config)],
        )
        for t in targets(case, False)
        if t.published is not None
    }


def test_figures_that_follow_from_the_sources_rounded_figures_are_reproduced_from_printed():
    """hand-2-2-1: net_o1 = 0.62362 is 0.4 * 0.6011 + 0.7 * 0.5474, not the exact 0.623585;
    delta_h1 = -0.00342 comes from the notes' updated w5+ (the output-first rule); each names
    what it follows from. hand-3-2-2: the deltas are printed with the other sign."""
    r = _judged("hand-2-2-1")
    net = r["net_o1"]
    assert net.verdict == "reproduced-from-printed" and net.verdict not in FAILING  # type: ignore[attr-defined]
    assert net.from_printed["figures"] == ["out_h1 = 0.6011", "out_h2 = 0.5474"]  # type: ignore[attr-defined]
    dh = r["delta_h1"].from_printed  # type: ignore[attr-defined]
    assert r["delta_h1"].verdict == "reproduced-from-printed" and dh["config"] == "output-first"  # type: ignore[attr-defined]
    assert "w5+ = 0.4204" in dh["figures"]
    assert r["out_h1"].verdict == "reproduced" and r["out_h1"].from_printed is None  # type: ignore[attr-defined]
    b = _judged("hand-3-2-2")
    assert b["delta_o1"].verdict == "reproduced-from-printed" and b["delta_o1"].from_printed["convention"]  # type: ignore[attr-defined]
    assert b["E_total"].from_printed["figures"] == ["E_o1 = 0.1104", "E_o2 = 0.1100"]  # type: ignore[attr-defined]
    assert not [q for q, rec in {**r, **b}.items() if rec.failed]  # type: ignore[attr-defined]


def test_a_figure_that_follows_from_nothing_printed_is_not_reproduced(tmp_path):
    text = (ROOT / "reference/cases/hand-2-2-1.toml").read_text()
    path = tmp_path / "typo.toml"
    path.write_text(text.replace('value = "0.62362"', 'value = "0.62632"').replace('"hand-2-2-1"', '"typo"'))
    case = load_case(str(path))
    exact, allowed = exact_values(case, "float64", False), allowances(case, "float64", False)
    t = next(t for t in targets(case, False) if t.quantity == "net_o1")
    key = (t.quantity, t.config)
    rec = judge(case, Cell("reference", "float64", "cpu"), t, float(exact[key]), exact[key], allowed[key])
    assert rec.verdict == "not-reproduced" and rec.failed


def test_run_table_report_and_diff_say_reproduced_from_printed(capsys, tmp_path):
    code = main(["run", "--case", "hand-2-2-1", "--backend", "reference", "--dtype", "float64",
                 "--no-trajectories", "--jobs", "1", "--out", str(tmp_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("net_o1 "))
    assert "0.62362" in row and "reproduced-from-printed" in row
    assert "net_o1 [as-written]: 0.62362 from out_h1 = 0.6011, out_h2 = 0.5474" in out
    doc = {"records": json.loads((tmp_path / "results.json").read_text())}
    blocks = model.blocks(doc)
    assert any(getattr(b, "text", "") == "Printed figures that follow from the source's own figures" for b in blocks)
    old = json.loads(json.dumps(doc))
    for r in old["records"]:
        if r["verdict"] == "reproduced-from-printed":
            r["verdict"], r["from_printed"] = "reproduced", None
    d = diff.compare(old, doc)
    assert not d.regression and d.figures_changed
    assert "printed figures now judged otherwise" in diff.render(d, "old", "new")
    assert "reproduced-from-printed" in render(records(doc))


def test_explain_shows_any_cases_formula_with_your_numbers(capsys):
    code = main(
        ["explain", "net_o1", "--backend", "numpy", "--values", str(ROOT / "examples/values/hand-3-2-2.values")]
    )
    out = capsys.readouterr().out
    assert code == 0 and "net_o1 = w7 * out_h1 + w8 * out_h2" in out
    yours = next(line for line in out.splitlines() if line.startswith("yours "))
    assert yours.split(None, 1)[1] == "net_o1 = 0.3 * 0.574 + -0.1 * 0.520 = 0.1202  (you wrote 0.1202: rounding)"


def test_a_deep_network_under_the_wrong_rule_is_wrong_then_carried_not_rounding():
    """deep-mixed worked under output-first, checked under its plain rule, to 6 digits: the first
    value that differs is the first hidden layer's dE_total/dout, the catalogue names the rule,
    and nothing is passed off as rounding (a relu's dout/dnet written "1.0" is exactly 1, not
    anything from 0.95 to 1.05)."""
    case = load_case("deep-mixed")
    d, params = _decimal_case(case)
    values = correct_step(d, params, case.configs["output-first"], arith.exact())
    w = walk_of(case, {q: format(Decimal(str(v)), ".6g") for q, v in values.items()})
    assert w.first_wrong is not None and w.first_wrong.startswith("dE_total/dout_h3_")
    assert "hidden-deltas-use-updated-output-weights" in w.get(w.first_wrong).explained_by  # type: ignore[union-attr]
    assert w.with_status("rounding") == [] and w.with_status("carried")
