"""`bpcheck backends`: every registered backend and whether it can run here.

By default it imports no framework (a second, not ten): what is installed is read from the
package metadata, with its version and, for what is missing, the pip extra that installs it.
`--probe` loads each backend as a run would, and says whether it really works.
"""

from __future__ import annotations

import argparse

from bpcheck import backends as registry
from bpcheck.backends.declarations import Declaration

NAME = "backends"
HELP = "list backends: installed or not, versions, the extra that installs them (--probe: load each)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--probe", action="store_true", help="load each backend's framework and report whether it runs")


def run(args: argparse.Namespace) -> int:
    for name in registry.names():
        decl = registry.declaration(name)
        found = registry.installed(decl)
        if args.probe:
            state = registry.status(name)
        elif None in found.values():
            state = f"unavailable: {', '.join(d for d, v in found.items() if v is None)} not installed"
        else:
            state = _unprobed(name, decl)
        versions = ", ".join(f"{d} {v}" for d, v in found.items() if v)
        extra = f"pip install 'backprop-crosscheck[{decl.extra}]'" if decl.extra and None in found.values() else ""
        print(f"{name}: {state}" + "".join(f"  ({x})" for x in (versions, extra) if x))
    return 0


def _unprobed(name: str, decl: Declaration) -> str:
    if decl.distributions:
        return "installed"
    if name in registry.bundled():
        return "available"  # needs nothing beyond bpcheck's own dependencies
    return f"registered: {registry.factory_path(name) or 'a factory'} (--probe loads it)"
