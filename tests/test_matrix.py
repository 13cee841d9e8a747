"""The matrix: backend x dtype x device x quantity of the post's example, each cell checked
(a) against the exact oracle and (b) against the post's figure, one test id per quantity
(torch-float64-dE_total/dw5). Every pair of backends is compared in tests/test_cases.py."""

from __future__ import annotations

from dataclasses import replace

from tests.conftest import CASE
from tests.helpers import assert_judged


def test_exact(cell, target, case, values, exact, rho):
    key = (target.quantity, target.config)
    unprinted = replace(target, published=None)  # the exact value alone; the figure is test_published's
    assert_judged(case, cell, unprinted, values[(CASE, cell)][key], exact[CASE][cell.dtype][key], rho[CASE][key])


def test_published(cell, target, figure_target, case, values, exact, rho):
    key = (target.quantity, target.config)
    assert_judged(case, cell, target, values[(CASE, cell)][key], exact[CASE][cell.dtype][key], rho[CASE][key])
