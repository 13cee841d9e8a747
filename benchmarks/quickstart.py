"""Times the README's two commands as a user runs them (fresh processes, imports included).

    ./bpcheck.sh timings [--repeat N]

Runs the main command and the default test suite, each first with cold caches (a new empty
directory for the exact oracle's cache and JAX's compilation cache, as on a fresh machine) and
then warm, each `--repeat` times; prints the median and range, and writes
reports/bench/quickstart.json with the machine it ran on. Targets: main command <= 10 s
(issue 2), test suite <= 60 s wall (issues 3 and 6).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    main_cmd = [str(BIN / "bpcheck"), "run", "--case", "mazur-2015", "--no-report"]
    test_cmd = [str(BIN / "python"), "-m", "pytest", "-q"]
    names = ["main, cold caches", "main, warm caches", "test suite, cold caches", "test suite, warm caches"]
    runs: dict[str, list[float]] = {k: [] for k in names}
    for _ in range(args.repeat):
        for command, label in ((main_cmd, "main"), (test_cmd, "test suite")):
            with tempfile.TemporaryDirectory() as cache:
                env = {**os.environ, "BPCHECK_ORACLE_CACHE": cache, "BPCHECK_JAX_CACHE": cache}
                runs[f"{label}, cold caches"].append(timed(command, env))
                runs[f"{label}, warm caches"].append(timed(command, env))
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "seconds": {
            k: {"median": round(statistics.median(v), 2), "min": round(min(v), 2), "max": round(max(v), 2)}
            for k, v in runs.items()
        },
    }
    out = ROOT / "reports" / "bench" / "quickstart.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print("| command | median s | min s | max s |\n|---|---|---|---|")
    for k, v in result["seconds"].items():
        print(f"| {k} | {v['median']} | {v['min']} | {v['max']} |")
    print(f"written: {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
