"""`bpcheck bench`: how fast each backend runs through the protocol.

Per backend, device and dtype: one forward + backward pass of the post's example, a training
run of it (10,000 steps, fewer where that would pass the time cap), and seconds per training
step as a W-W-W network widens and as the post's 2-2-2 network gets B examples. The width and
batch figures are differential, (t(1 + k) - t(1)) / k, so that the protocol's fixed cost per
call (the parameters in and out as a dict of floats) is left out and kept apart. Every time is
the best (min) of timed repeats after a warm-up call (time.perf_counter), kept with its raw
times, as seconds per step and as the ratio to the fastest backend measured in the same run.
`render` draws bench.md and bench.png from the JSON document alone.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from functools import cache, partial
from typing import Any

from bpcheck import backends
from bpcheck.reference.case import MAIN_CASE, Case, load_case, parse_case
from bpcheck.reference.oracle import rounded_parameters

DTYPES = ("float64", "float32")
MEASUREMENTS = ("forward-backward", "train", "width", "batch")
CASE = MAIN_CASE
FB_METHOD = (
    "forward() + gradients() with a fresh parameter dict each call, every value nudged by k float64 ULPs"
    " on call k (so StepBackend's trace cache never answers)"
)
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Settings:
    backends: list[str]
    dtypes: list[str]
    quick: bool = False
    max_seconds: float = 2.0  # per point: repeats stop, and larger sizes are skipped, past it
    series_factor: float = 15.0  # a width or batch series stops after this many max_seconds
    once_factor: float = 10.0  # a training run whose first call takes longer is not repeated
    repeats: int = 5
    train_steps: int = 10_000  # fewer where a probe projects them over max_seconds
    train_probe_steps: int = 100  # the training run's probe call (its first train() call)
    scaling_steps: int = 10  # k of the first size's probe call, train(1 + k)
    max_scaling_steps: int = 10_000  # k's upper bound in a width or batch point
    min_difference: float = 5e-3  # k is chosen so that k steps take ~max(t(1), this) seconds
    widths: tuple[int, ...] = tuple(2**k for k in range(1, 11))  # 2 .. 1024
    batches: tuple[int, ...] = tuple(4**k for k in range(7))  # 1 .. 4096
    seed: int = 2015


def quick_settings(names: list[str], dtypes: list[str], max_seconds: float | None) -> Settings:
    """Tiny sizes and few steps (for tests)."""
    return Settings(
        names,
        dtypes,
        True,
        max_seconds or 0.25,
        repeats=2,
        train_steps=100,
        train_probe_steps=20,
        scaling_steps=2,
        max_scaling_steps=20,
        widths=(2, 4, 8),
        batches=(1, 4, 16),
    )


def status(name: str) -> str:
    """backends.status, with a backend that fails to load in any way reported, not raised."""
    try:
        return backends.status(name)
    except Exception as err:
        return f"unavailable: {type(err).__name__}: {err}"


# --- generated cases ---------------------------------------------------------------------------


def _toml(table: dict[str, Any], prefix: str = "") -> list[str]:
    """TOML lines for a dict of strings, ints, bools, lists and sub-tables."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "[" + ", ".join(map(value, v)) + "]"
        return json.dumps(v) if isinstance(v, str) else str(v)

    lines = [f"{k} = {value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    for k, v in table.items():
        if isinstance(v, dict):
            lines += ["", f"[{prefix}{k}]", *_toml(v, f"{prefix}{k}.")]
    return lines


def _numbers(values: Iterable[float]) -> list[str]:
    return [repr(float(v)) for v in values]  # decimal strings: parse_case reads them exactly


@cache
def width_case(width: int, seed: int) -> Case:
    """W-W-W sigmoid network, half-SSE, per-neuron biases, one example, Xavier-uniform weights."""
    import numpy as np

    rng = np.random.default_rng([seed, width])
    raw = {
        "name": f"width-{width}",
        "title": f"{width}-{width}-{width} sigmoid network, half-SSE, one example",
        "network": {"layer_sizes": [width] * 3, "activation": "sigmoid", "loss": "half-sse", "bias": "per-neuron"},
        "data": {"inputs": _numbers(rng.uniform(0, 1, width)), "targets": _numbers(rng.uniform(0.01, 0.99, width))},
        "initializer": {"name": "xavier-uniform", "seed": seed},
        "training": {"learning_rate": "0.5", "default_config": "plain"},
        "configs": {"plain": {"doc": "gradient descent", "update_order": "simultaneous", "update_biases": True}},
    }
    return parse_case("\n".join(_toml(raw)))


@cache
def batch_case(batch: int, seed: int) -> Case:
    """The post's 2-2-2 network and weights with `batch` examples (the first the post's own), mean error."""
    import numpy as np

    post = load_case(CASE)
    rng = np.random.default_rng([seed, batch])
    inputs = [list(post.inputs[0])] + rng.uniform(0, 1, (batch - 1, 2)).tolist()
    targets = [list(post.targets[0])] + rng.uniform(0.01, 0.99, (batch - 1, 2)).tolist()
    raw = {
        "name": f"batch-{batch}",
        "title": f"the post's 2-2-2 network, {batch} examples, mean error",
        "network": {"layer_sizes": [2, 2, 2], "activation": "sigmoid", "loss": "half-sse", "bias": "shared-per-layer"},
        "data": {
            "inputs": [_numbers(r) for r in inputs],
            "targets": [_numbers(r) for r in targets],
            "reduction": "mean",
        },
        "parameters": dict(zip(post.parameters, _numbers(post.parameters.values()))),
        "training": {"learning_rate": "0.5", "default_config": "as-written"},
        "configs": {"as-written": {"doc": "the post's rule", "update_order": "simultaneous", "update_biases": False}},
    }
    return parse_case("\n".join(_toml(raw)))


# --- timing ------------------------------------------------------------------------------------


def _seconds(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _repeat(call: Callable[[], object], repeats: int, cap: float, once: float) -> tuple[float, list[float]]:
    """(the warm-up call's seconds, each timed repeat's): repeats stop once the next would pass
    `cap` seconds for the whole point; there is one unless the warm-up took over `once` seconds."""
    start = time.perf_counter()
    first, raw = _seconds(call), list[float]()
    while len(raw) < repeats and first <= once:
        raw.append(_seconds(call))
        if time.perf_counter() - start + raw[-1] > cap:
            break
    return first, raw


def _record(
    measurement: str, name: str, device: str, dtype: str, case: str, size: int | None, steps: int | None
) -> dict[str, Any]:
    return {
        "measurement": measurement,
        "backend": name,
        "device": device,
        "dtype": dtype,
        "case": case,
        "size": size,
        "steps": steps,
        "status": "ok",
        "reason": None,
    }


def _timed(rec: dict[str, Any], first: float, raw: list[float], calls: int = 1) -> dict[str, Any]:
    """The record with its times; with no repeat, only the first call's (status skipped)."""
    best = min(raw, default=None)
    if best is None:
        rec = rec | {"status": "skipped", "reason": f"not repeated: the first call took {first:.3g} s"}
    return rec | {
        "first_seconds": first,
        "raw_seconds": raw,
        "repeats": len(raw),
        "calls_per_repeat": calls,
        "seconds": best,
        "per_step": None if best is None else best / rec["steps"],
        "first_per_step": first / rec["steps"],
    }


def _failed(rec: dict[str, Any], err: Exception) -> dict[str, Any]:
    first = (str(err).strip().splitlines() or [""])[0][:200]
    return rec | {"status": "error", "reason": f"{type(err).__name__}: {first}"}


def forward_backward(b: Any, device: str, dtype: str, s: Settings) -> dict[str, Any]:
    """Seconds per forward() + gradients() of the post's example."""
    case = load_case(CASE)
    rec = _record("forward-backward", b.name, device, dtype, CASE, None, 1) | {"method": FB_METHOD}
    base, k = rounded_parameters(case, dtype), 0

    def fresh() -> dict[str, float]:
        nonlocal k
        k += 1
        return {n: v + k * math.ulp(v) for n, v in base.items()}

    def calls_of(ps: list[dict[str, float]]) -> None:
        for p in ps:
            b.forward(case, p, dtype, device)
            b.gradients(case, p, dtype, device)

    try:
        start = time.perf_counter()
        first = _seconds(lambda: calls_of([fresh()]))
        calls = max(1, min(100_000, int(s.max_seconds / (2 * s.repeats) / _seconds(lambda: calls_of([fresh()])))))
        raw: list[float] = []
        while len(raw) < s.repeats:
            params = [fresh() for _ in range(calls)]
            raw.append(_seconds(partial(calls_of, params)) / calls)
            if time.perf_counter() - start + raw[-1] * calls > s.max_seconds:
                break
        out = _timed(rec, first, raw, calls)
        return out | {"compile_seconds": max(0.0, first - (out["seconds"] or first))}
    except Exception as err:
        return _failed(rec, err)


def _caller(b: Any, case: Case, config: Any, dtype: str, device: str) -> Callable[[int], Callable[[], object]]:
    """steps -> a call of b.train(steps) on the case's parameters rounded to dtype."""
    params = rounded_parameters(case, dtype)
    return lambda steps: partial(b.train, case, params, config, steps, dtype, device)


def _fewer(n: float) -> int:
    """n rounded down to 1, 2 or 5 times a power of ten (at least 1)."""
    e = 10 ** max(0, math.floor(math.log10(max(n, 1))))
    return next(m * e for m in (5, 2, 1) if m * e <= max(n, 1))


def train(b: Any, device: str, dtype: str, s: Settings) -> dict[str, Any]:
    """The post's example trained `train_steps` steps under its as-written rule, or fewer where
    a probe (two calls of `train_probe_steps`) projects them over the cap."""
    case = load_case(CASE)
    rec = _record("train", b.name, device, dtype, CASE, None, s.train_steps)
    call = _caller(b, case, case.configs["as-written"], dtype, device)
    try:
        start, probe = time.perf_counter(), min(s.train_probe_steps, s.train_steps)
        probed = (_seconds(call(probe)), _seconds(call(probe)))
        per, steps = probed[1] / probe, s.train_steps
        if per * steps > s.max_seconds:
            steps = max(probe, min(steps, _fewer(s.max_seconds / per)))
        if steps == probe:  # the probe is the measurement: more repeats of it, within the cap
            first, raw = probed[0], [probed[1]]
            while len(raw) < s.repeats and time.perf_counter() - start + raw[-1] <= s.max_seconds:
                raw.append(_seconds(call(probe)))
        else:
            first, raw = _repeat(call(steps), s.repeats, s.max_seconds, s.once_factor * s.max_seconds)
        out = _timed(rec | {"steps": steps}, first, raw)
        return out | {
            "probe": {"steps": probe, "first_seconds": probed[0], "seconds": probed[1]},
            "projected_seconds": per * s.train_steps,
            "compile_seconds": max(0.0, probed[0] - probed[1], first - (out["seconds"] or first)),
        }
    except Exception as err:
        return _failed(rec, err)


DIFFERENTIAL = (
    "(t(n2) - t(n1)) / (n2 - n1), t the best of repeated train() calls of n1 = 1 and n2 = 1 + k steps"
    " after a warm-up call of each, so the protocol's fixed cost per call drops out"
    " (overhead_seconds = t(n1) - n1 x per_step)"
)


def _point(
    call: Callable[[int], Callable[[], object]], s: Settings, guess: float | None, k: int | None = None
) -> dict[str, Any]:
    """One width or batch point, by the differential rule. k starts from `guess` (seconds per
    step expected here, from the last size), else as given, else at scaling_steps; then, on
    the warm-up and first timed call of 1 + k steps, k grows tenfold while the k steps' time is
    lost in t(1)'s noise (under half the target: a jit's scan takes a microsecond a step), and
    is cut where they take far longer than the target and a call passes a quarter of the cap."""
    n1 = 1
    first1 = _seconds(call(n1))
    a = [_seconds(call(n1))]
    target = max(a[0], s.min_difference)
    if guess is not None and guess > 0:
        k = math.ceil(target / guess)
    k = max(1, min(s.max_scaling_steps, k or s.scaling_steps))
    for _ in range(6):
        first2 = _seconds(call(n1 + k))
        if k > 1 and first2 > s.max_seconds and first2 - first1 > 4 * target:  # far slower than guessed
            k = max(1, math.ceil(k * target / (first2 - first1)))  # (first calls: both may compile)
            continue
        b = [_seconds(call(n1 + k))]
        diff = max(min(first2, b[0]) - a[0], 0.0)
        if diff < target / 2 and k < s.max_scaling_steps and a[0] + 10 * diff <= s.max_seconds / 4:
            k = min(s.max_scaling_steps, 10 * k)
        elif diff > 4 * target and k > 1 and b[0] > s.max_seconds / 4:
            k = max(1, math.ceil(k * target / diff))
        else:
            break
    start = time.perf_counter()  # the cap bounds the timed repeats: warm-ups may compile (jit modes)
    while len(b) < s.repeats and time.perf_counter() - start + a[-1] + b[-1] <= s.max_seconds:
        a.append(_seconds(call(n1)))
        b.append(_seconds(call(n1 + k)))
    t1, t2 = min(a), min(b)
    per_step = (t2 - t1) / k
    out = {
        "steps": k,
        "n1": n1,
        "n2": n1 + k,
        "method": DIFFERENTIAL,
        "first_seconds": first1,
        "first_seconds_n2": first2,
        "raw_seconds_n1": a,
        "raw_seconds_n2": b,
        "repeats": len(b),
        "seconds_n1": t1,
        "seconds_n2": t2,
        "per_step": per_step if per_step > 0 else None,
        "overhead_seconds": t1 - n1 * per_step if per_step > 0 else None,
        "first_per_step": None,
    }
    if per_step <= 0:
        steps = f"{k} step" + "s" * (k > 1)
        out |= {"status": "skipped", "reason": f"t({n1 + k}) <= t({n1}): {steps}' time is lost in the timer's noise"}
    return out


def scaling(b: Any, device: str, dtype: str, axis: str, s: Settings) -> list[dict[str, Any]]:
    """Seconds per step of train() at each size by the differential rule, until a size passes
    (or would pass) the cap."""
    sizes, make, work = (
        (s.widths, width_case, lambda n: n * n) if axis == "width" else (s.batches, batch_case, lambda n: n)
    )
    out: list[dict[str, Any]] = []
    last: dict[str, Any] | None = None
    skip: str | None = None
    start, budget = time.perf_counter(), s.series_factor * s.max_seconds
    for size in sizes:
        rec = _record(axis, b.name, device, dtype, f"{axis}-{size}", size, None)
        if skip is None and time.perf_counter() - start > budget:
            skip = f"the {axis} series' {budget:g} s were spent before {axis} {size}"
        grow = 1.0 if last is None else work(size) / work(last["size"])
        if skip is None and last is not None:
            fixed, k_steps = last["seconds_n1"] * grow, (last["per_step"] or 0) * grow  # scaled; k >= 1
            guess = 2 * (2 * fixed + max(fixed, s.min_difference, k_steps))  # a warm-up + a timed call of each
            if guess > s.max_seconds:
                skip = (
                    f"{axis} {size} would take ~{guess:.2g} s for a warm-up and a timed call of each length"
                    f" ({axis} {last['size']}: t({last['n1']}) {last['seconds_n1']:.2g} s,"
                    f" t({last['n2']}) {last['seconds_n2']:.2g} s)"
                )
        if skip is not None:
            out.append(rec | {"status": "skipped", "reason": skip})
            continue
        try:
            case = make(size, s.seed)
            call = _caller(b, case, case.config, dtype, device)
            per = None if last is None or last["per_step"] is None else last["per_step"] * math.sqrt(grow)
            out.append(rec | _point(call, s, per, None if last is None else last["steps"]))
        except Exception as err:
            out.append(_failed(rec, err))
            skip = f"{axis} {size} failed"
            continue
        last = out[-1]
        if last["seconds_n2"] > s.max_seconds:
            skip = f"{axis} {size} took {last['seconds_n2']:.2g} s per call of {last['n2']} steps"
    return out


def add_ratios(records: list[dict[str, Any]]) -> None:
    """ratio (of per_step) and first_ratio: each figure over the fastest of its measurement,
    dtype and size among this run's records that have it."""
    for field, ratio in (("per_step", "ratio"), ("first_per_step", "first_ratio")):
        best: dict[tuple[Any, ...], float] = {}
        for r in records:
            if r.get(field) is not None:
                key = (r["measurement"], r["dtype"], r["size"])
                best[key] = min(best.get(key, math.inf), r[field])
        for r in records:
            key = (r["measurement"], r["dtype"], r["size"])
            r[ratio] = r[field] / best[key] if r.get(field) is not None else None


def run(s: Settings, progress: Progress = lambda _: None) -> dict[str, Any]:
    """The bench document: environment, settings, unavailable backends and every measurement."""
    from bpcheck.reporting.environment import capture

    start, load = time.perf_counter(), _load_average()
    statuses = {n: status(n) for n in s.backends}
    names = [n for n, st in statuses.items() if st == "available"]
    records: list[dict[str, Any]] = []
    for name in names:
        b = backends.get(name)
        for device in b.devices():
            for dtype in s.dtypes:
                where = f"{name} {device} {dtype}"
                progress(f"{where}: forward + backward, {s.train_steps:,}-step training")
                records += [forward_backward(b, device, dtype, s), train(b, device, dtype, s)]
                for axis in ("width", "batch"):
                    progress(f"{where}: time per step vs {axis}")
                    records += scaling(b, device, dtype, axis, s)
    add_ratios(records)
    width_case.cache_clear()  # a 1024-wide case holds ~2M named parameters
    batch_case.cache_clear()
    return {
        "schema": "bpcheck-bench/1",
        "environment": capture(names),
        "settings": asdict(s)
        | {
            "timer": "time.perf_counter; each figure the best (min) of its repeats, after one warm-up call",
            "width_network": "W-W-W sigmoid, half-sse, per-neuron biases, 1 example, xavier-uniform (seed), eta 0.5",
            "batch_network": "the post's 2-2-2 network and weights, B examples (the first the post's), mean error",
        },
        "unavailable": {n: st for n, st in statuses.items() if st != "available"},
        "wall_seconds": time.perf_counter() - start,
        "load_average": {"start": load, "end": _load_average()},  # other work on the machine skews the times
        "measurements": records,
    }


def _load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages, where the OS has them."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


# --- rendering ---------------------------------------------------------------------------------


def seconds(x: float) -> str:
    """3 significant digits in s, ms or µs."""
    unit, scale = ("s", 1.0) if x >= 1 else ("ms", 1e-3) if x >= 1e-3 else ("µs", 1e-6)
    return f"{x / scale:.3g} {unit}"


def ratio(x: float) -> str:
    return f"{x:.2f}x" if x < 10 else f"{x:.1f}x" if x < 100 else f"{x:,.0f}x"


def table_cell(r: dict[str, Any] | None, first: bool = False) -> str:
    """A figure as seconds per step and its ratio to the fastest: `85.2 µs (1.3x)`."""
    if r is None:
        return "-"
    value, times = (r.get("first_per_step"), r.get("first_ratio")) if first else (r.get("per_step"), r.get("ratio"))
    if value is None or times is None:
        return r["status"]
    return f"{seconds(value)} ({ratio(times)})"


def _who(r: dict[str, Any]) -> str:
    return r["backend"] if r["device"] == "cpu" else f"{r['backend']} ({r['device']})"


FEWER = "†"  # marks a training figure measured over fewer steps than train_steps


def _first_calls(*recs: dict[str, Any] | None) -> str:
    """The first forward + backward call's and the first training call's seconds beyond a
    steady call of each, added."""
    extra = [r.get("compile_seconds") for r in recs if r is not None]
    return seconds(sum(extra)) if extra and None not in extra else "-"  # type: ignore[arg-type]


def tables(doc: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]], list[str]]]:
    """(title, header, rows, footnotes) of every table the Markdown and the terminal show."""
    recs, s = doc["measurements"], doc["settings"]
    find = {(r["measurement"], _who(r), r["dtype"], r["size"]): r for r in recs}
    who = list(dict.fromkeys(_who(r) for r in recs))
    steps = f"{s['train_steps']:,}"
    rows, fewer = [], []
    for dt in s["dtypes"]:
        for w in who:
            fb, t = find.get(("forward-backward", w, dt, None)), find.get(("train", w, dt, None))
            mark = ""
            if t is not None and t["status"] != "error" and t.get("steps") != s["train_steps"]:
                mark = FEWER
                fewer.append(
                    f"{FEWER} {w} {dt}: measured over {t['steps']:,} steps ({steps} projected to"
                    f" ~{t['projected_seconds']:.3g} s a call, over the {s['max_seconds']:g} s cap)"
                )
            rows.append(
                [w, dt, table_cell(fb), table_cell(t, first=True) + mark, table_cell(t) + mark, _first_calls(fb, t)]
            )
    out = [
        (
            f"The post's example ({CASE}): seconds per training step ({steps} steps a call), forward + backward"
            " per call (x: ratio to the fastest)",
            [
                "backend",
                "dtype",
                "forward + backward",
                "training: first call",
                "training: after compilation",
                "first calls' extra time",
            ],
            rows,
            fewer,
        )
    ]
    for axis, what in (("width", s["width_network"]), ("batch", s["batch_network"])):
        sizes = s["widths"] if axis == "width" else s["batches"]
        for dt in s["dtypes"]:
            rows = [[w] + [table_cell(find.get((axis, w, dt, n))) for n in sizes] for w in who]
            title = f"Seconds per training step vs {axis}, {dt} ({what}; (t(1 + k) - t(1)) / k)"
            out.append((title, [axis, *map(str, sizes)], rows, []))
    return out


