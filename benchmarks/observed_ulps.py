"""The largest distance to exact every bundled backend shows, per stage and dtype, over every
bundled case: the numbers the tolerance policy (reference/tolerance.py) is set above.

    .venv/bin/python benchmarks/observed_ulps.py [--json OUT]

Prints, per stage and dtype, the largest ULP distance divided by the quantity's cancellation
factor rho (what the bound scales), where it was seen, and the largest raw ULP distance.
"""

from __future__ import annotations

import argparse
import json

from bpcheck import backends, engine, matrix
from bpcheck.reference.case import bundled_cases, load_case
from bpcheck.reference.quantities import stage


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    args = parser.parse_args()
    worst: dict[tuple[str, str], dict[str, object]] = {}
    cases = {name: load_case(name) for name in bundled_cases()}
    outcome = engine.crosscheck(list(cases.values()), [n for n in backends.names() if n in matrix.BUNDLED])
    for r in outcome.records:
        case, name = cases[r.case], r.case
        if r.ulps is not None:
            key = (stage(case.layout, r.quantity), r.dtype)
            normalized = r.ulps / max(1.0, r.condition)
            w = worst.setdefault(key, {"normalized": 0.0, "where": "", "raw": 0.0})
            if normalized > w["normalized"]:  # type: ignore[operator]
                w.update(normalized=round(normalized, 3), where=f"{r.backend} {name} {r.quantity} (rho {r.condition})")
            w["raw"] = max(w["raw"], r.ulps)  # type: ignore[type-var]
    for (st, dt), w in sorted(worst.items()):
        print(f"{st:13s} {dt}: {w['normalized']:>8} ULPs/rho at {w['where']}; raw max {w['raw']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{st}/{dt}": w for (st, dt), w in sorted(worst.items())}, f, indent=1)


if __name__ == "__main__":
    main()
