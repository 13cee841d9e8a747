"""`bpcheck cases`: the bundled cases, each with the question it answers."""

from __future__ import annotations

import argparse
import textwrap

from bpcheck.reference.case import bundled_cases, load_case

NAME = "cases"
HELP = "list the bundled cases and the question each answers"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    for name in bundled_cases():
        case = load_case(name)
        print(f"{name}: {case.title}")
        if case.question:
            print(textwrap.fill(case.question, width=78, initial_indent="    ", subsequent_indent="    "))
    return 0
