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
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from bpcheck import backends
from bpcheck.cliutil import write_atomically
from bpcheck.cost import in_part
from bpcheck.ulps import ulps
from bpcheck.reference import arith
from bpcheck.reference.case import Case, load_case
from bpcheck.reference.oracle import as_dtype_case, cache_dir, rounded_parameters
from bpcheck.reference.quantities import split_trajectory_name
from bpcheck.reference.trace import train

DEFAULT_STEPS = 10_000


def plan(case: Case) -> tuple[str, int]:
    """(config, steps) to draw: enough steps to reach the case's last published E_total@N figure,
    under its rule, if it has one; else its training steps (or 10,000) under its default rule."""
    figures = [f for f in case.published if (split_trajectory_name(f.quantity) or ("",))[0] == "E_total"]
    if figures:
        last = max(figures, key=lambda f: f.updates or 0)
        return last.config or case.default_config, (last.updates or 0) + 1
    return case.default_config, case.steps or DEFAULT_STEPS


def sample_steps(n: int, points: int = 150) -> list[int]:
    """1..n, log-spaced, always including 1 and n."""
    if n <= points:
        return list(range(1, n + 1))
    return sorted({round(math.exp(k * math.log(n) / (points - 1))) for k in range(points)} | {1, n})


def backend_curve(case_ref: str, backend: str, dtype: str, device: str, config: str, steps: int) -> list[float]:
    """E_total of every training step (float64 values) from one backend; runs in a worker."""
    case = load_case(case_ref)
    b = backends.get(backend)
    tr = b.train(case, rounded_parameters(case, dtype), case.configs[config], steps, dtype, device)
    return [float(x) for x in tr.losses]


def exact_curve(case: Case, dtype: str, config: str, steps: int) -> list[str]:
    """The exact E_total of every step (25 significant digits), cached beside the oracle's."""
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


def compute(
    case: Case,
    names: list[str],
    dtypes: list[str],
    steps: int | None = None,
    jobs: int | None = None,
    tick: Any = None,
    part: str = "all",
) -> list[dict[str, Any]]:
    """One curve per available backend x dtype x device: sampled steps, values, exact values
    and ULP distances. `tick(label)` is called as each curve is done."""
    config, n = plan(case)
    n = steps or n
    cells = [
        (b, dt, dev)
        for b in names
        if backends.status(b) == "available" and in_part(b, n, part)
        for dt in dtypes
        for dev in backends.get(b).devices()
    ]
    workers = min(jobs or os.cpu_count() or 1, len(cells))
    ref = str(case.path)
    if workers > 1:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            futures = [pool.submit(backend_curve, ref, b, dt, dev, config, n) for b, dt, dev in cells]
            exact = {dt: exact_curve(case, dt, config, n) for dt in dtypes}
            losses = []
            for f, cell in zip(futures, cells):
                losses.append(_safe(f.result))
                tick and tick(f"curve {'-'.join(cell)}")
    else:
        exact = {dt: exact_curve(case, dt, config, n) for dt in dtypes}
        losses = []
        for cell in cells:
            losses.append(_safe(partial(backend_curve, ref, *cell, config, n)))
            tick and tick(f"curve {'-'.join(cell)}")
    at = sample_steps(n)
    out = []
    for (b, dt, dev), values in zip(cells, losses):
        curve: dict[str, Any] = {"case": case.name, "backend": b, "dtype": dt, "device": dev, "config": config}
        curve["steps"] = at
        curve["exact"] = [exact[dt][k - 1] for k in at]
        if isinstance(values, str):
            curve.update(values=None, ulps=None, error=values)
        else:
            curve["values"] = [values[k - 1] for k in at]
            curve["ulps"] = [round(ulps(values[k - 1], Decimal(exact[dt][k - 1]), dt), 3) for k in at]
            curve["error"] = None
        out.append(curve)
    return out


def _safe(call: Any) -> list[float] | str:
    try:
        return call()  # type: ignore[no-any-return]
    except Exception as err:  # a backend that breaks is a result, not a crash
        return f"{type(err).__name__}: {err}"
