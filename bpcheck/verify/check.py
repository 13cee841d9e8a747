"""Both uses of the walk: a file of values written by hand (`check_written`) and the values a
backend computed (`check_computed`). Everything exact runs on the reference's exact numbers.

Any network the case format describes: the formula table (formulas.py) is derived from the
case, so a value is split into wrong, carried and rounding on a 2-2-1 network without biases as
on the post's. Hand-written values whose deltas have the other sign, delta = -dE/dnet, with
updates w + eta * delta * x, are checked under that convention (`SIGN_CONVENTION`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import MAX_PREC, Context, Decimal, localcontext
from functools import partial
from typing import Any

from bpcheck.matrix import by_rule
from bpcheck.reference import arith
from bpcheck.reference.case import PLAIN, Case, Config
from bpcheck.reference.oracle import as_decimal_case, as_dtype_case, rounded_parameters
from bpcheck.reference.ulps import ulps
from bpcheck.verify import formulas
from bpcheck.verify.mistakes import CATALOGUE, CONSISTENT, SIGN_CONVENTION, Mistake, correct_step, run, table_of
from bpcheck.verify.values import Written
from bpcheck.verify.walk import Match, Walk, digits, walk

Num = Any
#: How far the exact value itself may be off, relative: the two 60-digit libraries agree to this
#: (tests/test_reference.py), so digits written beyond the 55th are not judged.
EXACT_UNCERTAINTY = Decimal("1e-55")
#: How many ways of a mistake's formulas are tried on a person's own values (the plainest first).
MISTAKE_WAYS = 8


def _dec(x: Num) -> Decimal:
    """An exact value as a decimal, rounded to the oracle's EXACT_DIGITS significant digits: an
    exact decimal, 0.3775 computed in binary as 0.37749999...97, is then 0.3775 again."""
    return Decimal(digits(x, arith.EXACT_DIGITS))


def within(value: Decimal, target: Decimal, allowed: Decimal) -> bool:
    """|value - target| <= allowed + the exact value's own uncertainty, computed without
    rounding (Decimal's default context keeps 28 digits)."""
    with localcontext(Context(prec=MAX_PREC)):
        return abs(value - target) <= allowed + abs(target) * EXACT_UNCERTAINTY


def verdict(w: Written, exact: Decimal) -> str:
    """How a written value stands against the exact one: `ok` when it is `exact` correctly
    rounded (within half a unit of its last digit) at a precision that says something (one unit
    below |exact|), or `exact` itself; `too-coarse` when it is correctly rounded but one unit is
    |exact| or more; `off` when it is not within half a unit."""
    if w.value == exact:
        return "ok"
    if not within(w.value, exact, w.unit / 2):
        return "off"
    return "too-coarse" if w.unit >= abs(exact) else "ok"


def applicable(case: Case, config: Config) -> tuple[list[Mistake], dict[str, str]]:
    """The mistakes that can be made on `case` under `config`, and why the others cannot (the
    catalogue's conventions are not mistakes and are in neither)."""
    mistakes = [m for m in CATALOGUE if m.kind == "mistake"]
    why = {m.id: m.not_applicable(case, config) for m in mistakes}
    return [m for m in mistakes if why[m.id] is None], {k: v for k, v in why.items() if v is not None}


def _order(case: Case) -> list[tuple[str, str]]:
    return [(q.name, q.stage) for q in case.layout.step_quantities]


@dataclass
class HandCheck:
    """Hand-written values checked under one rule and one sign convention: the exact step, the
    ways to recompute each value from the others, and the walk."""

    case: Case
    config: Config
    written: dict[str, Written]
    sign: int = 1
    explain: bool = True

    def __post_init__(self) -> None:
        a = self.a = arith.exact()
        dcase = as_decimal_case(self.case, a)
        params = dcase.parameters
        with a.context():
            self.table = formulas.table(dcase, self.config, a, self.sign)
            self.fixed = formulas.leaves(dcase, params, a)
            self.exact = correct_step(dcase, params, self.config, a, self.sign)
            self.env = {**self.fixed, **{q: a.parse(w.text) for q, w in self.written.items()}}
            self.half = {q: a.parse(str(w.unit / 2)) for q, w in self.written.items()}
        self.own = formulas.Own(self.table, self.written, self.fixed)
        usable, self.not_applicable = applicable(self.case, self.config)
        if not self.explain:
            usable = []
        self.mistakes = {m: run(m, dcase, params, self.config, a, self.sign) for m in usable}
        with a.context():
            tables = {m: table_of(m, dcase, self.config, a, self.sign) for m in usable}
        self.mistaken = {m: formulas.Own(t, self.written, self.fixed) for m, t in tables.items()}
        self._memo: dict[formulas.Way, Num] = {}  # every way's value on the values as written
        #: values written as exactly the exact value (a relu's 1, an input's 0.05): not rounded, no slack
        self.unrounded = {q for q, w in self.written.items() if w.value == _dec(self.exact[q])}

    def agrees(self, q: str, target: Num) -> bool:
        return verdict(self.written[q], _dec(target)) == "ok"

    def too_coarse(self, q: str) -> bool:
        return verdict(self.written[q], _dec(self.exact[q])) == "too-coarse"

    def follows(self, q: str, way: formulas.Way) -> Match:
        """Whether the value written for q follows from way: within half a unit of its last
        digit of the way's value from the values as written, plus what half a unit of the last
        digit of each given input moves that value (the person may have kept more digits than
        they wrote), unless the input is written as exactly its exact value (then it is not
        rounded: `1.0` for a relu's derivative is 1)."""
        return Match(way.used, way.text(self.written), lambda: self._follows(q, way))

    def _follows(self, q: str, way: formulas.Way) -> tuple[Num, bool]:
        with self.a.context():
            value = way.value(self.env, self._memo)
            w = self.written[q]
            ok = within(w.value, _dec(value), w.unit / 2)
            if not ok and way.used:
                slack = Decimal(0)
                for d in [d for d in way.used if d not in self.unrounded]:
                    moved = [
                        way.value({**self.env, d: self.env[d] + s}, {}, self._memo, d)
                        for s in (self.half[d], -self.half[d])
                    ]
                    slack += max(abs(_dec(x) - _dec(value)) for x in moved)
                ok = within(w.value, _dec(value), w.unit / 2 + slack)
            return value, ok

    def explain_own(self, q: str) -> list[str]:
        """The mistakes whose formulas give the value written for q from the person's own
        earlier values (the first few ways of each). A mistake that does not change q's exact
        value does not change its formulas either: it is not tried."""
        out = []
        for m, own in self.mistaken.items():
            if self.mistakes[m][q] == self.exact[q]:
                continue
            if any(self.follows(q, w).agrees for w in own.ways(q)[:MISTAKE_WAYS]):
                out.append(m.id)
        return out

    def recompute(self, q: str) -> Iterator[Match]:
        for way in self.own.ways(q):
            yield self.follows(q, way)

    def walk(self) -> Walk:
        shown = {q: w.text for q, w in self.written.items()}
        given = {q: w.value for q, w in self.written.items()}
        notes = _misprinted(self.case, self.written)
        w = walk(
            _order(self.case),
            given,
            shown,
            self.exact,
            self.agrees,
            self.mistakes,
            self.recompute,
            self.not_applicable,
            notes,
            self.too_coarse,
            self.explain_own,
        )
        return w


def check_written(case: Case, config: Config, written: dict[str, Written], explain: bool = True) -> Walk:
    """The walk of hand-written values: each compared at the precision it is written in with the
    exact value from the case's decimals (what a person works from), by `verdict`. When the
    deltas given have the other sign (delta = -dE/dnet) and the updates given go with it
    (w + eta * delta * x), everything is checked under that convention, and the walk says so."""
    return choose(case, config, written, explain)[1]


def choose(case: Case, config: Config, written: dict[str, Written], explain: bool = True) -> tuple[HandCheck, Walk]:
    """check_written's walk, and the check it was made with (its sign convention's)."""
    plain = HandCheck(case, config, written, 1, explain)
    w = plain.walk()
    deltas = [q for q, _ in _order(case) if q in written and q.startswith("delta_")]
    flipped = [
        q
        for q in deltas
        if w.get(q).status not in ("ok", "rounding")  # type: ignore[union-attr]
        and written[q].value * _dec(plain.exact[q]) < 0
    ]
    if not flipped:  # no delta has the other sign: nothing to try
        return plain, w
    other = HandCheck(case, config, written, -1, explain)
    wc = other.walk()
    if _fitting(wc, deltas) <= _fitting(w, deltas):
        return plain, w
    update = _update_sign(case, written, other)
    if update is not None and update[1] > 0:
        q, _, delta = update
        w.notes.append(
            f"{delta} is written with the other sign, delta = -dE/dnet, but {q} goes with delta = dE/dnet "
            f"(w - eta * delta * x): with delta = -dE/dnet the update is w + eta * delta * x, so the "
            "sign is a slip here, not a convention"
        )
        return plain, w
    changed = {q for q in other.exact if other.exact[q] != plain.exact[q]}
    for c in wc.quantities:
        c.convention = c.quantity in changed
    wc.convention = SIGN_CONVENTION.id
    if update is None:
        wc.notes.append(
            f"{CONSISTENT}: no update is given to confirm it; with delta = -dE/dnet the update is w + eta * delta * x"
        )
    return other, wc


def _fitting(w: Walk, deltas: list[str]) -> int:
    """How many of the deltas are not wrong in walk w (ok, only rounded, or carried from an
    earlier wrong value by the walk's formulas)."""
    return sum(c.status != "wrong" for c in w.quantities if c.quantity in deltas)


def _update_sign(case: Case, written: dict[str, Written], c: HandCheck) -> tuple[str, int, str] | None:
    """(update, sign, delta): sign -1 when the updates written go with the deltas written as
    w + eta * delta * x (the convention), +1 when as w - eta * delta * x, by a majority of the
    updates whose weight's delta is written too (the first of them named); None when no such
    pair is written (or in a batch, where the gradient sums over examples)."""
    lay = case.layout
    if lay.batch != 1:
        return None
    votes: list[tuple[str, int, str]] = []
    for q, _ in _order(case):
        if not (q.endswith("+") and q in written and q[:-1] in lay.weights):
            continue
        p = q[:-1]
        l, j, k = next(
            (l, j, k)
            for l, layer in enumerate(lay.w)
            for j, row in enumerate(layer)
            for k, w in enumerate(row)
            if w == p
        )
        delta = f"delta_{lay.labels[l + 1][j]}"
        if delta not in written:
            continue
        x = lay.inputs[k] if l == 0 else f"out_{lay.labels[l][k]}"
        with c.a.context():
            step = c.env["eta"] * c.env[delta] * (c.env[x] if x in c.env else c.exact[x])
            p0, mine = c.env[p], c.env[q]
            votes.append((q, -1 if abs(mine - (p0 + step)) < abs(mine - (p0 - step)) else 1, delta))
    if not votes:
        return None
    sign = -1 if sum(v[1] for v in votes) <= 0 else 1
    return next(v for v in votes if v[1] == sign)


def _misprinted(case: Case, written: dict[str, Written]) -> list[str]:
    """A note for each value that is a figure the case's source prints not correctly rounded."""
    return [
        f"{f.quantity} = {f.value} is the source's printed figure, which is not correctly rounded: "
        f"{f.not_correctly_rounded}"
        for f in case.published
        if f.not_correctly_rounded and f.quantity in written and written[f.quantity].value == Decimal(f.value)
    ]


def check_computed(case: Case, dtype: str, values: dict[str, float], bounds: dict[str, float]) -> Walk:
    """The walk of a backend's values: each within its ULP bound (`bounds`, from the
    cross-check's records) of the exact value, from the dtype-rounded case. As in the
    protocol, chain pieces are those of the plain gradient and updates follow the case's rule."""
    a = arith.exact()
    dcase = as_dtype_case(case, dtype)
    params = rounded_parameters(case, dtype)
    both = lambda f: by_rule(case, f(PLAIN), f(case.config))  # noqa: E731
    exact = both(lambda c: correct_step(dcase, params, c, a))
    usable, not_applicable = applicable(case, case.config)
    mistakes = {m: both(lambda c, m=m: run(m, dcase, params, c, a)) for m in usable}

    def agrees(q: str, target: Num) -> bool:
        return ulps(values[q], _dec(target), dtype) <= bounds[q]

    with a.context():
        plain, rule = formulas.table(dcase, PLAIN, a), formulas.table(dcase, case.config, a)
        t = {q: (rule if q.endswith("+") else plain)[q] for q in plain}
        fixed = formulas.leaves(dcase, params, a)
        env = {**fixed, **{q: a.num(v) for q, v in values.items()}}
    own = formulas.Own(t, values, fixed)

    memo: dict[formulas.Way, Any] = {}

    def compute(q: str, way: formulas.Way) -> tuple[Num, bool]:
        with a.context():
            value = way.value(env, memo)
        return value, agrees(q, value)

    def recompute(q: str) -> Iterator[Match]:
        for way in own.ways(q):
            yield Match(way.used, way.text(values), partial(compute, q, way))

    shown = {q: repr(v) for q, v in values.items()}
    return walk(_order(case), dict(values), shown, exact, agrees, mistakes, recompute, not_applicable, [])
