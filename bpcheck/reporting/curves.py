"""Training curves for the pictures: E_total at every training step per backend and dtype,
beside the exact E_total of the same step, sampled at ~150 log-spaced steps.

A curve's step k (1-based) is the error in the forward pass of the k-th training step, i.e.
after k-1 updates: `Training.losses[k - 1]`. The post's "after 10,000 rounds" figure
(0.0000351085) is read the same way (loss-of-last-step; see reference/cases/mazur-2015.toml).
"""

from __future__ import annotations

import hashlib
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

from bpcheck.cliutil import write_atomically
from bpcheck.engine import CurvePlan
from bpcheck.judge import Cell
from bpcheck.reference import arith
from bpcheck.reference.case import Case
from bpcheck.reference.oracle import as_dtype_case, cache_dir, rounded_parameters
from bpcheck.reference.quantities import split_trajectory_name
from bpcheck.reference.trace import train
from bpcheck.reference.ulps import ulps

DEFAULT_STEPS = 10_000


def plan(case: Case, steps: int | None = None) -> CurvePlan:
    """What to draw: enough steps to reach the case's last published E_total@N figure, under
    its rule, if it has one; else its training steps (or 10,000) under its default rule.
    `steps` overrides the count."""
    figures = [f for f in case.published if (split_trajectory_name(f.quantity) or ("",))[0] == "E_total"]
    if figures:
        last = max(figures, key=lambda f: f.updates or 0)
        config, n = last.config or case.default_config, (last.updates or 0) + 1
    else:
        config, n = case.default_config, case.steps or DEFAULT_STEPS
    return CurvePlan(case, config, steps or n)


def sample_steps(n: int, points: int = 150) -> list[int]:
    """1..n, log-spaced, always including 1 and n."""
    if n <= points:
        return list(range(1, n + 1))
    return sorted({round(math.exp(k * math.log(n) / (points - 1))) for k in range(points)} | {1, n})


def exact_curve(p: CurvePlan, dtype: str) -> list[str]:
    """The exact E_total of every step (25 significant digits), cached beside the oracle's."""
    case, config, steps = p.case, p.config, p.steps
    src = Path(arith.__file__).parent
    h = hashlib.sha256(case.path.read_bytes())
    for name in ("arith.py", "backprop.py", "mlp.py", "trace.py"):
        h.update((src / name).read_bytes())
    h.update(repr((dtype, config, steps, arith.EXACT_DIGITS)).encode())
    folder = cache_dir()
    path = folder.parent / "curves" / f"{h.hexdigest()[:32]}.json" if folder else None
    if path is not None and path.exists():
        try:
            cached = json.loads(path.read_text())
            if isinstance(cached, list) and len(cached) == steps:
                return cached
        except (OSError, ValueError):
            pass
    a = arith.exact()
    tr = train(as_dtype_case(case, dtype), rounded_parameters(case, dtype), case.configs[config], steps, a)
    with a.context():
        out = [format(Decimal(a.to_str(x)), ".25g") for x in tr.losses]
    if path is not None:
        try:
            write_atomically(path, json.dumps(out))
        except OSError:
            pass  # a cache that cannot be written is only slower
    return out


def assemble(p: CurvePlan, losses: dict[Cell, list[float] | str], exact: dict[str, list[str]]) -> list[dict[str, Any]]:
    """One curve per cell the engine trained (`losses`: E_total per step, or why not):
    sampled steps, values, exact values and ULP distances."""
    at = sample_steps(p.steps)
    out = []
    for cell, values in losses.items():
        curve: dict[str, Any] = {
            "case": p.case.name,
            "backend": cell.backend,
            "dtype": cell.dtype,
            "device": cell.device,
            "config": p.config,
        }
        curve["steps"] = at
        curve["exact"] = [exact[cell.dtype][k - 1] for k in at]
        if isinstance(values, str):
            curve.update(values=None, ulps=None, error=values)
        else:
            curve["values"] = [values[k - 1] for k in at]
            curve["ulps"] = [round(ulps(values[k - 1], Decimal(exact[cell.dtype][k - 1]), cell.dtype), 3) for k in at]
            curve["error"] = None
        out.append(curve)
    return out
