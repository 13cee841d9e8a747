"""The walk: a person's (or a backend's) values, in the post's order, each compared with the
exact value, classified, and explained by the catalogue.

Statuses: `ok` (agrees with the exact value), `too-coarse` (agrees only at a precision too
coarse to say anything: not verified, but not wrong either), `carried` (wrong, but the correct
formula applied to the person's own earlier values gives it: the mistake is upstream), `wrong`
(the mistake is here). `first_wrong` is the first `wrong` in the walk's order. A wrong or
carried value is *explained* by every catalogued mistake whose value it matches; a wrong value
nothing explains gets the `nearest` mistakes and the precision at which they would explain it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bpcheck.verify import formulas
from bpcheck.verify.mistakes import Mistake

Num = Any
#: (quantity, value it is checked against) -> whether the given value agrees with it.
Agrees = Callable[[str, Num], bool]
STATUSES = ("ok", "too-coarse", "wrong", "carried")


def _never(q: str) -> bool:
    return False


@dataclass
class Checked:
    quantity: str
    stage: str
    given: str  # as written, or the backend's value (repr)
    exact: str  # 20 significant digits
    status: str  # one of STATUSES
    recomputed: str | None = None  # the correct formula on the given earlier values
    explained_by: list[str] = field(default_factory=list)
    nearest: list[str] = field(default_factory=list)  # when nothing explains it
    nearest_matches_at: str | None = None  # the precision at which `nearest` would explain it


@dataclass
class Walk:
    quantities: list[Checked]
    first_wrong: str | None
    diagnosis: list[dict[str, Any]]  # one entry per mistake that explains something
    not_applicable: dict[str, str]
    notes: list[str]

    @property
    def failed(self) -> bool:
        return any(c.status != "ok" for c in self.quantities)

    def with_status(self, status: str) -> list[str]:
        """The quantities of that status, in the walk's order."""
        return [c.quantity for c in self.quantities if c.status == status]

    def counts(self) -> dict[str, int]:
        out = {"checked": len(self.quantities), **dict.fromkeys(STATUSES, 0)}
        for c in self.quantities:
            out[c.status] += 1
        return out


def digits(x: Num, n: int = 20) -> str:
    return format(Decimal(str(x)), f".{n}g")


def walk(
    order: list[tuple[str, str]],
    given: dict[str, Num],
    shown: dict[str, str],
    exact: dict[str, Num],
    agrees: Agrees,
    mistakes: dict[Mistake, dict[str, Num]],
    recompute: Callable[[str], tuple[Num, Agrees] | None],
    not_applicable: dict[str, str],
    notes: list[str],
    too_coarse: Callable[[str], bool] = _never,
) -> Walk:
    """`order`: (quantity, stage) in the walk's order; `given`: the values to check (numbers),
    `shown`: how each is displayed; `mistakes`: every applicable mistake's values;
    `recompute(q)`: the correct formula on the given values, with how to compare it (None
    when there is no formula); `too_coarse(q)`: whether a value that does not agree is only
    too coarse to be judged (it is then neither wrong nor explained)."""
    checked: list[Checked] = []
    for q, stage in order:
        if q not in given:
            continue
        c = Checked(q, stage, shown[q], digits(exact[q]), "ok")
        checked.append(c)
        if agrees(q, exact[q]):
            continue
        if too_coarse(q):
            c.status = "too-coarse"
            continue
        again = recompute(q)
        if again is not None:
            c.recomputed = digits(again[0], 12)
            c.status = "carried" if again[1](q, again[0]) else "wrong"
        else:
            c.status = "wrong"
        c.explained_by = [m.id for m, values in mistakes.items() if agrees(q, values[q])]
        if not c.explained_by and c.status == "wrong":
            _nearest(c, given[q], exact[q], mistakes)
    first = next((c.quantity for c in checked if c.status == "wrong"), None)
    return Walk(checked, first, _diagnosis(checked, first, mistakes), not_applicable, notes)


def _nearest(c: Checked, value: Num, exact: Num, mistakes: dict[Mistake, dict[str, Num]]) -> None:
    """The mistakes closest to a value none explains, if much closer than the exact value and
    agreeing to at least 3 significant digits."""
    v = Decimal(str(value))
    gaps = {m.id: abs(v - Decimal(digits(vals[c.quantity], 30))) for m, vals in mistakes.items()}
    if not gaps or v == 0:
        return
    best = min(gaps.values())
    if best * 10 > abs(v - Decimal(digits(exact, 30))) or best > abs(v) / 1000:
        return
    c.nearest = [m for m, g in gaps.items() if g == best]
    c.nearest_matches_at = f"1E{math.ceil(math.log10(best)) if best else 0}"


def _diagnosis(checked: list[Checked], first: str | None, mistakes: dict[Mistake, dict[str, Num]]) -> list[dict]:
    out = []
    for m in mistakes:
        explains = [c.quantity for c in checked if m.id in c.explained_by]
        if explains:
            out.append(
                {
                    "mistake": m.id,
                    "title": m.title,
                    "source": m.source,
                    "explains": explains,
                    "explains_first_wrong": first in explains,
                }
            )
    out.sort(key=lambda d: (not d["explains_first_wrong"], -len(d["explains"])))  # type: ignore[arg-type]
    return out


def local_recompute(
    t: formulas.Table, own: dict[str, Num], correct: dict[str, Num], tolerance: Callable[[str, Num, list[str]], Agrees]
) -> Callable[[str], tuple[Num, Agrees] | None]:
    """The correct formula of a quantity applied to the given values of what it is computed
    from (the correct values for anything not given). `tolerance(q, value, given_deps)` says
    how to compare the recomputed value, allowing for the rounding of the given inputs."""

    def recompute(q: str) -> tuple[Num, Agrees] | None:
        f = t.get(q)
        if f is None:
            return None
        args = [own.get(d, correct[d]) for d in f.deps]
        value = f.fn(*args)
        return value, tolerance(q, value, [d for d in f.deps if d in own])

    return recompute
