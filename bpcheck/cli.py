"""The `bpcheck` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import backends
from bpcheck import crosscheck, table
from reference.case import CaseError, bundled_cases, load_case


class UsageError(Exception):
    """Bad input: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bpcheck", description="Check autograd frameworks against a hand-written backprop reference.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="cross-check a case on every installed backend")
    run.add_argument("--case", default="mazur-2015", help="bundled case name or path to a case .toml")
    run.add_argument("--backend", action="append", help="only this backend (repeat or comma-separate)")
    run.add_argument("--dtype", action="append", help="only this dtype: float64, float32 (repeatable)")
    run.add_argument("--json", action="store_true", help="print the records as JSON instead of the table")
    run.add_argument("--out", help="report directory (default: reports/run-CASE)")
    run.add_argument("--no-report", action="store_true", help="write no report files")
    run.add_argument(
        "--no-trajectories", action="store_true", help="skip the figures that need 10,000 training steps (quicker)"
    )
    run.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPU count)")
    sub.add_parser("backends", help="list backends and whether each is available")
    sub.add_parser("cases", help="list the bundled cases")
    return p


def _split(values: list[str] | None) -> list[str] | None:
    return None if values is None else [v.strip() for arg in values for v in arg.split(",") if v.strip()]


def _choose(asked: list[str] | None, valid: Sequence[str], what: str) -> list[str]:
    if asked is None:
        return list(valid)
    for name in asked:
        if name not in valid:
            raise UsageError(f"unknown {what} {name!r}; valid: {', '.join(valid)}")
    return list(dict.fromkeys(asked))


def _write_report(out: Path, records: list[crosscheck.Record], text: str) -> None:
    """Both files, each written to a temporary name and renamed: never half-written."""
    out.mkdir(parents=True, exist_ok=True)
    for name, content in (("results.json", json.dumps(crosscheck.as_json(records), indent=1)), ("table.txt", text)):
        fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(content + "\n")
        os.replace(tmp, out / name)


def cmd_run(args: argparse.Namespace) -> int:
    try:
        case = load_case(args.case)
    except CaseError as err:
        raise UsageError(str(err)) from None
    dtypes = _choose(_split(args.dtype), crosscheck.DTYPES, "dtype")
    asked = _split(args.backend)
    names = _choose(asked, backends.names(), "backend")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    records, unavailable = crosscheck.run(case, names, dtypes, args.jobs, not args.no_trajectories)
    if asked and unavailable:
        name, reason = next(iter(unavailable.items()))
        raise UsageError(f"backend {name} is {reason}")
    text = table.render(records)
    if unavailable:
        text += "\n\nnot run: " + "; ".join(f"{n}: {s}" for n, s in unavailable.items())
    if args.json:
        print(json.dumps(crosscheck.as_json(records), indent=1))
    else:
        print(text)
    if not args.no_report:
        out = Path(args.out or Path("reports") / f"run-{case.name}")
        _write_report(out, records, text)
        print(f"report: {out}/results.json, {out}/table.txt", file=sys.stderr)
    bad = [r for r in records if r.verdict in ("fail", "not-reproduced")]
    return 1 if bad else 0


def cmd_backends(_: argparse.Namespace) -> int:
    for name in backends.names():
        print(f"{name}: {backends.status(name)}")
    return 0


def cmd_cases(_: argparse.Namespace) -> int:
    for name in bundled_cases():
        case = load_case(name)
        print(f"{name}: {case.title}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return {"run": cmd_run, "backends": cmd_backends, "cases": cmd_cases}[args.command](args)
    except UsageError as err:
        print(f"bpcheck: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bpcheck: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
