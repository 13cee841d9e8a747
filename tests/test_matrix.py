"""The matrix: backend x dtype x device x quantity of the post's example, each cell checked
(a) against the exact oracle and (b) against the post's figure, one test id per quantity
(torch-float64-dE_total/dw5). Every pair of backends is compared in tests/test_cases.py."""

from __future__ import annotations

from bpcheck.reference.quantities import stage
from tests.conftest import CASE
from tests.helpers import assert_matches_figure, assert_near_exact


def test_exact(cell, target, case, values, exact, rho):
    key = (target.quantity, target.config)
    assert_near_exact(
        values[(CASE, cell)][key],
        exact[CASE][cell.dtype][key],
        cell.dtype,
        stage(case.layout, target.quantity),
        f"{cell.id} {target.quantity} [{target.config}]",
        rho[CASE][key],
    )


def test_published(cell, target, figure_target, case, values, exact, rho):
    key = (target.quantity, target.config)
    assert_matches_figure(
        values[(CASE, cell)][key],
        target.published,
        exact[CASE][cell.dtype][key],
        cell.dtype,
        stage(case.layout, target.quantity),
        f"{cell.id} {target.quantity} [{target.config}]",
        rho[CASE][key],
    )
