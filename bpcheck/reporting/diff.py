"""Two results documents compared value by value, for CI after a framework upgrade or on another CPU.

Records are matched on (case, backend, dtype, device, quantity, config). A regression is:
- a new failure: a value that passed (or did not exist) now fails its bound or the post's figure;
- a value that passed and is now ill-conditioned (a verdict that got worse);
- ULP growth: a value's distance to exact grew by more than `growth_threshold` (below) while the
  software and the CPU's SIMD features are the same; by more than `environment_threshold` when
  they differ (or are not recorded); growth between the two is listed as moved with the environment;
- a lost value: a value of a case and cell (backend-dtype-device) still present is missing;
- a disappeared cell or case: a case's backend-dtype-device, or a whole case, that produced
  values no longer does (listed as case and cell).
So every value of OLD is either matched in NEW or listed as lost, in a disappeared cell or in a
disappeared case. Two documents with no case in common are not compared (`nothing_in_common`).
Appeared cases, cells and values, fixed values, printed figures between `reproduced` and
`reproduced-from-printed`, and environment changes are reported only.

Growth threshold, max(2 ULPs, 50% of the old distance, 10% of the value's bound): a correct
change of summation order, FMA use or libm moves a one-step value (0-4 ULPs from exact here) by
about 1 ULP, hence the 2-ULP floor; trajectory values (after 1 to 10,000 training steps) sit at
up to 320 ULPs from exact per unit of cancellation factor in the committed baseline
(reports/baseline, e.g. softmax-classifier E_total@200) and move by tens when one step's
rounding changes (the distance picture shows neighbouring steps 1 and 100 ULPs apart), hence the
relative parts: 50% of the old distance, and 10% of the bound, which for a trajectory value is
1024 ULPs times its cancellation factor (bpcheck/tolerance.py ALLOWED_ULPS). A real loss of
precision (float32 or TF32 inside a float64 computation, a dropped term) costs 10^3 to 10^15
ULPs, far above all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bpcheck.judge import FIGURE_VERDICTS, Cell, Record
from bpcheck.reporting.output import shown
from bpcheck.reporting.results import failing, records

Key = tuple[str, str, str, str, str, str]

#: When the software or the CPU's SIMD features differ, a value's distance may grow by this
#: fraction of its bound before it counts as a regression. Other kernels round differently
#: (NumPy's AVX-512 float32 ufuncs against its AVX2 ones, OpenBLAS's SkylakeX against its Haswell
#: kernels, torch's MKL on Intel against AMD): the committed baseline (AMD EPYC) against an
#: AVX-512 Xeon, same versions, has 1,988 of 22,424 values not bit-identical; 20 of them
#: (autograd float32) grew beyond noise, by 3.5-6.4 ULPs, at most 1/8 of their bound (4 of 32),
#: and no trajectory value grew by more than 3% of its bound. A quarter is twice the largest move
#: seen; a real loss of precision (10^3 ULPs and up) stays far above it.
ENVIRONMENT_FRACTION = 0.25

#: results.json environment keys that are the software a value depends on (compared as a whole).
SOFTWARE = ("python", "blas")


def key(r: Record) -> Key:
    return (r.case, r.backend, r.dtype, r.device, r.quantity, r.config)


def cell(r: Record) -> str:
    return Cell(r.backend, r.dtype, r.device).id


def growth_threshold(old: Record) -> float:
    """The noise threshold: growth the same software on the same CPU features may show."""
    return max(2.0, 0.5 * (old.ulps or 0.0), 0.1 * (old.allowed_ulps or 0.0))


def environment_threshold(old: Record) -> float:
    """Growth allowed when the software or the CPU features differ (ENVIRONMENT_FRACTION)."""
    return max(growth_threshold(old), ENVIRONMENT_FRACTION * (old.allowed_ulps or 0.0))


@dataclass
class Diff:
    new_failures: list[tuple[Record | None, Record]] = field(default_factory=list)
    became_ill_conditioned: list[tuple[Record, Record]] = field(default_factory=list)  # a worse verdict too
    grew: list[tuple[Record, Record]] = field(default_factory=list)
    moved_with_environment: list[tuple[Record, Record]] = field(default_factory=list)
    lost: list[Record] = field(default_factory=list)
    fixed: list[tuple[Record, Record]] = field(default_factory=list)
    added: list[Record] = field(default_factory=list)
    changed: int = 0  # values not bit-identical
    exact_changed: list[tuple[Record, Record]] = field(default_factory=list)
    #: a printed figure now reproduced where it followed from printed figures, or the converse (report only)
    figures_changed: list[tuple[Record, Record]] = field(default_factory=list)
    cells_appeared: list[str] = field(default_factory=list)  # "case cell", of a case in both
    cells_disappeared: list[str] = field(default_factory=list)  # "case cell", of a case in both
    cases_disappeared: list[str] = field(default_factory=list)
    cases_appeared: list[str] = field(default_factory=list)
    versions: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    environment: list[str] = field(default_factory=list)  # other differences: Python, BLAS, CPU, features
    same_environment: bool = True

    @property
    def regression(self) -> bool:
        return bool(
            self.new_failures
            or self.became_ill_conditioned
            or self.grew
            or self.lost
            or self.cells_disappeared
            or self.cases_disappeared
        )


def cases(doc: dict[str, Any]) -> list[str]:
    """The cases the document has values of, in order."""
    return list(dict.fromkeys(r["case"] for r in doc["records"]))


def nothing_in_common(old_doc: dict[str, Any], new_doc: dict[str, Any]) -> str:
    """Why the two cannot be compared ('' when they can): they share no case."""
    old, new = cases(old_doc), cases(new_doc)
    if set(old) & set(new):
        return ""
    listed = lambda names: ", ".join(map(shown, names)) if names else "no values"  # noqa: E731
    return f"nothing in common: the old results have {listed(old)}; the new ones {listed(new)}"


def _case_cell(r: Record) -> str:
    return f"{r.case} {cell(r)}"


def compare(old_doc: dict[str, Any], new_doc: dict[str, Any]) -> Diff:
    old = {key(r): r for r in records(old_doc)}
    new = {key(r): r for r in records(new_doc)}
    d = Diff()
    old_env, new_env = old_doc.get("environment", {}), new_doc.get("environment", {})
    ov, nv = old_env.get("versions", {}), new_env.get("versions", {})
    d.versions = [(p, ov.get(p), nv.get(p)) for p in sorted(set(ov) | set(nv)) if ov.get(p) != nv.get(p)]
    d.environment = environment_changes(old_env, new_env)
    d.same_environment = not d.versions and not software_changes(old_env, new_env) and same_features(old_env, new_env)
    old_cases, new_cases = {r.case for r in old.values()}, {r.case for r in new.values()}
    d.cases_disappeared = sorted(old_cases - new_cases)
    d.cases_appeared = sorted(new_cases - old_cases)
    both = old_cases & new_cases
    old_cells = {_case_cell(r) for r in old.values() if r.case in both}
    new_cells = {_case_cell(r) for r in new.values() if r.case in both}
    d.cells_appeared = sorted(new_cells - old_cells)
    d.cells_disappeared = sorted(old_cells - new_cells)
    for k, n in new.items():
        o = old.get(k)
        if o is None:
            d.added.append(n)
            if failing(n):
                d.new_failures.append((None, n))
            continue
        d.changed += o.value != n.value
        if failing(n) and not failing(o):
            d.new_failures.append((o, n))
        elif n.verdict == "ill-conditioned" and not failing(o) and o.verdict != "ill-conditioned":
            d.became_ill_conditioned.append((o, n))
        elif failing(o) and not failing(n):
            d.fixed.append((o, n))
        elif o.verdict != n.verdict and {o.verdict, n.verdict} <= set(FIGURE_VERDICTS):
            d.figures_changed.append((o, n))
        if o.ulps is not None and n.ulps is not None and n.ulps - o.ulps > growth_threshold(o):
            allowed = growth_threshold(o) if d.same_environment else environment_threshold(o)
            (d.grew if n.ulps - o.ulps > allowed else d.moved_with_environment).append((o, n))
        if o.exact != n.exact:
            d.exact_changed.append((o, n))
    d.lost = [o for k, o in old.items() if k not in new and _case_cell(o) in new_cells]
    return d


def software_changes(old_env: dict[str, Any], new_env: dict[str, Any]) -> list[str]:
    return [f"{k}: {old_env.get(k)} -> {new_env.get(k)}" for k in SOFTWARE if old_env.get(k) != new_env.get(k)]


def same_features(old_env: dict[str, Any], new_env: dict[str, Any]) -> bool:
    """Both reports recorded NumPy's CPU features, and every feature entry both have agrees (torch's
    capability is recorded only where torch was imported already; it is compared where both have it)."""
    a, b = old_env.get("cpu_features"), new_env.get("cpu_features")
    if not a or not b or "numpy" not in a or "numpy" not in b:
        return False
    return all(a[k] == b[k] for k in set(a) & set(b))


def environment_changes(old_env: dict[str, Any], new_env: dict[str, Any]) -> list[str]:
    """What differs besides the package versions, one line each: Python, BLAS, CPU model, features."""
    out = software_changes(old_env, new_env)
    if old_env.get("cpu") != new_env.get("cpu"):
        out.append(f"cpu: {old_env.get('cpu')} -> {new_env.get('cpu')}")
    a, b = old_env.get("cpu_features") or {}, new_env.get("cpu_features") or {}
    if not a or not b:
        return [*out, f"cpu features: {_recorded(a)} -> {_recorded(b)} (unknown counts as differing)"]
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if isinstance(x, list) and isinstance(y, list) and x != y:
            moved = [f"-{f}" for f in x if f not in y] + [f"+{f}" for f in y if f not in x]
            out.append(f"cpu features {k}: {' '.join(moved) or 'reordered'}")
        elif isinstance(x, dict) and isinstance(y, dict):  # the override variables
            out += [
                f"{v}: {x.get(v, 'unset')} -> {y.get(v, 'unset')}"
                for v in sorted(set(x) | set(y))
                if x.get(v) != y.get(v)
            ]
        elif x != y:
            out.append(f"cpu features {k}: {_recorded(x, x)} -> {_recorded(y, y)}")
    return out


def _recorded(value: Any, shown: Any = "recorded") -> Any:
    return "not recorded" if not value else shown


def _name(r: Record) -> str:
    return f"{r.case} {cell(r)} {r.quantity} [{r.config}]"


def _ulps(r: Record | None) -> str:
    if r is None:
        return "-"
    return "error" if r.ulps is None else f"{r.ulps:g}"


def _moves(pairs: list[tuple[Record, Record]]) -> list[str]:
    return [f"{_name(n)}: {_ulps(o)} -> {_ulps(n)} ULPs (bound {_bound(n)})" for o, n in pairs]


def _bound(r: Record) -> str:
    return "infinite" if r.allowed_ulps is None else f"{r.allowed_ulps:g}"


def render(d: Diff, old_label: str, new_label: str) -> str:
    lines = [f"bpcheck diff {old_label} -> {new_label}"]

    def section(title: str, items: list[str]) -> None:
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines.extend(f"  {x}" for x in items)

    if d.same_environment:
        lines.append("environment: same software and CPU features, so a move beyond noise is a regression")
    else:
        lines.append(f"environment differs, so a value may move by up to {ENVIRONMENT_FRACTION:g} of its bound:")
    lines.extend(f"  {x}" for x in [*d.environment, *(f"{p}: {a} -> {b}" for p, a, b in d.versions)])
    section(
        "new failures",
        [
            f"{_name(n)}: {o.verdict if o else 'new'} -> {n.verdict}, ULPs {_ulps(o)} -> {_ulps(n)}"
            f" (bound {_bound(n)})" + (f", error: {n.error}" if n.error else "")
            for o, n in d.new_failures
        ],
    )
    section(
        "became ill-conditioned (the bound now reaches |exact|)",
        [
            f"{_name(n)}: {o.verdict} -> {n.verdict}, bound {_bound(o)} -> {_bound(n)} ULPs"
            for o, n in d.became_ill_conditioned
        ],
    )
    limit = "max(2, 50%, bound/10)" if d.same_environment else f"max(2, 50%, {ENVIRONMENT_FRACTION:g} x bound)"
    section(f"ULP distance grew (by more than {limit})", _moves(d.grew))
    section("moved with the environment (beyond noise, within the allowance)", _moves(d.moved_with_environment))
    section("values missing from the new results", [_name(o) for o in d.lost])
    section("cells disappeared", d.cells_disappeared)
    section("cases disappeared", d.cases_disappeared)
    section("cells appeared", d.cells_appeared)
    section("cases appeared", d.cases_appeared)
    section("fixed", [f"{_name(n)}: {o.verdict} -> {n.verdict}" for o, n in d.fixed])
    section(
        "printed figures now judged otherwise (not a regression)",
        [f"{_name(n)}: {o.verdict} -> {n.verdict}" for o, n in d.figures_changed],
    )
    if d.changed:
        lines.append(f"values not bit-identical: {d.changed}")
    if d.added:
        lines.append(f"new values: {len(d.added)}")
    if d.exact_changed:
        lines.append(f"exact values changed (case or oracle changed): {len(d.exact_changed)}")
    lines.append("REGRESSION" if d.regression else "no regression")
    return "\n".join(lines)
