"""`bpcheck oracles`: the reference's backprop gradients against finite differences and the
complex step, two oracles that never run a backward pass."""

from __future__ import annotations

import argparse

from bpcheck.cliutil import UsageError, choose, split
from bpcheck.matrix import step_allowances
from bpcheck.reference.case import CaseError, bundled_cases, load_case
from bpcheck.reference.oracle import exact_step
from bpcheck.reference.oracles import complex_step, disagreements

NAME = "oracles"
HELP = "check the reference's gradients against finite differences and the complex step"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--case", action="append", help="bundled case names or .toml paths (default: every bundled case)")


def run(args: argparse.Namespace) -> int:
    names = split(args.case)
    paths = [n for n in names or [] if n.endswith(".toml")]
    chosen = choose([n for n in names or [] if n not in paths] or (None if not paths else []), bundled_cases(), "case")
    bad: list[str] = []
    for name in chosen + paths:
        try:
            case = load_case(name)
        except CaseError as err:
            raise UsageError(str(err)) from None
        found = disagreements(
            case, exact_step(case, "float64"), {k: a.radius for k, a in step_allowances(case, "float64").items()}
        )
        cs = complex_step(case, case.parameters)
        verdict = {o: "DISAGREE" if any(o in line for line in found) else "agree" for o in ("finite", "complex")}
        print(
            f"{case.name}: {len(case.parameters)} gradients; finite differences {verdict['finite']}; "
            f"complex step {cs.not_applicable or verdict['complex']}"
        )
        bad += found
    for line in bad:
        print(f"  {line}")
    return 1 if bad else 0