def notes(doc: dict[str, Any]) -> list[str]:
    """Why figures are missing: a line per error, per skipped series (from its first size) and
    per unavailable backend."""
    lines: dict[tuple[str, ...], str] = {}
    for r in doc["measurements"]:
        what, size = r["measurement"], "" if r["size"] is None else f" {r['size']}"
        key = (_who(r), r["dtype"], what, r["status"], r["reason"] or "")
        if r["status"] == "error" or (r["status"] == "skipped" and key not in lines):
            lines[key + (size,)] = lines[key] = f"{r['status']}: {_who(r)} {r['dtype']} {what}{size}: {r['reason']}"
    out = list(dict.fromkeys(lines.values()))
    return out + [f"unavailable: {n}: {why.removeprefix('unavailable: ')}" for n, why in doc["unavailable"].items()]


def _about(doc: dict[str, Any]) -> list[str]:
    env, s, load = doc["environment"], doc["settings"], doc.get("load_average") or {}
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v and k not in ("mpmath", "gmpy2"))
    busy = ""
    if load.get("start") and load.get("end"):
        busy = f" Load average (1 min): {load['start'][0]:g} at the start, {load['end'][0]:g} at the end."
    return [
        f"{env['cpu']}, {env['cpu_count']} CPUs; Python {env['python']}, {versions}; {env['timestamp']}, "
        f"commit {(env['git_commit'] or '?')[:12]}; whole run {doc['wall_seconds']:.0f} s.{busy}",
        "",
        f"Each time: the best of up to {s['repeats']} timed calls after a warm-up call, "
        f"at most ~{s['max_seconds']:g} s per point, as seconds per step and (x) as the ratio to the fastest "
        "backend of the run for that figure. "
        "A call goes through the protocol (parameters in and out as a dict of floats: 2W^2 + 2W of them at "
        "width W). The training figures divide a call's time by its steps; the width and batch figures are "
        "differential, (t(1 + k) - t(1)) / k with k chosen per point (k steps take about as long as the fixed "
        "cost t(1), or at least "
        f"{s['min_difference'] * 1e3:g} ms; k <= {s['max_scaling_steps']:,}), so the fixed cost per call is left "
        "out (bench.json keeps it as overhead_seconds, with n1, n2 and the raw times). "
        "A first call includes compilation for jit/compile modes; the last column adds the first forward + "
        "backward call's and the first training call's time beyond a steady call of each.",
    ]


