"""`bpcheck run`: the cross-check of one case, as a table or JSON records."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bpcheck import backends, engine, matrix, size, table
from bpcheck.cliutil import UsageError, add_slow_argument, choose, left_out, split
from bpcheck.judge import as_json
from bpcheck.reference.case import MAIN_CASE, CaseError, load_case
from bpcheck.reference.store import write_atomically
from bpcheck.reporting.output import Progress

NAME = "run"
HELP = "cross-check a case on every installed backend"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--case", default=MAIN_CASE, help="bundled case name or path to a case .toml")
    p.add_argument("--backend", action="append", help="only this backend (repeat or comma-separate)")
    p.add_argument("--dtype", action="append", help="only this dtype: float64, float32 (repeatable)")
    p.add_argument("--json", action="store_true", help="print the records as JSON instead of the table")
    p.add_argument("--wide", action="store_true", help="every backend's value in full, however wide the table")
    p.add_argument("--out", help="report directory (default: reports/run-CASE)")
    p.add_argument("--no-report", action="store_true", help="write no report files")
    p.add_argument(
        "--no-trajectories", action="store_true", help="skip the figures that need 10,000 training steps (quicker)"
    )
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPU count)")
    add_slow_argument(p)
    size.add_argument(p)


def run(args: argparse.Namespace) -> int:
    try:
        case = load_case(args.case)
    except CaseError as err:
        raise UsageError(str(err)) from None
    dtypes = choose(split(args.dtype), matrix.DTYPES, "dtype")
    asked = split(args.backend)
    names = choose(asked, backends.names(), "backend")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    size.guard(size.crosscheck([case], len(names), len(dtypes), not args.no_trajectories), args.allow_large)
    part = "all" if args.slow or asked else "fast"  # a backend asked for by name runs whole
    progress = Progress(len(names) * len(dtypes) + (len(dtypes) if matrix.wide(case) else 0))
    try:
        outcome = engine.crosscheck(
            [case], names, dtypes, jobs=args.jobs, trajectories=not args.no_trajectories, part=part, tick=progress.tick
        )
    finally:
        progress.close()
    records, unavailable = outcome.records, outcome.unavailable
    if asked and unavailable:
        name, reason = next(iter(unavailable.items()))
        raise UsageError(f"backend {name} is {reason}")
    notes = ""
    if unavailable:
        notes += "\n\nnot run: " + "; ".join(f"{n}: {s}" for n, s in unavailable.items())
    if note := left_out([n for n in names if n not in unavailable], args.slow or bool(asked)):
        notes += "\n" + note
    text = table.render(records, wide=args.wide, color=sys.stdout.isatty()) + table.wrapped(notes)
    print(json.dumps(as_json(records), indent=1) if args.json else text)
    if not args.no_report:
        out = Path(args.out or Path("reports") / f"run-{case.name}")
        write_atomically(out / "results.json", json.dumps(as_json(records), indent=1) + "\n")
        write_atomically(out / "table.txt", table.render(records, width=120, wide=args.wide) + table.wrapped(notes, 120) + "\n")
        print(f"report: {out}/results.json, {out}/table.txt", file=sys.stderr)
    return 1 if any(r.failed for r in records) else 0
