"""Each backend's training of the post's example against a lean twin in its own framework.

For numpy, torch and jax-jit, `train(case, params, config, 10_000, dtype, "cpu")` is called
through the protocol, as the harness calls it (mazur-2015 under its as-written rule, float64
and float32), and so is its twin: a loop written as a user of that framework would write it
for exactly that 2-2-2 sigmoid network (jax-jit's: jit and lax.scan). The two run interleaved
in one process, `--repeat` times each; the table gives min and median seconds, backend / twin
(of the minima, and the median of each run's over the twin's run next to it, which the target
is held to: it is the least swayed by other load on a shared machine) and the target: numpy
<= 1.5x, torch <= 1.15x (torch on one thread, as a harness worker). Before timing, each twin's
losses and final weights must agree with the backend's to MAX_ULPS, so both compute the same
thing: the NumPy twin's sigmoid is therefore the overflow-safe form the backend uses (the
textbook 1 / (1 + exp(-z)) rounds differently where z < 0, 18 ULPs off after 10,000 steps).

    .venv/bin/python benchmarks/lean_training.py [--repeat 5] [--steps 10000] [--json PATH]

`measure(repeat)` returns the figures (and the machine's CPUs, processor and versions) as a
dict, for another script; --json writes that dict."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from bpcheck import backends
from bpcheck.reference.case import load_case
from bpcheck.reference.oracle import rounded_parameters
from bpcheck.reporting import environment

CASE, CONFIG, DEVICE = "mazur-2015", "as-written", "cpu"
TARGETS = {"numpy": 1.5, "torch": 1.15, "jax-jit": 1.5}  # backend / twin at most (docs/speed.md)
MAX_ULPS = 4  # how far a twin's final weights and losses may be from the backend's


def _post(params: dict[str, float]) -> tuple[list[list[float]], float, list[list[float]], float]:
    """The post's w1..w4 (i -> h), b1, w5..w8 (h -> o), b2, as its figure numbers them."""
    p = params
    return [[p["w1"], p["w2"]], [p["w3"], p["w4"]]], p["b1"], [[p["w5"], p["w6"]], [p["w7"], p["w8"]]], p["b2"]


def numpy_twin(x: Any, t: Any, params: dict[str, float], eta: float, steps: int, dtype: str) -> tuple[Any, ...]:
    def sigmoid(z: Any) -> Any:  # never exp of a positive number: no overflow warning
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1, e) / (1 + e)

    w1, b1, w2, b2 = (np.array(v, dtype) for v in _post(params))
    x, t, eta = np.array(x, dtype), np.array(t, dtype), np.dtype(dtype).type(eta)
    losses = np.empty(steps, dtype)
    for k in range(steps):
        h = sigmoid(x @ w1.T + b1)
        o = sigmoid(h @ w2.T + b2)
        losses[k] = (0.5 * (t - o) ** 2).sum()
        d2 = (o - t) * (o * (1 - o))
        d1 = (d2 @ w2) * (h * (1 - h))
        w2 = w2 - eta * (d2.T @ h)
        w1 = w1 - eta * (d1.T @ x)
    return w1, w2, losses


def torch_twin(x: Any, t: Any, params: dict[str, float], eta: float, steps: int, dtype: str) -> tuple[Any, ...]:
    import torch

    tensor = partial(torch.tensor, dtype=getattr(torch, dtype))
    w1, b1, w2, b2 = (tensor(v) for v in _post(params))
    w1.requires_grad_(), w2.requires_grad_()
    x, t = tensor(x), tensor(t)
    losses = []
    for _ in range(steps):
        o = torch.sigmoid(torch.sigmoid(x @ w1.T + b1) @ w2.T + b2)
        loss = (0.5 * (t - o) ** 2).sum()
        g1, g2 = torch.autograd.grad(loss, (w1, w2))
        with torch.no_grad():
            w1 -= eta * g1
            w2 -= eta * g2
        losses.append(loss.detach())
    return w1.detach(), w2.detach(), torch.stack(losses)


_jax_scans: dict[int, Callable[..., Any]] = {}


def jax_twin(x: Any, t: Any, params: dict[str, float], eta: float, steps: int, dtype: str) -> tuple[Any, ...]:
    import jax
    import jax.numpy as jnp

    if steps not in _jax_scans:

        def loss(w: Any, b: Any, x: Any, t: Any) -> Any:
            o = jax.nn.sigmoid(jax.nn.sigmoid(x @ w[0].T + b[0]) @ w[1].T + b[1])
            return (0.5 * (t - o) ** 2).sum()

        def train(w: Any, b: Any, x: Any, t: Any, eta: Any) -> Any:
            def step(w: Any, _: Any) -> Any:
                e, g = jax.value_and_grad(loss)(w, b, x, t)
                return [wl - eta * gl for wl, gl in zip(w, g)], e

            return jax.lax.scan(step, w, None, length=steps)

        _jax_scans[steps] = jax.jit(train)
    w1, b1, w2, b2 = (jnp.asarray(v, dtype) for v in _post(params))
    (w1, w2), losses = _jax_scans[steps]([w1, w2], [b1, b2], jnp.asarray(x, dtype), jnp.asarray(t, dtype), eta)
    return jax.device_get((w1, w2, losses))


