"""`bpcheck verify`: check your own numbers, a file of values written by hand or your own
implementation of the protocol, and name the known mistakes that explain the wrong ones."""

from __future__ import annotations

import argparse
import json

from bpcheck import matrix, size
from bpcheck.api import values_document
from bpcheck.cliutil import UsageError, choose, nothing_checked, split
from bpcheck.reference.case import MAIN_CASE, Case, CaseError, bundled_cases, load_case
from bpcheck.verify.check import check_written
from bpcheck.verify.implementation import LoadError, load_backend, verify_backend
from bpcheck.verify.mistakes import CATALOGUE
from bpcheck.verify.render import cell_json, cells_text, heading, walk_text
from bpcheck.verify.values import ValuesError, case_of, read_values

NAME = "verify"
HELP = "check your values (a file) or your implementation (--backend) and diagnose the mistakes"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("values", nargs="?", help="a values file: one 'quantity = value' a line")
    p.add_argument("--backend", help="your implementation: package.module:Object (or a registered backend name)")
    p.add_argument(
        "--case",
        action="append",
        help=f"case name or .toml path (values: one, default {MAIN_CASE}; "
        "--backend: repeatable, default every bundled case)",
    )
    p.add_argument("--config", help="values: the update rule you followed (default: the case's)")
    p.add_argument("--dtype", action="append", help="--backend: only this dtype: float64, float32 (repeatable)")
    p.add_argument("--no-trajectories", action="store_true", help="--backend: skip the N-step figures (quicker)")
    p.add_argument("--list", action="store_true", help="list the case's quantity names and the mistakes catalogue")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    size.add_argument(p)


def _case(name: str) -> Case:
    try:
        return load_case(name)
    except CaseError as err:
        raise UsageError(str(err)) from None


def run(args: argparse.Namespace) -> int:
    cases = split(args.case, "case")
    if args.list:
        return _list(_case((cases or [MAIN_CASE])[0]), args.json)
    if (args.values is None) == (args.backend is None):
        raise UsageError("give either a values file or --backend package.module:Object")
    if args.values is not None:
        if args.dtype or args.no_trajectories:
            raise UsageError("--dtype and --no-trajectories go with --backend, not with a values file")
        if cases and len(cases) > 1:
            raise UsageError("a values file is checked against one case; give --case once")
        return _values(_case((cases or [case_of(args.values) or MAIN_CASE])[0]), args)
    if args.config:
        raise UsageError("--config goes with a values file; --backend uses each case's own rule")
    return _backend(args, [_case(c) for c in (cases or bundled_cases())])


def _values(case: Case, args: argparse.Namespace) -> int:
    config = choose([args.config or case.default_config], list(case.configs), "config")[0]
    try:
        written = read_values(args.values, case.layout)
    except ValuesError as err:
        raise UsageError(str(err)) from None
    w = check_written(case, case.configs[config], written)
    if args.json:
        print(json.dumps(values_document(case, config, args.values, w), indent=1))
    else:
        print("\n".join([heading(case, config, args.values), *walk_text(w, "you wrote")]))
    if not w.counts()["checked"]:
        return nothing_checked(f"{args.values} gave no value of {case.name} to check")
    return 1 if w.failed else 0


def _backend(args: argparse.Namespace, cases: list[Case]) -> int:
    dtypes = choose(split(args.dtype, "dtype"), matrix.DTYPES, "dtype")
    size.guard(size.crosscheck(cases, 1, len(dtypes), not args.no_trajectories), args.allow_large)
    try:
        backend = load_backend(args.backend)
    except LoadError as err:
        raise UsageError(str(err)) from None
    cells = verify_backend(backend, cases, dtypes, not args.no_trajectories)
    failed = [c for c in cells if c.failed]
    if args.json:
        summary = {"cells": len(cells), "failed": len(failed), "skipped": sum(1 for c in cells if c.skipped)}
        print(
            json.dumps({"backend": args.backend, "summary": summary, "cells": [cell_json(c) for c in cells]}, indent=1)
        )
    else:
        print(cells_text(cells))
    if not any(c.walk is not None and not (c.skipped or c.error) for c in cells):
        why = "; ".join(dict.fromkeys(c.skipped or c.error or "" for c in cells)) or "no case and dtype was run"
        return nothing_checked(f"{args.backend} gave no value to check ({why})")
    return 1 if failed else 0


def _list(case: Case, as_json: bool) -> int:
    quantities = [{"quantity": q.name, "stage": q.stage, "formula": q.formula} for q in case.layout.step_quantities]
    mistakes = [{"mistake": m.id, "title": m.title, "source": m.source, "kind": m.kind} for m in CATALOGUE]
    if as_json:
        print(json.dumps({"case": case.name, "quantities": quantities, "mistakes": mistakes}, indent=1))
        return 0
    width = max(len(q["quantity"]) for q in quantities)
    print(f"quantities of one training step of {case.name}:")
    print("\n".join(f"  {q['quantity']:<{width}}  {q['stage']:<12}  {q['formula']}" for q in quantities))
    print("mistakes:")
    kind = lambda m: "" if m["kind"] == "mistake" else f" [a {m['kind']}, not a mistake]"  # noqa: E731
    print("\n".join(f"  {m['mistake']}{kind(m)}: {m['title']}\n    ({m['source']})" for m in mistakes))
    return 0
