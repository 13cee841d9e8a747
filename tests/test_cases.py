"""Every other bundled case (batches, both reductions, three bias conventions, XOR, a deeper
mixed network, softmax): each cell agrees with the exact oracle, and (the post's case too)
every pair of cells with each other, over every quantity of one step and of its training run.
One test per case, cell or pair, and part (the slow checks apart); a failure lists each
quantity off, with got / exact / ULPs / bound."""

from __future__ import annotations

from bpcheck.judge import Cell, judge
from bpcheck.matrix import targets
from bpcheck.reference.case import load_case
from bpcheck.reference.tolerance import within
from tests.helpers import common_keys

SHOW = 12  # quantities listed in a failure message


def _report(where: str, bad: list[str]) -> str:
    more = f"\n  ... and {len(bad) - SHOW} more" if len(bad) > SHOW else ""
    return f"{where}: {len(bad)} quantities off:\n  " + "\n  ".join(bad[:SHOW]) + more


def _keys(name: str, cells: tuple[Cell, ...], part: str, request) -> list[tuple[str, str]]:
    return common_keys(name, cells, not request.config.getoption("--no-trajectories"), part)


def test_case_exact(case_cell, values, exact, allowed, request):
    name, cell, part = case_cell
    case = load_case(name)
    got, truth, allowance = values[(name, cell)], exact[name][cell.dtype], allowed[name][cell.dtype]
    chosen = {(t.quantity, t.config): t for t in targets(case)}
    keys = _keys(name, (cell,), part, request)
    records = [judge(case, cell, chosen[key], got[key], truth[key], allowance[key]) for key in keys]
    assert not any(r.failed for r in records), _report(f"{cell.id} {name}", [r.describe() for r in records if r.failed])


def test_case_pairwise(case_pair, values, exact, allowed, request):
    name, a, b, part = case_pair
    va, vb, truth, allowance = values[(name, a)], values[(name, b)], exact[name][a.dtype], allowed[name][a.dtype]
    bad = []
    for key in _keys(name, (a, b), part, request):
        if isinstance(va[key], str) or isinstance(vb[key], str):
            continue  # reported by test_case_exact
        if not within(va[key], vb[key], truth[key], allowance[key]):
            apart, bound = abs(va[key] - vb[key]), allowance[key].radius
            bad.append(f"{key[0]}: {va[key]!r} vs {vb[key]!r}: {apart:.4g} apart > allowed {bound:.4g}")
    assert not bad, _report(f"{a.id} vs {b.id} {name}", bad)


def test_every_bundled_case_says_what_question_it_answers():
    from bpcheck.reference.case import bundled_cases

    for name in bundled_cases():
        assert len(load_case(name).question) > 40, name
