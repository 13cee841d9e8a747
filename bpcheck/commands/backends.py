"""`bpcheck backends`: every registered backend and whether it can run here."""

from __future__ import annotations

import argparse

from bpcheck import backends as registry

NAME = "backends"
HELP = "list backends and whether each is available"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    for name in registry.names():
        print(f"{name}: {registry.status(name)}")
    return 0
