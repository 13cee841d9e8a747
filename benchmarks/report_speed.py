"""`bpcheck report` over every bundled case, timed against another checkout's, alternating runs
so both see the same machine load (the figure for the README's speed section).

    .venv/bin/python benchmarks/report_speed.py [--other /path/to/older/checkout] [--repeat 2]

Each run is a fresh `bpcheck report --out TMP --quiet` process (imports included) with the exact
oracle's cache warm (both checkouts share it when their reference code is the same; the first,
untimed run of each fills it). Prints each run and the median ratio this / other.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def report_seconds(checkout: Path) -> float:
    """One `bpcheck report` of `checkout`, run with that checkout's own .venv."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = [str(checkout / ".venv" / "bin" / "bpcheck"), "report", "--out", f"{tmp}/r", "--quiet"]
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=tmp, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"{checkout}: bpcheck report exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--other", type=Path, required=True, help="a checkout with its own .venv to compare with")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    for checkout in (ROOT, args.other):
        report_seconds(checkout)  # warm the oracle's cache, untimed
    this, other = [], []
    for k in range(args.repeat):
        this.append(report_seconds(ROOT))
        other.append(report_seconds(args.other))
        print(f"run {k + 1}: this {this[-1]:.1f} s, other {other[-1]:.1f} s", flush=True)
    ratio = statistics.median(this) / statistics.median(other)
    print(f"median: this {statistics.median(this):.1f} s, other {statistics.median(other):.1f} s: {ratio:.2f}x")


if __name__ == "__main__":
    main()
