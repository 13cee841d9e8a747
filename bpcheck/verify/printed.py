"""A source's printed figures explained from its own earlier printed figures.

Hand-worked examples round as they go: net_o1 computed from out_h1 and out_h2 as printed to 4
decimals is not the exact net_o1 correctly rounded, yet it is exactly what the source's own
figures give. `derivations(case)` walks the case's single-step printed figures as if they were
a person's values file (check.py, the same rule: within half a unit of the figure's last digit
of what the formulas give from the figures before it, allowing for their rounding), under
each of the case's configurations, the default first, and with the other sign convention for
delta where the source's deltas have it. A figure that is not the exact value but follows
from the source's figures, or is exact only under another configuration or convention, gets a
`FromPrinted` naming the figures it was computed from; `bpcheck run` then gives it the verdict
`reproduced-from-printed` (bpcheck/judge.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from bpcheck.reference.case import Case, Figure
from bpcheck.reference.quantities import split_trajectory_name
from bpcheck.verify import formulas
from bpcheck.verify.check import choose
from bpcheck.verify.mistakes import CONSISTENT
from bpcheck.verify.values import Written


@dataclass(frozen=True)
class FromPrinted:
    """How a printed figure follows from the source's earlier printed figures."""

    quantity: str
    printed: str
    config: str  # the configuration it follows under
    convention: str | None  # the catalogue's sign convention it follows under, if any
    figures: tuple[str, ...]  # the printed figures it is computed from: "out_h1 = 0.6011"
    formula: str  # by name: "w5 * out_h1 + w6 * out_h2"
    value: str  # what they give, 12 significant digits
    status: str  # "rounding": from figures that are all right; "carried": one of them is not; "ok": exact there

    def describe(self, default_config: str | None = None) -> str:
        """'from the printed out_h1 = 0.6011, out_h2 = 0.5474 (w5 * out_h1 + w6 * out_h2 = 0.62362)'."""
        where = f"the printed {', '.join(self.figures)}" if self.figures else "the case's data"
        out = f"from {where} ({self.formula} = {self.value})"
        if self.config != default_config:
            out += f" under {self.config}"
        if self.convention:
            out += f", {CONSISTENT}"
        return out

    def as_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


_CACHE: dict[str, dict[str, FromPrinted]] = {}


def derivations(case: Case) -> dict[str, FromPrinted]:
    """Every single-step printed figure of `case` that is not the exact value under the case's
    default rule but follows from the source's own printed figures (see the module's doc)."""
    key = _key(case)
    if key not in _CACHE:
        _CACHE[key] = _derive(case)
    return _CACHE[key]


def from_printed(case: Case, figure: Figure) -> FromPrinted | None:
    if split_trajectory_name(figure.quantity) is not None:
        return None
    return derivations(case).get(figure.quantity)


def _derive(case: Case) -> dict[str, FromPrinted]:
    figures = [f for f in case.published if split_trajectory_name(f.quantity) is None]
    if not figures:
        return {}
    written = {f.quantity: Written(f.quantity, f.value, 0) for f in figures}
    found: dict[str, FromPrinted] = {}
    carried: dict[str, FromPrinted] = {}
    names = [case.default_config, *(c for c in case.configs if c != case.default_config)]
    exact: set[str] = set()  # the exact value under the default rule: nothing to explain
    for name in names:
        check, walk = choose(case, case.configs[name], written, explain=False)
        if name == case.default_config:
            exact = {c.quantity for c in walk.quantities if c.status == "ok" and not c.convention}
        for c in walk.quantities:
            q = c.quantity
            if q in found or q in exact:
                continue
            if c.status == "ok":
                match = next((m for m in check.recompute(q) if m.agrees), None)
                used, formula, value = (match.used, match.formula, match.value) if match else ((), None, None)
                d = FromPrinted(
                    q,
                    c.given,
                    name,
                    _convention(walk.convention, c.convention, used),
                    tuple(f"{u} = {written[u].text}" for u in used),
                    formulas.symbolic(formula or check.table[q].text),
                    _short(value if value is not None else check.exact[q]),
                    "ok",
                )
                found[q] = d
            elif c.status in ("rounding", "carried"):
                d = FromPrinted(
                    q,
                    c.given,
                    name,
                    _convention(walk.convention, c.convention, c.from_values),
                    tuple(f"{u} = {written[u].text}" for u in c.from_values),
                    formulas.symbolic(c.formula or ""),
                    _short(c.recomputed or "nan"),
                    c.status,
                )
                if c.status == "rounding":
                    found[q] = d
                else:
                    carried.setdefault(q, d)
    return {**carried, **found}


def _short(x: Any) -> str:
    return format(float(x), ".12g")


def _convention(convention: str | None, own: bool, used: Any) -> str | None:
    """The walk's convention, where the figure is a delta or follows from one."""
    return convention if own or any(u.startswith("delta_") for u in used) else None


def _key(case: Case) -> str:
    """The case's content that the derivations depend on."""
    text = repr(
        (
            case.name,
            str(case.path),
            case.spec,
            case.decimals,
            case.published,
            sorted(case.configs.items()),
            case.default_config,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()
