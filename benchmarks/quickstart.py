"""Times the README's two commands as a user runs them (fresh processes, imports included).

    ./bpcheck.sh bench [--repeat N]

Runs the main command with a cold oracle cache (a new empty cache directory) and then warm,
and the test suite, each `--repeat` times; prints the median and range, and writes
reports/bench/quickstart.json with the machine it ran on. Targets (issue #2): main command
<= 10 s, test suite <= 30 s wall.
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
    runs: dict[str, list[float]] = {"main, cold oracle cache": [], "main, warm oracle cache": [], "test suite": []}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "BPCHECK_ORACLE_CACHE": cache}
            runs["main, cold oracle cache"].append(timed(main_cmd, env))
            runs["main, warm oracle cache"].append(timed(main_cmd, env))
        runs["test suite"].append(timed(test_cmd, dict(os.environ)))
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
