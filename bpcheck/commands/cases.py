"""`bpcheck cases`: the bundled cases."""

from __future__ import annotations

import argparse

from bpcheck.reference.case import bundled_cases, load_case

NAME = "cases"
HELP = "list the bundled cases"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    for name in bundled_cases():
        print(f"{name}: {load_case(name).title}")
    return 0
