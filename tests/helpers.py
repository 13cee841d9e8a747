"""Assertion helpers: every failure says which cell, what was got, what was expected, and how
far apart in ULPs, against which bound. The verdict itself is always bpcheck.judge's."""

from __future__ import annotations

from functools import cache
from typing import Any

from bpcheck.judge import Cell, Record, Target, judge
from bpcheck.matrix import selected
from bpcheck.reference.case import Case, load_case
from bpcheck.reference.tolerance import Allowance


def assert_judged(case: Case, cell: Cell, target: Target, got: float | str, exact: Any, allowance: Allowance) -> Record:
    """The judge's verdict on `got` is pass (or reproduced, for a printed figure)."""
    record = judge(case, cell, target, got, exact, allowance)
    assert not record.failed, record.describe() + " (the policy: reference/tolerance.py)"
    return record


def common_keys(name: str, cells: tuple[Cell, ...], trajectories: bool, part: str) -> list[tuple[str, str]]:
    """The (quantity, config) targets of case `name` that every one of `cells` has in `part`."""
    chosen = [_keys(name, c.backend, trajectories, part) for c in cells]
    return sorted(frozenset.intersection(*chosen))


@cache
def _keys(name: str, backend: str, trajectories: bool, part: str) -> frozenset[tuple[str, str]]:
    """(what is slow depends on the backend alone, not on dtype or device)"""
    cell = Cell(backend, "float64", "cpu")
    return frozenset((t.quantity, t.config) for t in selected(load_case(name), cell, trajectories, part))
