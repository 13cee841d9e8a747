"""The walk: a person's (or a backend's) values, in the post's order, each compared with the
exact value, classified, and explained by the catalogue.

Statuses:

- `ok`: agrees with the exact value;
- `too-coarse`: agrees only at a precision too coarse to say anything (not verified, not wrong);
- `rounding`: does not agree, but follows from the person's own earlier values, none of which is
  wrong: it is what their own rounding gives, not a mistake (and not a failure);
- `carried`: does not agree, and follows from their own earlier values, one of which is wrong
  (`carried_from` names the wrong values it comes from): the mistake is upstream;
- `wrong`: follows from nothing given: the mistake is here.

"Follows from" means: some way of computing it by the correct formulas from the values given
(formulas.Own: the post's three-factor form or the delta form, a given chain piece used or
bypassed) agrees with it; `from_values` names the given values that way uses. `first_wrong` is
the first `wrong` in the walk's order. A wrong or carried value is *explained* by every
catalogued mistake whose value it matches; a wrong value nothing explains gets the `nearest`
mistakes and the precision at which they would explain it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from bpcheck.verify.mistakes import Mistake

Num = Any
#: (quantity, value it is checked against) -> whether the given value agrees with it.
Agrees = Callable[[str, Num], bool]
STATUSES = ("ok", "too-coarse", "rounding", "wrong", "carried")
#: The statuses that fail a check (rounding is said, but is not a mistake).
FAILING = ("wrong", "carried", "too-coarse")


def _never(q: str) -> bool:
    return False


class Match:
    """One way of recomputing a value from the given ones: the given values it uses, its
    formula (a template, formulas.symbolic shows it), and, computed when first asked, its value
    and whether the value given agrees with it (within what the inputs' rounding allows)."""

    def __init__(self, used: tuple[str, ...], formula: str, compute: Callable[[], tuple[Num, bool]]):
        self.used, self.formula, self._compute = used, formula, compute

    @cached_property
    def _result(self) -> tuple[Num, bool]:
        return self._compute()

    @property
    def value(self) -> Num:
        return self._result[0]

    @property
    def agrees(self) -> bool:
        return self._result[1]


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
    carried_from: list[str] = field(default_factory=list)  # the wrong values a carried one follows from
    from_values: list[str] = field(default_factory=list)  # the given values it is recomputed from
    formula: str | None = None  # how: the formula that recomputes it, by name
    convention: bool = False  # its exact value is the sign convention's, not the plain one


@dataclass
class Walk:
    quantities: list[Checked]
    first_wrong: str | None
    diagnosis: list[dict[str, Any]]  # one entry per mistake that explains something
    not_applicable: dict[str, str]
    notes: list[str]
    convention: str | None = None  # the catalogue's convention the values were checked under

    @property
    def failed(self) -> bool:
        return any(c.status in FAILING for c in self.quantities)

    def with_status(self, status: str) -> list[str]:
        """The quantities of that status, in the walk's order."""
        return [c.quantity for c in self.quantities if c.status == status]

    def counts(self) -> dict[str, int]:
        out = {"checked": len(self.quantities), **dict.fromkeys(STATUSES, 0)}
        for c in self.quantities:
            out[c.status] += 1
        return out

    def carried_from(self, first: str) -> list[str]:
        """The carried values that follow from `first` (among others, perhaps)."""
        return [c.quantity for c in self.quantities if c.status == "carried" and first in c.carried_from]

    def get(self, q: str) -> Checked | None:
        return next((c for c in self.quantities if c.quantity == q), None)


def digits(x: Num, n: int = 20) -> str:
    return format(Decimal(str(x)), f".{n}g")


def walk(
    order: list[tuple[str, str]],
    given: dict[str, Num],
    shown: dict[str, str],
    exact: dict[str, Num],
    agrees: Agrees,
    mistakes: dict[Mistake, dict[str, Num]],
    recompute: Callable[[str], Iterable[Match]],
    not_applicable: dict[str, str],
    notes: list[str],
    too_coarse: Callable[[str], bool] = _never,
    explain_own: Callable[[str], list[str]] | None = None,
) -> Walk:
    """`order`: (quantity, stage) in the walk's order; `given`: the values to check (numbers),
    `shown`: how each is displayed; `mistakes`: every applicable mistake's values;
    `recompute(q)`: the ways of computing q from the given values, the plainest first;
    `too_coarse(q)`: whether a value that does not agree is only too coarse to be judged (it is
    then neither wrong nor explained); `explain_own(q)`: the mistakes that give a wrong q from
    the person's own earlier values (a mistake made on rounded figures matches its exact value
    only to the figures' precision). A value's status may need those of the given values it
    follows from, which the walk's order can put later (under output-first, dnet_o1/dout_h1 is
    w5+): each is judged when first needed."""
    stage = dict(order)
    done: dict[str, Checked] = {}

    def origin(q: str) -> set[str]:
        if q not in stage or q not in given:
            return set()
        c = judge(q)
        return {q} if c.status == "wrong" else set(c.carried_from) if c.status == "carried" else set()

    def judge(q: str) -> Checked:
        if q in done:
            return done[q]
        c = done[q] = Checked(q, stage[q], shown[q], digits(exact[q]), "ok")
        if agrees(q, exact[q]):
            return c
        if too_coarse(q):
            c.status = "too-coarse"
            return c
        chosen, dirty = None, None
        for k, m in enumerate(recompute(q)):
            if k == 0:
                c.recomputed, c.formula = _short(m.value), m.formula
            from_ = set().union(*(origin(d) for d in m.used if d != q))
            if from_ and dirty is not None:
                continue  # a way through a wrong value is known already: only a clean one would say more
            if not m.agrees:
                continue
            if not from_:
                chosen = (m, from_)
                break
            dirty = (m, from_)
        chosen = chosen or dirty
        if chosen is None:
            c.status = "wrong"
        else:
            m, from_ = chosen
            c.status = "carried" if from_ else "rounding"
            c.recomputed, c.formula = _short(m.value), m.formula
            c.from_values = list(m.used)
            c.carried_from = [x for x, _ in order if x in from_]
        if c.status != "rounding":
            c.explained_by = [m.id for m, values in mistakes.items() if agrees(q, values[q])]
        if c.status == "wrong" and not c.explained_by and explain_own is not None:
            c.explained_by += [m for m in explain_own(q) if m not in c.explained_by]
        if not c.explained_by and c.status == "wrong":
            _nearest(c, given[q], exact[q], mistakes)
        return c

    checked = [judge(q) for q, _ in order if q in given]
    first = next((c.quantity for c in checked if c.status == "wrong"), None)
    return Walk(checked, first, _diagnosis(checked, first, mistakes), not_applicable, notes)


def _short(x: Num) -> str:
    """12 significant digits, no trailing zeros."""
    return format(float(x), ".12g")


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
