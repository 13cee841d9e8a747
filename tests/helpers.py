"""Assertion helpers: every failure says which cell, what was got, what was expected, and how
far apart in ULPs, against which bound."""

from __future__ import annotations

from functools import cache
from typing import Any

from bpcheck.crosscheck import Cell, figure_agrees, selected
from bpcheck.tolerance import allowed_ulps
from bpcheck.ulps import ulp, ulps
from bpcheck.reference.case import Figure, load_case


def assert_near_exact(got: float | str, exact: Any, dtype: str, stage: str, where: str, rho: float = 1.0) -> None:
    """`got` within the policy's bound of the exact value."""
    assert not isinstance(got, str), f"{where}: the backend raised: {got}"
    distance = ulps(got, exact, dtype)
    bound = allowed_ulps(stage, rho)
    assert distance <= bound, (
        f"{where}: got {got!r}, exact {float(exact)!r}: {distance:.4g} ULPs of {dtype} "
        f"> allowed {bound:g} (stage {stage}, cancellation factor {rho:.3g}, bpcheck/tolerance.py)"
    )


def assert_backends_agree(
    a: float | str, b: float | str, exact: Any, dtype: str, stage: str, where: str, rho: float = 1.0
) -> None:
    """Two backends within the larger of their bounds of each other (bpcheck/tolerance.py)."""
    assert not isinstance(a, str) and not isinstance(b, str), (
        f"{where}: a backend raised: {a if isinstance(a, str) else b}"
    )
    distance = abs(a - b) / ulp(exact, dtype)
    bound = allowed_ulps(stage, rho)
    assert distance <= bound, (
        f"{where}: {a!r} vs {b!r}: {distance:.4g} ULPs of {dtype} apart > allowed {bound:g} (stage {stage})"
    )


def assert_matches_figure(
    got: float | str, figure: Figure, exact: Any, dtype: str, stage: str, where: str, rho: float = 1.0
) -> None:
    """Within one unit of the figure's last printed digit, plus the dtype's own bound."""
    assert not isinstance(got, str), f"{where}: the backend raised: {got}"
    assert figure_agrees(got, figure, dtype, stage, exact, rho), (
        f"{where}: got {got!r}, the post prints {figure.value} ({figure.section}); allowed: one unit "
        f"({figure.unit}) + {allowed_ulps(stage, rho):g} ULPs of {dtype}; off by {abs(got - float(figure.value)):.3g}"
    )


def common_keys(name: str, cells: tuple[Cell, ...], trajectories: bool, part: str) -> list[tuple[str, str]]:
    """The (quantity, config) targets of case `name` that every one of `cells` has in `part`."""
    chosen = [_keys(name, c.backend, trajectories, part) for c in cells]
    return sorted(frozenset.intersection(*chosen))


@cache
def _keys(name: str, backend: str, trajectories: bool, part: str) -> frozenset[tuple[str, str]]:
    """(what is slow depends on the backend alone, not on dtype or device)"""
    cell = Cell(backend, "float64", "cpu")
    return frozenset((t.quantity, t.config) for t in selected(load_case(name), cell, trajectories, part))
