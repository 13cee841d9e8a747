"""Summarises a thorough Hypothesis run: random cases checked per second per backend, and the
largest ULP distance / rho seen per backend and dtype (for reference/tolerance.py).

    BPCHECK_RECORD_ULPS=/tmp/ulps.jsonl .venv/bin/pytest tests/test_properties.py \\
        --hypothesis-profile=thorough -k numpy
    .venv/bin/python benchmarks/random_cases.py /tmp/ulps.jsonl
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def main() -> None:
    rows = [json.loads(line) for line in open(sys.argv[1])]
    worst: dict[tuple[str, str, str], float] = defaultdict(float)
    seconds: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for r in rows:
        for stage, w in r["worst"].items():
            key = (stage, r["backend"], r["dtype"])
            worst[key] = max(worst[key], w)
        seconds[r["backend"]] += r["seconds"]
        count[r["backend"]] += 1
    print("| stage | backend | dtype | random cases | worst ULPs / rho |\n|---|---|---|---|---|")
    for (stage, b, dt), w in sorted(worst.items()):
        n = sum(1 for r in rows if r["backend"] == b and r["dtype"] == dt)
        print(f"| {stage} | {b} | {dt} | {n} | {w:.3g} |")
    print("\n| backend | cases per second (one step, both dtypes' backend time only) |\n|---|---|")
    for b in sorted(count):
        print(f"| {b} | {count[b] / 2 / seconds[b]:.1f} |")


if __name__ == "__main__":
    main()
