"""`bpcheck report`: the cross-check of every case as results.json, report.md and report.html."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bpcheck import backends, matrix, size
from bpcheck.cliutil import UsageError, add_slow_argument, choose, left_out, split
from bpcheck.judge import FAILING
from bpcheck.reference.case import CaseError, bundled_cases, load_case
from bpcheck.reporting.output import Exists, Progress, write_directory

NAME = "report"
HELP = "write results.json, report.md and report.html (with pictures) for every case and backend"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="reports/report", help="report directory (default: reports/report)")
    p.add_argument("--force", action="store_true", help="replace the report directory if it exists")
    p.add_argument("--case", action="append", help="only this case (repeat or comma-separate; default: all bundled)")
    p.add_argument("--backend", action="append", help="only this backend (repeat or comma-separate)")
    p.add_argument("--dtype", action="append", help="only this dtype: float64, float32 (repeatable)")
    p.add_argument("--no-trajectories", action="store_true", help="skip the values that need training (quicker)")
    p.add_argument("--steps", type=int, help="training steps drawn in the pictures (default: the post's 10,000)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPU count)")
    add_slow_argument(p)
    size.add_argument(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar and no closing line")
    p.add_argument(
        "--update-baseline",
        action="store_true",
        help="also replace the committed baseline (reports/baseline/ of the checkout) with these results",
    )


def run(args: argparse.Namespace) -> int:
    from bpcheck.reporting import report  # matplotlib: imported only when a report is drawn

    try:
        cases = [load_case(c) for c in (split(args.case) or bundled_cases())]
    except CaseError as err:
        raise UsageError(str(err)) from None
    dtypes = choose(split(args.dtype), matrix.DTYPES, "dtype")
    asked = split(args.backend)
    names = choose(asked, backends.names(), "backend")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps must be >= 1, got {args.steps}")
    estimate = size.crosscheck(cases, len(names), len(dtypes), not args.no_trajectories, args.steps or 0)
    size.guard(estimate, args.allow_large)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists; use --force to replace it, or --out DIR")
    for name in asked or []:
        if backends.status(name) != "available":
            raise UsageError(f"backend {name} is {backends.status(name)}")
    progress = Progress(report.units(cases, names, dtypes), args.quiet)
    try:
        part = "all" if args.slow or asked else "fast"  # a backend asked for by name runs whole
        doc = report.generate(cases, names, dtypes, args.jobs, not args.no_trajectories, args.steps, progress, part)
        progress.show("drawing the pictures, writing the files")
        write_directory(out, report.files(doc), args.force)
        if args.update_baseline:
            write_directory(report.BASELINE, report.baseline_files(doc), force=True)
    except Exists as err:
        raise UsageError(str(err)) from None
    finally:
        progress.close()
    if not args.quiet:
        failing = sum(r["verdict"] in FAILING for r in doc["records"])
        where = f"{out}/" + (f" and {report.BASELINE}/" if args.update_baseline else "")
        print(f"report: {where} ({len(doc['records'])} values, {failing} failing)", file=sys.stderr)
        if note := left_out(names, args.slow or bool(asked)):
            print(note, file=sys.stderr)
    return 1 if any(r["verdict"] in FAILING for r in doc["records"]) else 0
