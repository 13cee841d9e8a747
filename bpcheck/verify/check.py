"""Both uses of the walk: a file of values written by hand (`check_written`) and the values a
backend computed (`check_computed`). Everything exact runs on the reference's exact numbers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import MAX_PREC, Context, Decimal, localcontext
from typing import Any

from bpcheck.matrix import by_rule
from bpcheck.reference import arith
from bpcheck.reference.case import PLAIN, Case, Config
from bpcheck.reference.oracle import as_decimal_case, as_dtype_case, rounded_parameters
from bpcheck.reference.ulps import ulps
from bpcheck.verify import formulas
from bpcheck.verify.mistakes import CATALOGUE, Mistake, correct_step, run
from bpcheck.verify.values import Written
from bpcheck.verify.walk import Agrees, Walk, digits, local_recompute, walk

Num = Any
#: How far the exact value itself may be off, relative: the two 60-digit libraries agree to this
#: (tests/test_reference.py), so digits written beyond the 55th are not judged.
EXACT_UNCERTAINTY = Decimal("1e-55")
NO_TABLE = "no per-quantity formulas for this network yet: wrong values are not split into wrong and carried"


Recompute = Callable[[str], "tuple[Num, Agrees] | None"]


def _no_formula(q: str) -> tuple[Num, Agrees] | None:
    return None


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
    """The mistakes that can be made on `case` under `config`, and why the others cannot."""
    why = {m.id: m.not_applicable(case, config) for m in CATALOGUE}
    return [m for m in CATALOGUE if why[m.id] is None], {k: v for k, v in why.items() if v is not None}


def check_written(case: Case, config: Config, written: dict[str, Written]) -> Walk:
    """The walk of hand-written values: each compared at the precision it is written in with the
    exact value from the case's decimals (what a person works from), by `verdict`."""
    a = arith.exact()
    dcase = as_decimal_case(case, a)
    params = dcase.parameters
    exact = correct_step(dcase, params, config, a)
    usable, not_applicable = applicable(case, config)
    mistakes = {m: run(m, dcase, params, config, a) for m in usable}

    def agrees(q: str, target: Num) -> bool:
        return verdict(written[q], _dec(target)) == "ok"

    def too_coarse(q: str) -> bool:
        return verdict(written[q], _dec(exact[q])) == "too-coarse"

    notes = _misprinted(case, written)
    recompute: Recompute = _no_formula
    if case.is_posts_network:
        with a.context():
            own = {q: a.parse(w.text) for q, w in written.items()}
            env = {**formulas.leaves(dcase, params, a), **exact}
        t = formulas.table(dcase, config, a)

        def tolerance(q: str, value: Num, deps: list[str]) -> Agrees:
            """Half a unit of the written value, plus what half a unit of each given input (each
            correctly rounded, it is within that of what was used) moves it."""
            f, slack = t[q], written[q].unit / 2
            for d in deps:
                args = [own.get(x, env[x]) for x in f.deps]
                bumped = [x + a.parse(str(written[d].unit / 2)) if n == d else x for n, x in zip(f.deps, args)]
                slack += abs(_dec(f.fn(*bumped)) - _dec(value))
            return lambda q, target: within(written[q].value, _dec(target), slack)

        recompute = _in_context(a, local_recompute(t, own, env, tolerance))

    else:
        notes.append(NO_TABLE)
    order = [(q.name, q.stage) for q in case.layout.step_quantities]
    given = {q: w.value for q, w in written.items()}
    shown = {q: w.text for q, w in written.items()}
    return walk(order, given, shown, exact, agrees, mistakes, recompute, not_applicable, notes, too_coarse)


def _misprinted(case: Case, written: dict[str, Written]) -> list[str]:
    """A note for each value that is a figure the case's source prints not correctly rounded."""
    return [
        f"{f.quantity} = {f.value} is the source's printed figure, which is not correctly rounded: "
        f"{f.not_correctly_rounded}"
        for f in case.published
        if f.not_correctly_rounded and f.quantity in written and written[f.quantity].value == Decimal(f.value)
    ]


def _in_context(a: arith.Arithmetic, inner: Recompute) -> Recompute:
    """`inner`, run inside the number type's precision context."""

    def recompute(q: str) -> tuple[Num, Agrees] | None:
        with a.context():
            return inner(q)

    return recompute


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

    notes: list[str] = []
    recompute: Recompute = _no_formula
    if case.is_posts_network:
        plain, rule = formulas.table(dcase, PLAIN, a), formulas.table(dcase, case.config, a)
        t = {q: (rule if q.endswith("+") else plain)[q] for q in plain}
        with a.context():
            own = {q: a.num(v) for q, v in values.items()}
            env = {**formulas.leaves(dcase, params, a), **exact}
        recompute = _in_context(a, local_recompute(t, own, env, lambda q, v, deps: agrees))

    else:
        notes.append(NO_TABLE)
    order = [(q.name, q.stage) for q in case.layout.step_quantities]
    shown = {q: repr(v) for q, v in values.items()}
    return walk(order, dict(values), shown, exact, agrees, mistakes, recompute, not_applicable, notes)