TWINS = {"numpy": numpy_twin, "torch": torch_twin, "jax-jit": jax_twin}


def _ulps(a: Any, b: Any, dtype: str) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    unit = np.spacing(np.maximum(abs(a), abs(b)).astype(dtype)).astype(np.float64)
    return float((abs(a - b) / unit).max())


def _check(name: str, dtype: str, trained: Any, twin: tuple[Any, ...]) -> float:
    """The twin's final w1..w8 and every loss against the backend's: the most ULPs apart."""
    w1, w2, losses = (np.asarray(v.detach() if hasattr(v, "detach") else v) for v in twin)
    mine = [*w1.ravel(), *w2.ravel()]
    theirs = [trained.params[f"w{k}"] for k in range(1, 9)]
    worst = max(_ulps(mine, theirs, dtype), _ulps(losses, trained.losses, dtype))
    if worst > MAX_ULPS:
        sys.exit(f"{name} {dtype}: the twin is {worst:g} ULPs from the backend, over {MAX_ULPS}: not the same training")
    return worst


def _seconds(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _machine() -> dict[str, Any]:
    import jax
    import torch

    return {
        "cpu_count": os.cpu_count(),
        "processor": environment.cpu_model(),
        "python": platform.python_version(),
        **{m.__name__: m.__version__ for m in (np, torch, jax)},
    }


def measure(repeat: int = 5, steps: int = 10_000) -> dict[str, Any]:
    """Seconds of each backend's train and its twin's, `repeat` runs each, interleaved."""
    import torch

    torch.set_num_threads(1)
    case = load_case(CASE)
    config = case.configs[CONFIG]
    rows = []
    for name, twin in TWINS.items():
        b = backends.get(name)
        for dtype in ("float64", "float32"):
            params = rounded_parameters(case, dtype)
            calls = {
                "backend": partial(b.train, case, params, config, steps, dtype, DEVICE),
                "twin": partial(twin, case.inputs, case.targets, params, case.learning_rate, steps, dtype),
            }
            ulps = _check(name, dtype, calls["backend"](), calls["twin"]())  # also compiles jax-jit's
            times: dict[str, list[float]] = {"backend": [], "twin": []}
            for k in range(repeat):
                for who in ("backend", "twin") if k % 2 == 0 else ("twin", "backend"):
                    times[who].append(_seconds(calls[who]))
            row: dict[str, Any] = {
                "backend": name,
                "dtype": dtype,
                "steps": steps,
                "ulps_apart": ulps,
                "target": TARGETS[name],
            }
            for who, ts in times.items():
                row |= {f"{who}_seconds": ts, f"{who}_min": min(ts), f"{who}_median": statistics.median(ts)}
            row["ratio_min"] = row["backend_min"] / row["twin_min"]
            row["ratio_paired"] = statistics.median(b / t for b, t in zip(times["backend"], times["twin"]))
            row["holds"] = None if row["target"] is None else row["ratio_paired"] <= row["target"]
            rows.append(row)
    return {"case": CASE, "config": CONFIG, "repeat": repeat, "machine": _machine(), "rows": rows}


def table(figures: dict[str, Any]) -> str:
    """One line per backend and dtype: seconds (min, median), backend / twin (of the minima, and
    the median of the paired runs'), how many ULPs apart their results are, and the target."""
    lines = ["backend  dtype      backend s: min  median   twin s: min  median   ratio: mins  paired  ULPs  target"]
    for r in figures["rows"]:
        seconds = f"{r['backend_min']:15.4f} {r['backend_median']:7.4f} {r['twin_min']:12.4f} {r['twin_median']:7.4f}"
        ratios = f"{r['ratio_min']:12.2f}x {r['ratio_paired']:6.2f}x {r['ulps_apart']:5g}"
        verdict = {None: "none set here", True: "holds", False: "MISSED"}[r["holds"]]
        verdict = verdict if r["target"] is None else f"<= {r['target']}x: {verdict}"
        lines.append(f"{r['backend']:8} {r['dtype']:8} {seconds} {ratios}  {verdict}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--json", metavar="PATH", help="write the figures and the machine's description here")
    args = parser.parse_args()
    figures = measure(args.repeat, args.steps)
    m = figures["machine"]
    print(f"{CASE}, {CONFIG}, {args.steps} steps, repeat {args.repeat}; {m['cpu_count']} CPUs, {m['processor']}")
    print(table(figures))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
