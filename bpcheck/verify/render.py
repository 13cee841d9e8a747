"""`bpcheck verify`'s output: a table for people, JSON for programs."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from bpcheck.reference.case import Case
from bpcheck.verify.implementation import CellResult
from bpcheck.verify.mistakes import CONSISTENT
from bpcheck.verify.walk import Checked, Walk


def walk_json(w: Walk) -> dict[str, Any]:
    return {
        "first_wrong": w.first_wrong,
        "consequential": w.with_status("carried"),
        "independent": w.with_status("wrong"),
        "rounding": w.with_status("rounding"),
        "too_coarse": w.with_status("too-coarse"),
        "convention": w.convention,
        "diagnoses": [
            {"id": d["mistake"], "quantity": q, "explanation": d["title"]} for d in w.diagnosis for q in d["explains"]
        ],
        "summary": w.counts(),
        "quantities": [asdict(c) for c in w.quantities],
        "diagnosis": w.diagnosis,
        "not_applicable": w.not_applicable,
        "notes": w.notes,
    }


def cell_json(c: CellResult) -> dict[str, Any]:
    return {
        "case": c.case,
        "dtype": c.dtype,
        "device": c.device,
        "failed": c.failed,
        "skipped": c.skipped,
        "error": c.error,
        "missing": c.missing,
        "step_failures": c.step_failures,
        "trajectory_failures": c.trajectory_failures,
        "walk": walk_json(c.walk) if c.walk else None,
    }


def heading(case: Case, config: str, source: str) -> str:
    """'mazur-2015 under as-written (the post's rule: ...), my.values:': the rule by its id and in
    the words of its `doc`, which a reader of the source understands."""
    doc = case.configs[config].doc.strip().rstrip(".")
    return f"{case.name} under {config}" + (f" ({doc})" if doc else "") + f", {source}:"


TOO_COARSE = "not verified: one unit of the last digit written is as large as the value; write more digits"


def _from(c: Checked, written: dict[str, str]) -> str:
    """'out_h1 = 0.59, out_h2 = 0.5969': the given values a value was recomputed from."""
    return ", ".join(f"{q} = {written[q]}" for q in c.from_values)


def _explained(c: Checked, written: dict[str, str]) -> str:
    text = _why(c, written)
    return f"{text} (δ = −dE/dnet)" if c.convention and c.status != "ok" else text


def _why(c: Checked, written: dict[str, str]) -> str:
    if c.status == "too-coarse":
        return TOO_COARSE
    if c.status == "rounding":
        return f"follows from {_from(c, written) or 'the case data'}: rounding, not a mistake"
    if c.status == "carried":
        also = f"; also what {', '.join(c.explained_by)} gives" if c.explained_by else ""
        return f"carried from {', '.join(c.carried_from)} (recomputed from your {', '.join(c.from_values)}){also}"
    if c.explained_by:
        return ", ".join(c.explained_by)
    if c.nearest:
        return (
            f"nothing at the precision given; nearest: {', '.join(c.nearest)} (would match at {c.nearest_matches_at})"
        )
    if c.status == "ok":
        return CONSISTENT if c.convention else ""
    return "nothing in the catalogue"


def walk_text(w: Walk, given: str = "given", every: bool = True) -> list[str]:
    """The walk as a table (`every`: the ok rows too), then what it comes to: the first wrong
    value and what follows from it, what only follows from the person's rounding, the
    convention it was checked under, and the diagnosis."""
    written = {c.quantity: c.given for c in w.quantities}
    shown = [c for c in w.quantities if every or c.status != "ok"]
    rows = [("quantity", given, "exact", "status", "why")]
    rows += [(c.quantity, c.given, format(Decimal(c.exact), ".12g"), c.status, _explained(c, written)) for c in shown]
    widths = [max(len(r[k]) for r in rows) for k in range(4)]
    lines = ["  " + "  ".join(v.ljust(n) for v, n in zip(r, widths)) + "  " + r[4] for r in rows]
    lines.insert(1, "  " + "  ".join("-" * n for n in widths) + "  " + "-" * 12)
    counts = w.counts()
    lines.append(
        f"  {counts['checked']} values: {counts['ok']} ok, {counts['wrong']} wrong, {counts['carried']} carried, "
        f"{counts['too-coarse']} too coarse, {counts['rounding']} only your rounding"
    )
    if w.convention:
        lines.append(
            f"  {CONSISTENT}: the deltas are written as -dE/dnet, and the update with them is "
            "w + eta * delta * x: the same descent as the post's; every value is checked under it"
        )
    if w.first_wrong:
        first = w.get(w.first_wrong)
        assert first is not None
        why = f": {', '.join(first.explained_by)}" if first.explained_by else ""
        lines.append(f"  first wrong value: {w.first_wrong} = {first.given} (exact {_short(first.exact)}){why}")
        carried = w.carried_from(w.first_wrong)
        if carried:
            lines.append(
                f"  carried from it (right from your {w.first_wrong}, by the correct formulas): {', '.join(carried)}"
            )
        others = [q for q in w.with_status("wrong") if q != w.first_wrong]
        if others:
            lines.append(f"  also wrong, not carried from an earlier value: {', '.join(others)}")
    rounding = [c for c in w.quantities if c.status == "rounding"]
    if rounding:
        lines.append("  carried from your own rounding, not a mistake:")
        lines += [f"    {c.quantity} = {c.given} follows from {_from(c, written)}" for c in rounding]
    if w.with_status("too-coarse"):
        lines.append(f"  too coarse to verify: {', '.join(w.with_status('too-coarse'))}")
    for d in w.diagnosis:
        mark = " (explains the first wrong value)" if d["explains_first_wrong"] else ""
        lines.append(f"  mistake {d['mistake']}{mark}: {d['title']}")
        lines.append(f"    source: {d['source']}")
        lines.append(f"    explains: {', '.join(d['explains'])}")
    lines += [f"  note: {n}" for n in w.notes]
    return lines


def _short(exact: str) -> str:
    return format(Decimal(exact), ".12g")


def cells_text(cells: list[CellResult]) -> str:
    out = []
    for c in cells:
        head = f"{c.case}  {c.dtype}  {c.device}: "
        if c.skipped:
            out.append(head + f"skipped: {c.skipped}")
            continue
        if c.error:
            out.append(head + f"error: {c.error}")
            continue
        out.append(head + ("FAILED" if c.failed else "ok"))
        if c.walk and c.walk.failed:
            out += walk_text(c.walk, "yours", every=False)
        out += [f"  missing {q}: {e}" for q, e in c.missing.items()]
        if c.trajectory_failures:
            out.append(f"  after N updates, failing: {', '.join(c.trajectory_failures)}")
    return "\n".join(out)
