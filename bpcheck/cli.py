"""The `bpcheck` command: subcommands are the modules of bpcheck/commands/."""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import pkgutil
import signal
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from bpcheck import commands
from bpcheck.backends import faults
from bpcheck.cliutil import Parser, UsageError

#: Listed first in --help, in this order; any other command module follows alphabetically.
FIRST = ("run", "backends", "cases")


def _commands() -> dict[str, ModuleType]:
    names = [m.name for m in pkgutil.iter_modules(commands.__path__)]
    names = [n for n in FIRST if n in names] + sorted(n for n in names if n not in FIRST)
    modules = [importlib.import_module(f"bpcheck.commands.{n}") for n in names]
    return {m.NAME: m for m in modules}


class _Version(argparse.Action):
    """`bpcheck --version`: the package's version, and the commit when run from its own checkout
    (looked up only when asked: git costs a subprocess)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from bpcheck.reporting.environment import git_commit, tool_version

        commit = git_commit()
        print(f"bpcheck {tool_version() or '(not installed)'}" + (f" (commit {commit[:12]})" if commit else ""))
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    """Runs a command. Ctrl-C prints one line and exits 130 (the engine has stopped its workers
    by then); a KeyboardInterrupt that a plug-in raises itself is that plug-in's failure, not an
    interrupt (backends/faults.py)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        if argv is None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the program is ending: a second Ctrl-C prints nothing
        print("bpcheck: interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    try:
        with faults.watching():
            found = _commands()
            parser = Parser(
                prog="bpcheck", description="Check autograd frameworks against a hand-written backprop reference."
            )
            parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
            sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
            for name, module in found.items():
                module.add_arguments(sub.add_parser(name, help=module.HELP))
            try:
                args = parser.parse_args(argv)
            except SystemExit as done:  # --help and --version print, then exit 0
                return int(done.code or 0)
            code = int(found[args.command].run(args))
            sys.stdout.flush()  # a stdout that cannot take the output fails here, not at exit
            return code
    except UsageError as err:
        print(f"bpcheck: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `bpcheck run | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as err:  # stdout that cannot be written: /dev/full (ENOSPC), a closed pipe, EIO
        if err.errno not in (errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EDQUOT, errno.EFBIG):
            raise
        try:  # what is left in stdout's buffer goes nowhere, so the exit does not fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        print(f"bpcheck: error: cannot write the output: {err.strerror or err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
