"""`bpcheck explain QUANTITY`: the chain rule for a quantity, each factor's value per backend."""

from __future__ import annotations

import argparse
import difflib

from bpcheck import backends, engine, matrix, size
from bpcheck.cliutil import UsageError, choose, split
from bpcheck.reference.case import MAIN_CASE, CaseError, load_case
from bpcheck.reporting.explain import explain
from bpcheck.reporting.output import Progress
from bpcheck.verify.values import ValuesError, case_of, read_values

NAME = "explain"
HELP = "show where a quantity's number comes from: its chain rule, each factor's value per backend"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("quantity", help="a quantity name, e.g. dE_total/dw5, delta_h1, w5+, net_o1")
    p.add_argument(
        "--case", help=f"bundled case name or path to a case .toml (default: the values file's, or {MAIN_CASE})"
    )
    p.add_argument("--backend", action="append", help="only this backend (repeat or comma-separate)")
    p.add_argument("--dtype", default="float64", help="float64 (default) or float32")
    p.add_argument("--values", help="your values file: the formula with your own numbers too")
    size.add_argument(p)


def run(args: argparse.Namespace) -> int:
    try:
        default = (case_of(args.values) if args.values else None) or MAIN_CASE
        case = load_case(default if args.case is None else args.case)
    except CaseError as err:
        raise UsageError(str(err)) from None
    dtypes = choose(split([args.dtype], "dtype"), matrix.DTYPES, "dtype")
    if len(dtypes) > 1:
        raise UsageError(f"--dtype takes one dtype here, got {', '.join(dtypes)}")
    size.guard(size.crosscheck([case], len(backends.names()), 1, trajectories=False), args.allow_large)
    valid = [t.quantity for t in matrix.targets(case)]
    if args.quantity not in valid:
        close = difflib.get_close_matches(args.quantity, valid, n=3)
        listed = f"`bpcheck verify --list --case {case.name}` lists them"
        hint = f"did you mean {', '.join(close)}?" if close else listed
        raise UsageError(f"unknown quantity {args.quantity!r} for case {case.name}; {hint}")
    asked = split(args.backend, "backend")
    names = choose(asked, backends.names(), "backend")
    written = None
    if args.values is not None:
        try:
            written = read_values(args.values, case.layout)
        except ValuesError as err:
            raise UsageError(str(err)) from None
    progress = Progress(len(names))  # the frameworks load in the workers, not here
    try:
        computed = engine.Engine([case], names, dtypes, trajectories=False).result(progress.tick)
    finally:
        progress.close()
    for name in asked or []:
        if name in computed.unavailable:
            raise UsageError(f"backend {name} is {computed.unavailable[name]}")
    print(explain(case, args.quantity, names, dtypes[0], written, computed))
    return 0
