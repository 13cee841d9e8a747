"""`bpcheck bench`: time every backend through the protocol; bench.json, bench.md, bench.png."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from bpcheck import backends, bench
from bpcheck.cliutil import UsageError, choose, split
from bpcheck.reporting import output

NAME = "bench"
HELP = "time each backend: a forward + backward pass, 10,000 training steps, scaling with width and batch"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", action="append", help="only this backend (repeat or comma-separate)")
    p.add_argument("--dtype", action="append", help="only this dtype: float64, float32 (repeatable)")
    p.add_argument("--quick", action="store_true", help="tiny sizes and few steps (seconds, for tests)")
    p.add_argument(
        "--out",
        default="reports/bench-latest",
        help="output directory: new, empty, or one bpcheck bench wrote (default: reports/bench-latest, which git "
        "ignores; the committed reports/bench is refreshed only when named: --out reports/bench)",
    )
    p.add_argument(
        "--max-seconds",
        type=float,
        help="time cap per point: repeats stop, and larger sizes are skipped, past it (default 2; --quick 0.25)",
    )
    p.add_argument("--render", metavar="JSON", help="measure nothing: redraw bench.md and bench.png from a bench.json")


def _read_bench(path: str) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UsageError(f"{path}: cannot be read as JSON: {err}") from None
    if not isinstance(doc, dict) or doc.get("schema") != "bpcheck-bench/1":
        raise UsageError(f"{path}: not a bench.json (schema bpcheck-bench/1)")
    return doc


def run(args: argparse.Namespace) -> int:
    try:  # before the work, not after it
        out = output.out_path(args.out)
        output.check_into(out, NAME)
    except output.OutputError as err:
        raise UsageError(str(err)) from None
    if args.render:
        doc = _read_bench(args.render)
    else:
        dtypes = choose(split(args.dtype, "dtype"), bench.DTYPES, "dtype")
        asked = split(args.backend, "backend")
        names = choose(asked, backends.names(), "backend")
        if args.max_seconds is not None and not (math.isfinite(args.max_seconds) and args.max_seconds > 0):
            raise UsageError(f"--max-seconds must be a number > 0, got {args.max_seconds:g}")
        for name in asked or []:
            if (why := bench.status(name)) != "available":
                raise UsageError(f"backend {name} is {why}")
        if args.quick:
            settings = bench.quick_settings(names, dtypes, args.max_seconds)
        else:
            settings = bench.Settings(names, dtypes, max_seconds=args.max_seconds or 2.0)
        doc = bench.run(settings, lambda line: print(f"bench: {line}", file=sys.stderr, flush=True))
    if not doc.get("measurements"):
        raise UsageError(f"{args.render or 'the run'}: no measurements, nothing to draw or write")
    try:
        files: dict[str, str | bytes] = {} if args.render else {"bench.json": json.dumps(doc, indent=1) + "\n"}
        files |= bench.render(doc)
        text = bench.text(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        if not args.render:
            raise
        raise UsageError(f"{args.render}: not a bench.json bpcheck can draw ({type(err).__name__}: {err})") from None
    try:
        output.write_files(out, files, NAME)
    except output.OutputError as err:
        raise UsageError(str(err)) from None
    print(text)
    print(f"written: {output.shown(args.out)}/{', '.join(files)}", file=sys.stderr)
    return 0
