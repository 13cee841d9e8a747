"""`bpcheck diff OLD NEW`: what changed between two reports; exit 1 on a regression."""

from __future__ import annotations

import argparse

from bpcheck.cliutil import UsageError
from bpcheck.reporting import diff, results

NAME = "diff"
HELP = "compare two reports (directories, or results.json of report or run); exit 1 on a regression"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", help="the earlier report (e.g. reports/baseline) or its results.json")
    p.add_argument("new", help="the later report or its results.json")


def run(args: argparse.Namespace) -> int:
    try:
        old, new = results.load(args.old), results.load(args.new)
    except results.ResultsError as err:
        raise UsageError(str(err)) from None
    if why := diff.nothing_in_common(old, new):
        raise UsageError(why)
    d = diff.compare(old, new)
    print(diff.render(d, args.old, args.new))
    return 1 if d.regression else 0
