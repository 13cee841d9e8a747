"""How the distance from exact grows with training steps: E_total of the post's example over
10,000 steps, per backend and dtype, in ULPs of the exact E_total of the same step.

    .venv/bin/python benchmarks/trajectory_growth.py [--case mazur-2015] [--steps 10000]

Prints a Markdown table (the README's) of the distance at steps 1, 10, 100, 1,000 and 10,000
and the largest along the way.
"""

from __future__ import annotations

import argparse

from bpcheck import backends, matrix
from bpcheck.reference.case import load_case
from bpcheck.reporting import curves

MARKS = (1, 10, 100, 1000, 10000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", default="mazur-2015")
    parser.add_argument("--steps", type=int, default=10_000)
    args = parser.parse_args()
    case = load_case(args.case)
    names = [n for n in matrix.BUNDLED if backends.status(n) == "available"]
    rows = curves.compute(case, names, list(matrix.DTYPES), args.steps)
    marks = [m for m in MARKS if m <= args.steps]
    print("| backend | dtype | " + " | ".join(f"step {m:,}" for m in marks) + " | largest |")
    print("|---|---|" + "---|" * (len(marks) + 1))
    for r in rows:
        if r["ulps"] is None:
            print(f"| {r['backend']} | {r['dtype']} | {r['error']} |")
            continue
        at = dict(zip(r["steps"], r["ulps"]))
        nearest = [at[min(at, key=lambda s, m=m: abs(s - m))] for m in marks]
        cells = " | ".join(f"{u:g}" for u in nearest)
        print(f"| {r['backend']} | {r['dtype']} | {cells} | {max(r['ulps']):g} |")


if __name__ == "__main__":
    main()
