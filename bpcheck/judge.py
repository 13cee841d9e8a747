"""The judge: the one function that turns a computed value into a verdict record.

Everything that says pass or fail (run, report, verify, the pytest plugin and the project's
own tests) calls `judge`; the verdict inside is reference.tolerance.ruling, the bound is the
error model's (reference/bounds.py, reference/tolerance.py).

A value that is not a finite number (NaN, inf: an overflow) is judged too (tolerance.ruling:
it fails where the exact value is finite in the dtype and the bound is finite), and recorded
as no value (`value` null, so the JSON stays JSON) with `error` saying what it was; an exact
value beyond the dtype's range is ill-conditioned whatever the value, with `reason` saying so.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from bpcheck.reference import tolerance
from bpcheck.reference.bounds import UNIT_ROUNDOFF
from bpcheck.reference.case import Case, Figure
from bpcheck.reference.tolerance import Allowance
from bpcheck.reference.ulps import beyond_range, ulp, ulps

#: How `error` begins for a value that is NaN or inf (then `value` is None: JSON has neither).
NOT_FINITE = "not a finite number: "
#: The verdicts that make a run fail.
FAILING = ("fail", "not-reproduced")
#: A printed figure's verdicts: the value agrees with it; it is not the exact value but follows from
#: the source's own earlier printed figures (bpcheck/verify/printed.py); neither.
FIGURE_VERDICTS = ("reproduced", "reproduced-from-printed", "not-reproduced")


@dataclass(frozen=True)
class Cell:
    """One column of the matrix: a backend in a dtype on a device."""

    backend: str
    dtype: str
    device: str

    @property
    def id(self) -> str:
        """torch-float64 on the CPU, torch-float64-cuda elsewhere."""
        return f"{self.backend}-{self.dtype}" + ("" if self.device == "cpu" else f"-{self.device}")


@dataclass(frozen=True)
class Target:
    """One number to compute: a quantity under a configuration, after some updates."""

    quantity: str
    config: str
    updates: int | None  # None: a quantity of one training step from the initial parameters
    measured: str = "after-update"
    published: Figure | None = None


@dataclass(slots=True)
class Record:
    """One judged value: the keys of `bpcheck run --json` (slots: a wide case keeps thousands)."""

    case: str
    backend: str
    dtype: str
    device: str
    quantity: str
    value: float | None
    exact: str  # the exact value, 20 significant digits
    ulps: float | None
    allowed_ulps: float | None  # the bound in ULPs of the dtype at the exact value (None: infinite)
    condition: float | None  # the bound in units of the value's own rounding, u |exact| (None: exact 0)
    published: str | None
    verdict: str  # pass | ill-conditioned | fail; for a published figure one of FIGURE_VERDICTS
    config: str
    measured: str  # after-update | loss-of-last-step
    error: str | None = None  # why there is no value: the backend's error, or what it gave instead of a number
    bound: float | None = None  # the allowed |value - exact|, absolute (None: infinite)
    kink: bool = False  # taken at a point where the function is not differentiable
    from_printed: dict[str, Any] | None = None  # reproduced-from-printed: the printed figures it follows from
    reason: str | None = None  # why the verdict, where the bound alone does not say (an overflow)

    @property
    def failed(self) -> bool:
        return self.verdict in FAILING

    def describe(self) -> str:
        """One line for a failure message: which cell, got, expected, how far, against what."""
        where = f"{self.backend}-{self.dtype}" + ("" if self.device == "cpu" else f"-{self.device}")
        head = f"{where} {self.quantity} [{self.config}] ({self.case})"
        why = f" ({self.reason})" if self.reason else ""
        if self.error is not None:
            return f"{head}: the backend gave no value: {self.error}, exact {self.exact}: {self.verdict}{why}"
        far = f"{self.ulps:.4g} ULPs of {self.dtype}" if self.ulps is not None else "not comparable"
        bound = "no bound" if self.allowed_ulps is None else f"allowed {self.allowed_ulps:g}"
        factor = "" if self.condition is None else f", {self.condition:g}x the value's own rounding"
        kink = ", at a kink" if self.kink else ""
        printed = f"; the source prints {self.published}" if self.published is not None else ""
        return (
            f"{head}: got {self.value!r}, exact {self.exact}: {far}, {bound} "
            f"(error model{factor}{kink}){printed}: {self.verdict}{why}"
        )


def figure_agrees(value: float, figure: Figure, allowance: Allowance) -> bool:
    """|value - printed| <= one unit of the last printed digit + the value's bound: the printed
    figure is within a unit of the truth, and the value within its bound of it."""
    slack = Decimal(figure.unit) + Decimal(repr(allowance.radius))
    return abs(Decimal(repr(value)) - Decimal(figure.value)) <= slack


def judge(case: Case, cell: Cell, t: Target, value: float | str, exact: Any, allowance: Allowance) -> Record:
    """The verdict on `value` (a float, or the backend's error message) for target `t`."""
    error = value if isinstance(value, str) else None
    v = _number(value)
    if v is None and error is None:
        error = f"not a number: {type(value).__name__} {reprlib.repr(value)}"
    verdict, reason = ("fail", None) if v is None else tolerance.ruling(v, exact, allowance, cell.dtype)
    if v is not None and not math.isfinite(v):
        error, v = f"{NOT_FINITE}{v!r}", None
    verdict_of_value = verdict
    from_printed = None
    if t.published is not None:
        ok = verdict != "fail" and v is not None and figure_agrees(v, t.published, allowance)
        verdict = "reproduced" if ok else "not-reproduced"
        derived = None if ok or v is None or verdict_of_value == "fail" else _from_printed(case, t.published)
        if derived is not None:
            verdict, from_printed = "reproduced-from-printed", derived.as_json()
    held = not beyond_range(exact, cell.dtype)  # ULPs of the dtype at exact mean nothing beyond its range
    d = None if v is None or not held else ulps(v, exact, cell.dtype)
    one = ulp(exact, cell.dtype)
    own = abs(float(exact)) * UNIT_ROUNDOFF[cell.dtype]  # the value's own rounding (0 if it underflows)
    return Record(
        case=case.name,
        backend=cell.backend,
        dtype=cell.dtype,
        device=cell.device,
        quantity=t.quantity,
        value=v,
        exact=digits(exact),
        ulps=None if d is None or not math.isfinite(d) else _round(d),
        allowed_ulps=_round(allowance.radius / one) if held and math.isfinite(allowance.radius) else None,
        condition=_round(allowance.radius / own) if held and own and math.isfinite(allowance.radius) else None,
        published=t.published.value if t.published else None,
        verdict=verdict,
        config=t.config,
        measured=t.measured,
        error=error,
        bound=float(f"{allowance.radius:.4g}") if math.isfinite(allowance.radius) else None,
        kink=allowance.kink,
        from_printed=from_printed,
        reason=reason,
    )


def from_printed_text(d: dict, config: str | None = None) -> str:
    """'out_h1 = 0.6011, out_h2 = 0.5474 (under output-first)': what a reproduced-from-printed
    figure follows from (bpcheck/verify/printed.py); the rule only where it is not `config`."""
    where = ", ".join(d.get("figures") or []) or "the case's data"
    extra = [f"under {d['config']}"] if d.get("config") and d.get("config") != config else []
    extra += ["delta = -dE/dnet"] if d.get("convention") else []
    return where + (f" ({'; '.join(extra)})" if extra else "")


def _from_printed(case: Case, figure: Figure) -> Any:
    """How `figure` follows from the source's earlier printed figures, or None."""
    from bpcheck.verify.printed import from_printed  # imported here: verify imports the matrix, which imports this

    return from_printed(case, figure)


def _round(x: float) -> float:
    """3 decimals, or 4 significant digits for large numbers (bounds of vanishing values)."""
    return round(x, 3) if abs(x) < 1e6 else float(f"{x:.4g}")


def _number(value: Any) -> float | None:
    """A backend's value as a float, or None for an error message or a non-number: a real
    number is (Python's, NumPy's scalars); a bool, None, a string, an array or a tensor is not."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def digits(x: Any, n: int = 20) -> str:
    """An exact value as a decimal string of `n` significant digits (its exponent whole, however
    large: an overflowed value's exact one may be 1e+1950; inf and NaN as Infinity and NaN)."""
    return format(Decimal(str(x).strip()), f".{n}g")


@dataclass(slots=True)
class Passes(Record):
    """In a wide case (bpcheck/compact.py): `count` values of a stage that all pass, counted
    rather than recorded one by one (quantity "(N stage values)", no value of its own)."""

    count: int = 1


def count(r: Record) -> int:
    """How many values `r` stands for."""
    return r.count if isinstance(r, Passes) else 1


def as_json(records: list[Record]) -> list[dict[str, Any]]:
    return [asdict(r) for r in records]
