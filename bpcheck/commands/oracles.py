"""`bpcheck oracles`: the reference's backprop gradients against finite differences and the
complex step, two oracles that never run a backward pass (reference/oracles.py has their error
model and the verdicts: agree, DISAGREE, at a kink, inconclusive, not applicable)."""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from typing import Any

from bpcheck import size
from bpcheck.cliutil import UsageError, choose, split
from bpcheck.matrix import step_conditions
from bpcheck.reference.case import PLAIN, Case, CaseError, bundled_cases, load_case
from bpcheck.reference.oracle import exact_step
from bpcheck.reference.oracles import AGREE, DISAGREE, NOT_APPLICABLE, VERDICTS, Check, GradientCheck, check
from bpcheck.reporting.output import Progress

NAME = "oracles"
HELP = "check the reference's gradients against finite differences and the complex step"
ORACLES = ("finite_differences", "complex_step")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--case", action="append", help="bundled case names or .toml paths (default: every bundled case)")
    p.add_argument("--json", action="store_true", help="print every gradient's values, distances and verdicts as JSON")
    p.add_argument("--verbose", action="store_true", help="a line per gradient and oracle, not only where not agreed")
    size.add_argument(p)


def run(args: argparse.Namespace) -> int:
    names = split(args.case)
    paths = [n for n in names or [] if n.endswith(".toml")]
    chosen = choose([n for n in names or [] if n not in paths] or (None if not paths else []), bundled_cases(), "case")
    cases = [_load(name) for name in chosen + paths]
    size.guard(size.oracles(cases), args.allow_large)
    progress = Progress(len(cases))
    results = []
    for case in cases:
        progress.show(f"oracles {case.name}")
        results.append((case, checks_of(case)))
        progress.tick(f"oracles {case.name}")
    progress.close()
    if args.json:
        print(json.dumps({"cases": [case_json(case, checks) for case, checks in results]}, indent=1))
    else:
        for case, checks in results:
            print("\n".join(case_lines(case, checks, args.verbose)))
    failed = any(getattr(c, o).verdict == DISAGREE for _, checks in results for c in checks for o in ORACLES)
    return 1 if failed else 0


def _load(name: str) -> Case:
    try:
        return load_case(name)
    except CaseError as err:
        raise UsageError(str(err)) from None


def checks_of(case: Case) -> list[GradientCheck]:
    """Both oracles against the exact backprop of the true gradient (the plain rule)."""
    return check(case, exact_step(case, "float64", PLAIN), step_conditions(case))


def summary(checks: list[Check]) -> str:
    """'agree (largest distance 3e-62)' when every gradient agrees; else each verdict's count."""
    counts = Counter(c.verdict for c in checks)
    if set(counts) == {AGREE}:
        return f"agree (largest distance {max(c.distance for c in checks):.2g})"
    if set(counts) == {NOT_APPLICABLE}:
        return f"{NOT_APPLICABLE}: {checks[0].why}"
    return ", ".join(f"{v} on {counts[v]}" for v in VERDICTS if counts[v])


def case_lines(case: Case, checks: list[GradientCheck], verbose: bool = False) -> list[str]:
    """The case's summary line, then the gradients any oracle does not agree on (all: verbose)."""
    lines = [
        f"{case.name}: {len(checks)} gradients; finite differences {summary([c.finite_differences for c in checks])}; "
        f"complex step {summary([c.complex_step for c in checks])}"
    ]
    for c in checks:
        shown = [
            o for o in (c.finite_differences, c.complex_step) if verbose or o.verdict not in (AGREE, NOT_APPLICABLE)
        ]
        if shown:
            lines.append(f"  {c.quantity}: backprop {float(c.backprop)!r}")
            lines += [f"    {_check_line(o)}" for o in shown]
    return lines


def _check_line(o: Check) -> str:
    if o.verdict == NOT_APPLICABLE:
        return f"{o.oracle} {NOT_APPLICABLE}"
    error = "" if o.error is None else f", own error {float(o.error):.2g}"
    why = f" ({o.why})" if o.why else ""
    return f"{o.oracle} {float(o.value)!r}, distance {o.distance:.2g}{error}: {o.verdict}{why}"


def case_json(case: Case, checks: list[GradientCheck]) -> dict[str, Any]:
    return {"case": case.name, "gradients": [gradient_json(c) for c in checks]}


def gradient_json(c: GradientCheck) -> dict[str, Any]:
    """One gradient: the backprop's value and each oracle's value, relative distance to it,
    verdict and reason. Numbers as floats; null where there is none (not applicable, or a
    distance to a backprop of exactly 0 from a value that is not)."""
    return {"quantity": c.quantity, "backprop": float(c.backprop), **{o: _oracle_json(getattr(c, o)) for o in ORACLES}}


def _oracle_json(o: Check) -> dict[str, Any]:
    finite = lambda x: float(x) if x is not None and math.isfinite(float(x)) else None
    out = {"value": finite(o.value), "distance": finite(o.distance), "verdict": o.verdict, "why": o.why}
    return out | ({"error": finite(o.error)} if o.error is not None else {})
