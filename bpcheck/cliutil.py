"""What every `bpcheck` subcommand shares: one-line usage errors, name checks, the slow option."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn


class UsageError(Exception):
    """Bad input: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def split(values: list[str] | None, what: str = "name") -> list[str] | None:
    """["a,b", "c"] -> ["a", "b", "c"]; None (the option not given) stays None. An option given a
    value that names nothing (`--backend ''`, `--backend ,`) is a UsageError, whatever else is
    given: an empty selection never means "all", and never runs, writes or overwrites anything."""
    if values is None:
        return None
    names = []
    for arg in values:
        found = [v.strip() for v in arg.split(",") if v.strip()]
        if not found:
            raise UsageError(f"nothing selected: --{what} {arg!r} names no {what}")
        names += found
    return names


def choose(asked: list[str] | None, valid: Sequence[str], what: str) -> list[str]:
    """The asked names (all valid ones when None); an unknown name is a UsageError listing the
    valid ones, and so is a selection that comes to nothing (an empty list, or no valid name)."""
    if asked is None:
        if not valid:
            raise UsageError(f"nothing selected: there is no {what} to choose from")
        return list(valid)
    if not asked:
        raise UsageError(f"nothing selected: no {what} given")
    for name in asked:
        if name not in valid:
            raise UsageError(f"unknown {what} {name!r}; valid: {', '.join(valid)}")
    return list(dict.fromkeys(asked))


def nothing_checked(why: str) -> int:
    """A run or verify that checked no value is not a pass: one line on stderr, exit status 1."""
    print(f"bpcheck: nothing checked: {why}", file=sys.stderr)
    return 1


def add_slow_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--slow",
        action="store_true",
        help="also the slow checks (torch-compile, eager jax, long training runs of eager modes; bpcheck/cost.py); "
        "a backend named with --backend always runs whole",
    )


def left_out(names: list[str], slow: bool) -> str:
    """A line naming what the run leaves out without --slow, or ''."""
    from bpcheck.cost import slow_reason

    if slow:
        return ""
    whole = {n: why for n in names if (why := slow_reason(n, None))}
    training = [n for n in names if n not in whole and slow_reason(n, 10_000)]  # the post's closing figures
    parts = [f"{n} (slow: {why})" for n, why in whole.items()]
    parts += [f"the long training runs of {', '.join(training)}"] if training else []
    return f"left out without --slow: {'; '.join(parts)}" if parts else ""
