"""What every `bpcheck` subcommand shares: one-line usage errors, name checks, the slow option."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn


class UsageError(Exception):
    """Bad input: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def split(values: list[str] | None) -> list[str] | None:
    """["a,b", "c"] -> ["a", "b", "c"]; None stays None."""
    return None if values is None else [v.strip() for arg in values for v in arg.split(",") if v.strip()]


def choose(asked: list[str] | None, valid: Sequence[str], what: str) -> list[str]:
    """The asked names (all valid ones when None); an unknown name is a UsageError listing the valid ones."""
    if asked is None:
        return list(valid)
    for name in asked:
        if name not in valid:
            raise UsageError(f"unknown {what} {name!r}; valid: {', '.join(valid)}")
    return list(dict.fromkeys(asked))


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
