"""Times the README's commands against the floor they cannot go below: the frameworks' imports.

    ./bpcheck.sh timings [--repeat N] [--slow] [--out reports/timings/timings.json]

Every figure comes from one run on one machine, in fresh processes, imports included:
- the floor: `python -c "import X"` for each framework the suite loads (torch, jax, tensorflow,
  autograd), the minimum of `--repeat` runs;
- `bpcheck backends`, and the main command (`bpcheck run --case mazur-2015`, in a temporary
  folder), cold (empty oracle and JAX compilation caches, as on a fresh clone) and warm;
- the default test suite (`pytest -n auto`, as ./bpcheck.sh test runs it), cold and warm;
  with --slow also its slow part (`pytest -n auto -m slow`, warm, once: minutes);
- each backend's 10,000-step training against its lean twin (benchmarks/lean_training.py).

Each command is run `--repeat` times (cold and warm alternating, so both see the same load) and
its median kept. The ratios are to the floor, each against its target (docs/speed.md says why
one misses); all of it is written to `--out` as JSON with the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lean_training  # noqa: E402

from bpcheck.reporting import environment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FRAMEWORKS = ("torch", "jax", "tensorflow", "autograd")
#: (figure, ratio to, at most): main warm to the slowest import; the suite to their sum.
TARGETS = {
    "main command, warm": ("slowest import", 1.3),
    "default suite, warm": ("sum of imports", 2.5),
    "default suite, cold": ("sum of imports", 4.0),
}
SLOW_PART_SECONDS = 300.0  # the slow part's target on 2 cores


def seconds(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall seconds of one command; exits with its last line of stderr if it fails."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"timings: {' '.join(argv)} exited {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
    return took


def imports(repeat: int) -> dict[str, float]:
    """Each framework's import in a fresh process: the minimum of `repeat` runs."""
    python = str(BIN / "python")
    return {m: min(seconds([python, "-c", f"import {m}"], ROOT) for _ in range(repeat)) for m in FRAMEWORKS}


def cold_and_warm(argv: list[str], cwd: Path, repeat: int) -> dict[str, list[float]]:
    """`repeat` pairs: the command with empty caches, then again with the caches it filled."""
    runs: dict[str, list[float]] = {"cold": [], "warm": []}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "BPCHECK_ORACLE_CACHE": cache, "BPCHECK_JAX_CACHE": cache}
            runs["cold"].append(seconds(argv, cwd, env))
            runs["warm"].append(seconds(argv, cwd, env))
    return runs


def measure(repeat: int, slow: bool) -> dict[str, Any]:
    floor = imports(repeat)
    bpcheck, python = str(BIN / "bpcheck"), str(BIN / "python")
    runs: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as here:
        runs["bpcheck backends"] = [seconds([bpcheck, "backends"], Path(here)) for _ in range(repeat)]
        main = cold_and_warm([bpcheck, "run", "--case", "mazur-2015"], Path(here), repeat)
    suite = cold_and_warm([python, "-m", "pytest", "-n", "auto"], ROOT, repeat)
    runs |= {f"main command, {k}": v for k, v in main.items()} | {f"default suite, {k}": v for k, v in suite.items()}
    if slow:
        runs["slow part, warm"] = [seconds([python, "-m", "pytest", "-n", "auto", "-m", "slow"], ROOT)]
    median = {k: statistics.median(v) for k, v in runs.items()}
    base = {"slowest import": max(floor.values()), "sum of imports": sum(floor.values())}
    checks: list[dict[str, Any]] = []
    for what, (to, target) in TARGETS.items():
        ratio = median[what] / base[to]
        checks.append({"what": what, "seconds": median[what], "to": to, "ratio": ratio, "target": target})
    if slow:
        took = median["slow part, warm"]
        checks.append({"what": "slow part, warm", "seconds": took, "to": None, "ratio": None})
        checks[-1]["target"] = SLOW_PART_SECONDS
    for c in checks:
        c["holds"] = (c["ratio"] if c["ratio"] is not None else c["seconds"]) <= c["target"]
    return {
        "date": time.strftime("%Y-%m-%d"),
        "commit": environment.git_commit(),
        "machine": {"cpus": os.cpu_count(), "processor": environment.cpu_model(), "python": sys.version.split()[0]},
        "load_before": os.getloadavg()[0],
        "repeat": repeat,
        "imports": floor,
        "floor": base,
        "seconds": runs,
        "median": median,
        "checks": checks,
        "training": lean_training.measure(repeat),
    }


def render(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    out = [f"{doc['date']}, {m['cpus']} CPUs, {m['processor']}, load {doc['load_before']:.1f} before"]
    out[0] += f"; median of {doc['repeat']} runs"
    out.append("imports: " + ", ".join(f"{k} {v:.2f} s" for k, v in doc["imports"].items()))
    out += [f"{k}: {v:.2f} s" for k, v in doc["median"].items()]
    for c in doc["checks"]:
        got = f"{c['ratio']:.2f}x the {c['to']}" if c["ratio"] is not None else f"{c['seconds']:.0f} s"
        bound = f"{c['target']}x" if c["ratio"] is not None else f"{c['target']:.0f} s"
        out.append(f"{c['what']}: {got} (target <= {bound}): {'holds' if c['holds'] else 'MISSED'}")
    out.append(lean_training.table(doc["training"]))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--slow", action="store_true", help="time the slow part too (minutes)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "timings" / "timings.json")
    args = parser.parse_args()
    doc = measure(args.repeat, args.slow)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(render(doc))
    print(f"written: {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
