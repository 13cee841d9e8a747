"""Peak memory (RSS of the whole process tree) and time of `bpcheck run` on [W, W, 1] networks
(sigmoid, half-SSE, per-neuron biases, one example, drawn weights), and the bytes per parameter
between sizes: the figures behind bpcheck/size.py's constants and docs/limits.md.

    python benchmarks/memory.py                 # 300, 1000
    python benchmarks/memory.py 300 1000 2000   # 2000: 4,004,001 parameters, minutes and ~GBs

Each size runs in a fresh process (`/usr/bin/time -v` where present, for the children too), with
the oracle's disk cache off, numpy in float64, no trajectories and --allow-large.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = """name = "wide-{w}"
[network]
layer_sizes = [{w}, {w}, 1]
activations = ["sigmoid", "sigmoid"]
loss = "half-sse"
bias = "per-neuron"
[data]
inputs = [[{inputs}]]
targets = [["0.3"]]
[initializer]
name = "normal"
seed = 1
scale = 0.05
[training]
learning_rate = "0.5"
default_config = "plain"
[configs.plain]
update_order = "simultaneous"
update_biases = true
"""


def measure(width: int, folder: Path) -> tuple[int, float, float]:
    """(parameters, seconds, peak bytes) of one run."""
    inputs = ", ".join(repr(round(0.1 * ((k * 37) % 11 - 5), 1)) for k in range(width))
    path = folder / f"wide-{width}.toml"
    path.write_text(CASE.format(w=width, inputs=inputs))
    cmd = [sys.executable, "-m", "bpcheck.cli", "run", "--case", str(path), "--backend", "numpy"]
    cmd += ["--dtype", "float64", "--no-trajectories", "--no-report", "--allow-large", "--jobs", "1"]
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    env = {**os.environ, "BPCHECK_ORACLE_CACHE": "off"}
    start = time.perf_counter()
    done = subprocess.run(timer + cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"[{width}, {width}, 1] failed: {done.stderr[-2000:]}")
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    peak = float(found.group(1)) * 1024 if found else float("nan")
    return width * width + width + width + 1, seconds, peak


def main(widths: list[int]) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for w in widths:
            p, seconds, peak = measure(w, Path(tmp))
            rows.append((w, p, seconds, peak))
            print(
                f"[{w}, {w}, 1]  {p:>10,} parameters  {seconds:7.1f} s  {peak / 2**20:8.0f} MB peak  "
                f"{peak / p / 1024:6.2f} KB per parameter",
                flush=True,
            )
    for (w1, p1, s1, m1), (w2, p2, s2, m2) in zip(rows, rows[1:]):
        print(
            f"[{w1}] -> [{w2}]: {(m2 - m1) / (p2 - p1):.0f} bytes and {(s2 - s1) / (p2 - p1) * 1e6:.1f} us "
            "per added parameter"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [300, 1000])
