"""The matrix: backend x dtype x device x quantity of the post's example, each cell checked
(a) against the exact oracle, (b) against every other backend, (c) against the post's figure."""

from __future__ import annotations

from reference.quantities import stage
from tests.conftest import CASE
from tests.helpers import assert_backends_agree, assert_matches_figure, assert_near_exact


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


def test_pairwise(pair, target, case, values, exact, rho):
    a, b = pair
    key = (target.quantity, target.config)
    assert_backends_agree(
        values[(CASE, a)][key],
        values[(CASE, b)][key],
        exact[CASE][a.dtype][key],
        a.dtype,
        stage(case.layout, target.quantity),
        f"{a.id} vs {b.id} {target.quantity} [{target.config}]",
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
