"""`bpcheck explain QUANTITY`: the chain rule for a quantity, each factor's value per backend."""

from __future__ import annotations

import argparse

from bpcheck import backends, matrix, size
from bpcheck.cliutil import UsageError, choose, split
from bpcheck.reference.case import MAIN_CASE, CaseError, load_case
from bpcheck.reporting.explain import explain

NAME = "explain"
HELP = "show where a quantity's number comes from: its chain rule, each factor's value per backend"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("quantity", help="a quantity name, e.g. dE_total/dw5, delta_h1, w5+, net_o1")
    p.add_argument("--case", default=MAIN_CASE, help="bundled case name or path to a case .toml")
    p.add_argument("--backend", action="append", help="only this backend (repeat or comma-separate)")
    p.add_argument("--dtype", default="float64", help="float64 (default) or float32")
    size.add_argument(p)


def run(args: argparse.Namespace) -> int:
    try:
        case = load_case(args.case)
    except CaseError as err:
        raise UsageError(str(err)) from None
    choose([args.dtype], matrix.DTYPES, "dtype")
    size.guard(size.crosscheck([case], len(backends.names()), 1, trajectories=False), args.allow_large)
    valid = [t.quantity for t in matrix.targets(case)]
    if args.quantity not in valid:
        raise UsageError(f"unknown quantity {args.quantity!r} for case {case.name}; valid: {', '.join(valid)}")
    asked = split(args.backend)
    names = choose(asked, backends.names(), "backend")
    for name in asked or []:
        if backends.status(name) != "available":
            raise UsageError(f"backend {name} is {backends.status(name)}")
    names = [n for n in names if backends.status(n) == "available"]
    print(explain(case, args.quantity, names, args.dtype))
    return 0