def markdown(doc: dict[str, Any]) -> str:
    parts = ["# bpcheck bench", "", *_about(doc)]
    for title, header, rows, footnotes in tables(doc):
        parts += ["", f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        parts += ["| " + " | ".join(row) + " |" for row in rows]
        parts += [""] * bool(footnotes) + [f"{n}  " if k < len(footnotes) - 1 else n for k, n in enumerate(footnotes)]
    extra = notes(doc)
    return "\n".join(parts + (["", "## Not measured", ""] + [f"- {n}" for n in extra] if extra else [])) + "\n"


def text(doc: dict[str, Any]) -> str:
    """The tables for a terminal, columns aligned, then the notes."""
    blocks = []
    for title, header, rows, footnotes in tables(doc):
        width = [max(len(x[k]) for x in [header, *rows]) for k in range(len(header))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(x, width)).rstrip() for x in [header, *rows]]
        blocks.append("\n".join([title, *lines, *footnotes]))
    extra = notes(doc)
    return "\n\n".join(blocks + (["\n".join(extra)] if extra else []))


def render(doc: dict[str, Any]) -> dict[str, str | bytes]:
    """bench.md and bench.png, from the JSON document alone."""
    from bpcheck.reporting.bench_plot import draw

    return {"bench.md": markdown(doc), "bench.png": draw(doc)}
