"""The exact oracle: the hand-written reference run on 60-digit numbers.

Every value is exact for the inputs a backend of that dtype is actually given: parameters and
data rounded to the dtype first (a float32 backend never sees 0.05, it sees float32(0.05)),
so what remains between a backend and the oracle is that backend's own rounding.

10,000-step trajectories cost about a second each on MPFR; results are cached in memory and,
keyed by a hash of the case, the request and the reference's source, on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from bpcheck.reference import arith
from bpcheck.reference.case import Case, Config
from bpcheck.reference.trace import forward, step_trace, train

_SOURCES = ("arith.py", "backprop.py", "mlp.py", "trace.py", "oracle.py")


def rounded_parameters(case: Case, dtype: str) -> dict[str, float]:
    return {p: arith.round_to(dtype, v) for p, v in case.parameters.items()}


def as_dtype_case(case: Case, dtype: str) -> Case:
    """The case with its data and learning rate as a `dtype` backend holds them."""
    r = lambda rows: tuple(tuple(arith.round_to(dtype, v) for v in row) for row in rows)
    return replace(
        case, inputs=r(case.inputs), targets=r(case.targets), learning_rate=arith.round_to(dtype, case.learning_rate)
    )


def exact_step(case: Case, dtype: str, config: Config | None = None) -> dict[str, Any]:
    """Every quantity of one training step, exact, from the dtype-rounded case."""
    config = config or case.config
    return _cached(
        case,
        dtype,
        config,
        0,
        lambda: step_trace(as_dtype_case(case, dtype), rounded_parameters(case, dtype), config, arith.exact()),
    )


def exact_after(case: Case, dtype: str, config: Config, updates: int) -> dict[str, Any]:
    """out_o1.., E_total and the parameters after `updates` exact updates."""

    def compute() -> dict[str, Any]:
        a = arith.exact()
        dcase = as_dtype_case(case, dtype)
        trained = train(dcase, rounded_parameters(case, dtype), config, updates, a)
        return {**forward(dcase, trained.params, a), **trained.params}

    return _cached(case, dtype, config, updates, compute)


def _key(case: Case, dtype: str, config: Config, updates: int) -> str:
    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in _SOURCES:
        h.update((here / name).read_bytes())
    h.update(
        repr(
            (
                case.spec,
                case.layout,
                case.inputs,
                case.targets,
                sorted(case.parameters.items()),
                case.learning_rate,
                config.update_order,
                config.update_biases,
                dtype,
                updates,
                arith.EXACT_DIGITS,
            )
        ).encode()
    )
    return h.hexdigest()[:32]


def cache_dir() -> Path | None:
    """Where exact values are kept between runs; BPCHECK_ORACLE_CACHE=off disables it."""
    setting = os.environ.get("BPCHECK_ORACLE_CACHE", "")
    if setting == "off":
        return None
    base = Path(setting) if setting else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "backprop-crosscheck" / "oracle"


_MEMORY: dict[str, dict[str, str]] = {}


def _cached(case: Case, dtype: str, config: Config, updates: int, compute: Any) -> dict[str, Any]:
    key = _key(case, dtype, config, updates)
    a = arith.exact()
    stored = _MEMORY.setdefault(key, {})
    if not stored:
        folder = cache_dir()
        path = folder / f"{key}.json" if folder else None
        try:
            stored.update(json.loads(path.read_text()) if path else {})
        except (OSError, ValueError):
            pass
        if not stored:
            with a.context():
                stored.update({k: a.to_str(v) for k, v in compute().items()})
            if path:
                _write_atomically(path, json.dumps(stored))
    with a.context():
        return {k: a.parse(v) for k, v in stored.items()}


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written is only slower
