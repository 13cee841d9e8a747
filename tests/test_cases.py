"""Every other bundled case (batches, both reductions, three bias conventions, XOR, a deeper
mixed network, softmax): each cell agrees with the exact oracle, and (the post's case too)
every pair of cells with each other, over every quantity of one step and of its training run.
One test per case, cell or pair, and part (the slow checks apart); a failure lists each
quantity off, with got / exact / ULPs / bound."""

from __future__ import annotations

from bpcheck.crosscheck import Cell
from bpcheck.tolerance import allowed_ulps
from bpcheck.ulps import ulp, ulps
from bpcheck.reference.case import load_case
from bpcheck.reference.quantities import stage
from tests.helpers import common_keys

SHOW = 12  # quantities listed in a failure message


def _report(where: str, bad: list[str]) -> str:
    more = f"\n  ... and {len(bad) - SHOW} more" if len(bad) > SHOW else ""
    return f"{where}: {len(bad)} quantities off:\n  " + "\n  ".join(bad[:SHOW]) + more


def _keys(name: str, cells: tuple[Cell, ...], part: str, request) -> list[tuple[str, str]]:
    return common_keys(name, cells, not request.config.getoption("--no-trajectories"), part)


def test_case_exact(case_cell, values, exact, rho, request):
    name, cell, part = case_cell
    case = load_case(name)
    got, truth, kappa = values[(name, cell)], exact[name][cell.dtype], rho[name]
    bad = []
    for key in _keys(name, (cell,), part, request):
        x, v = truth[key], got[key]
        if isinstance(v, str):
            bad.append(f"{key[0]}: the backend raised: {v}")
            continue
        d, bound = ulps(v, x, cell.dtype), allowed_ulps(stage(case.layout, key[0]), kappa[key])
        if not d <= bound:
            bad.append(f"{key[0]}: got {v!r}, exact {float(x)!r}: {d:.4g} ULPs > allowed {bound:.4g}")
    assert not bad, _report(f"{cell.id} {name}", bad)


def test_case_pairwise(case_pair, values, exact, rho, request):
    name, a, b, part = case_pair
    case = load_case(name)
    va, vb, truth, kappa = values[(name, a)], values[(name, b)], exact[name][a.dtype], rho[name]
    bad = []
    for key in _keys(name, (a, b), part, request):
        x = truth[key]
        if isinstance(va[key], str) or isinstance(vb[key], str):
            continue  # reported by test_case_exact
        d, bound = abs(va[key] - vb[key]) / ulp(x, a.dtype), allowed_ulps(stage(case.layout, key[0]), kappa[key])
        if not d <= bound:
            bad.append(f"{key[0]}: {va[key]!r} vs {vb[key]!r}: {d:.4g} ULPs apart > allowed {bound:.4g}")
    assert not bad, _report(f"{a.id} vs {b.id} {name}", bad)


def test_every_bundled_case_says_what_question_it_answers():
    from bpcheck.reference.case import bundled_cases

    for name in bundled_cases():
        assert len(load_case(name).question) > 40, name
