"""The matrix: backend x dtype x device x quantity of the post's example, each cell checked
(a) against the exact oracle and (b) against the post's figure, one test id per quantity
(torch-float64-dE_total/dw5). Every pair of backends is compared in tests/test_cases.py."""

from __future__ import annotations

from dataclasses import replace

from tests.conftest import CASE
from tests.helpers import assert_judged


def _judged(cell, target, case, values, exact, allowed):
    key = (target.quantity, target.config)
    got, truth, allowance = values[(CASE, cell)][key], exact[CASE][cell.dtype][key], allowed[CASE][cell.dtype][key]
    return assert_judged(case, cell, target, got, truth, allowance)


def test_exact(cell, target, case, values, exact, allowed):
    unprinted = replace(target, published=None)  # the exact value alone; the figure is test_published's
    _judged(cell, unprinted, case, values, exact, allowed)


def test_published(cell, target, figure_target, case, values, exact, allowed):
    _judged(cell, target, case, values, exact, allowed)
