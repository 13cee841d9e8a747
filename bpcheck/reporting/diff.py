"""Two results documents compared value by value, for CI after a framework upgrade.

Records are matched on (case, backend, dtype, device, quantity, config). A regression is:
- a new failure: a value that passed (or did not exist) now fails its bound or the post's figure;
- ULP growth: a value's distance to exact grew by more than `growth_threshold` (below);
- a lost value: a value of a cell (backend-dtype-device) and case still present is missing;
- a disappeared cell: a backend-dtype-device that produced values no longer does.
Appeared cells and values, fixed values and framework version changes are reported only.

Growth threshold, max(2 ULPs, 50% of the old distance, 10% of the value's bound): a correct
change of summation order, FMA use or libm moves a one-step value (0-4 ULPs from exact here) by
about 1 ULP, hence the 2-ULP floor; 10,000-step values sit at 20-110 ULPs and move by tens when
one step's rounding changes (the distance picture shows neighbouring steps 1 and 100 ULPs
apart), hence the relative parts (50% of the value, 10% of its 512-ULP bound). A real loss of
precision (float32 or TF32 inside a float64 computation, a dropped term) costs 10^3 to 10^15
ULPs, far above all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bpcheck.matrix import Record
from bpcheck.reporting.results import failing, records

Key = tuple[str, str, str, str, str, str]


def key(r: Record) -> Key:
    return (r.case, r.backend, r.dtype, r.device, r.quantity, r.config)


def cell(r: Record) -> str:
    return f"{r.backend}-{r.dtype}" + ("" if r.device == "cpu" else f"-{r.device}")


def growth_threshold(old: Record) -> float:
    return max(2.0, 0.5 * (old.ulps or 0.0), 0.1 * (old.allowed_ulps or 0.0))


@dataclass
class Diff:
    new_failures: list[tuple[Record | None, Record]] = field(default_factory=list)
    grew: list[tuple[Record, Record]] = field(default_factory=list)
    lost: list[Record] = field(default_factory=list)
    fixed: list[tuple[Record, Record]] = field(default_factory=list)
    added: list[Record] = field(default_factory=list)
    exact_changed: list[tuple[Record, Record]] = field(default_factory=list)
    cells_appeared: list[str] = field(default_factory=list)
    cells_disappeared: list[str] = field(default_factory=list)
    versions: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    @property
    def regression(self) -> bool:
        return bool(self.new_failures or self.grew or self.lost or self.cells_disappeared)


def compare(old_doc: dict[str, Any], new_doc: dict[str, Any]) -> Diff:
    old = {key(r): r for r in records(old_doc)}
    new = {key(r): r for r in records(new_doc)}
    d = Diff()
    old_cells, new_cells = {cell(r) for r in old.values()}, {cell(r) for r in new.values()}
    d.cells_appeared = sorted(new_cells - old_cells)
    d.cells_disappeared = sorted(old_cells - new_cells)
    new_cases = {r.case for r in new.values()}
    for k, n in new.items():
        o = old.get(k)
        if o is None:
            d.added.append(n)
            if failing(n):
                d.new_failures.append((None, n))
            continue
        if failing(n) and not failing(o):
            d.new_failures.append((o, n))
        elif failing(o) and not failing(n):
            d.fixed.append((o, n))
        if o.ulps is not None and n.ulps is not None and n.ulps - o.ulps > growth_threshold(o):
            d.grew.append((o, n))
        if o.exact != n.exact:
            d.exact_changed.append((o, n))
    d.lost = [o for k, o in old.items() if k not in new and cell(o) in new_cells and o.case in new_cases]
    ov = old_doc.get("environment", {}).get("versions", {})
    nv = new_doc.get("environment", {}).get("versions", {})
    d.versions = [(p, ov.get(p), nv.get(p)) for p in sorted(set(ov) | set(nv)) if ov.get(p) != nv.get(p)]
    return d


def _name(r: Record) -> str:
    return f"{r.case} {cell(r)} {r.quantity} [{r.config}]"


def _ulps(r: Record | None) -> str:
    if r is None:
        return "-"
    return "error" if r.ulps is None else f"{r.ulps:g}"


def render(d: Diff, old_label: str, new_label: str) -> str:
    lines = [f"bpcheck diff {old_label} -> {new_label}"]

    def section(title: str, items: list[str]) -> None:
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines.extend(f"  {x}" for x in items)

    section(
        "new failures",
        [
            f"{_name(n)}: {o.verdict if o else 'new'} -> {n.verdict}, ULPs {_ulps(o)} -> {_ulps(n)}"
            f" (bound {n.allowed_ulps:g})" + (f", error: {n.error}" if n.error else "")
            for o, n in d.new_failures
        ],
    )
    section(
        "ULP distance grew (by more than max(2, 50%, bound/10))",
        [f"{_name(n)}: {_ulps(o)} -> {_ulps(n)} ULPs (bound {n.allowed_ulps:g})" for o, n in d.grew],
    )
    section("values missing from the new results", [_name(o) for o in d.lost])
    section("cells disappeared", d.cells_disappeared)
    section("cells appeared", d.cells_appeared)
    section("framework versions changed", [f"{p}: {a} -> {b}" for p, a, b in d.versions])
    section("fixed", [f"{_name(n)}: {o.verdict} -> {n.verdict}" for o, n in d.fixed])
    if d.added:
        lines.append(f"new values: {len(d.added)}")
    if d.exact_changed:
        lines.append(f"exact values changed (case or oracle changed): {len(d.exact_changed)}")
    lines.append("REGRESSION" if d.regression else "no regression")
    return "\n".join(lines)
