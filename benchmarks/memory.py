"""Peak memory (RSS of the whole process tree) and time of `bpcheck run` on [W, W, 1] networks
(sigmoid, half-SSE, per-neuron biases, one example, drawn weights), and the bytes per parameter
between sizes: the figures behind bpcheck/size.py's constants and docs/limits.md.

    python benchmarks/memory.py                 # 300, 1000
    python benchmarks/memory.py 300 1000 2000   # 2000: 4,004,001 parameters, minutes and ~1 GB

Each size runs in a fresh process with the oracle's disk cache off, numpy in float64, no
trajectories and --allow-large. The peak is the larger of the RSS of the whole process tree,
summed over its processes every 50 ms from /proc, and the largest process's own peak
(`/usr/bin/time -v`, where present: exact, but per process).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

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
    cmd += ["--dtype", "float64", "--no-trajectories", "--no-report", "--allow-large"]
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    env = {**os.environ, "BPCHECK_ORACLE_CACHE": "off"}
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        run = subprocess.Popen(timer + cmd, stdout=out, stderr=err, text=True, env=env, cwd=ROOT)
        tree = 0
        while run.poll() is None:
            tree = max(tree, tree_rss(run.pid, skip_root=bool(timer)))
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        err.seek(0)
        stderr = err.read()
    if run.returncode not in (0, 1):
        raise SystemExit(f"[{width}, {width}, 1] failed: {stderr[-2000:]}")
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    largest = float(found.group(1)) * 1024 if found else 0.0
    return width * width + width + width + 1, seconds, max(float(tree), largest)


def tree_rss(pid: int, skip_root: bool = False) -> int:
    """The resident bytes of `pid` and all its descendants now (what /proc tells; 0 without it)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])  # after the command name
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        if skip_root and p == pid:
            continue
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


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
