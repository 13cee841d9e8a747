"""The exact oracle: the hand-written reference run on 60-digit numbers.

Every value is exact for the inputs a backend of that dtype is actually given: parameters and
data rounded to the dtype first (a float32 backend never sees 0.05, it sees float32(0.05)),
so what remains between a backend and the oracle is that backend's own rounding. A person
computing by hand starts from the decimals the case file writes instead (`as_decimal_case`).

10,000-step trajectories cost about a second each on MPFR; results are cached in memory and,
keyed by a hash of the case, the request and the reference's source, on disk.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from bpcheck.reference import arith, store
from bpcheck.reference.case import Case, Config
from bpcheck.reference.trace import forward, step_trace, step_values, train


def rounded_parameters(case: Case, dtype: str) -> dict[str, float]:
    return {p: arith.round_to(dtype, v) for p, v in case.parameters.items()}


def as_dtype_case(case: Case, dtype: str) -> Case:
    """The case with its data and learning rate as a `dtype` backend holds them."""
    r = lambda rows: tuple(tuple(arith.round_to(dtype, v) for v in row) for row in rows)
    return replace(
        case, inputs=r(case.inputs), targets=r(case.targets), learning_rate=arith.round_to(dtype, case.learning_rate)
    )


def as_decimal_case(case: Case, a: arith.Arithmetic) -> Case:
    """The case with its data, parameters and learning rate exactly as its file writes them
    (the decimals, not their float64 roundings), in number type `a`: every function taking a
    case converts its numbers with a.num, which keeps these as they are."""
    d = case.decimals
    with a.context():
        num = lambda v: a.parse(str(v))  # noqa: E731
        rows = lambda rs: tuple(tuple(num(v) for v in r) for r in rs)  # noqa: E731
        return replace(
            case,
            inputs=rows(d.inputs),
            targets=rows(d.targets),
            parameters={p: num(v) for p, v in d.parameters.items()},
            learning_rate=num(d.learning_rate),
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


def exact_step_values(case: Case, dtype: str, config: Config | None = None, keep: str = "all") -> list[Any]:
    """exact_step's values in the order of `case.layout.step_items()`, without their names (or
    the part `keep` names: trace.step_values). A small case's come from exact_step (and its
    caches); a wide one's are computed each call and kept nowhere: a dict of millions of names,
    or their 65-digit strings on disk, would outweigh the numbers (the caller keeps what it
    needs: bpcheck/matrix.py)."""
    config = config or case.config
    lay = case.layout
    part = {"all": slice(None), "gradients": slice(lay.quantity_count - lay.parameter_count)}.get(
        keep, slice(lay.quantity_count - lay.parameter_count, None)
    )
    if lay.quantity_count <= NAMED_VALUES or case.is_posts_network:
        named = exact_step(case, dtype, config) if lay.quantity_count <= NAMED_VALUES else None
        if named is None:
            a = arith.exact()
            with a.context():
                named = step_trace(as_dtype_case(case, dtype), rounded_parameters(case, dtype), config, a)
        return [named[name] for name in itertools.islice(lay.step_names(), part.start, part.stop)]
    a = arith.exact()
    with a.context():
        return step_values(as_dtype_case(case, dtype), rounded_parameters(case, dtype), config, a, keep)


#: Up to this many quantities of one step, exact values are cached by name in memory and on disk.
NAMED_VALUES = 100_000


def exact_after(case: Case, dtype: str, config: Config, updates: int) -> dict[str, Any]:
    """out_o1.., E_total and the parameters after `updates` exact updates."""

    def compute() -> dict[str, Any]:
        a = arith.exact()
        dcase = as_dtype_case(case, dtype)
        trained = train(dcase, rounded_parameters(case, dtype), config, updates, a)
        return {**forward(dcase, trained.params, a), **trained.params}

    return _cached(case, dtype, config, updates, compute)


@cache
def code_version() -> str:
    """A digest of the reference's source: any change to how exact values are computed
    invalidates every cached one."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def _key(case: Case, dtype: str, config: Config, updates: int) -> str:
    """The case's content, the request and the code version, as one digest."""
    h = hashlib.sha256(code_version().encode())
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


_MEMORY: dict[str, dict[str, str]] = {}


def _cached(case: Case, dtype: str, config: Config, updates: int, compute: Any) -> dict[str, Any]:
    """Exact values from memory, the verified disk cache (reference/store.py), or `compute`."""
    key = _key(case, dtype, config, updates)
    a = arith.exact()
    if key not in _MEMORY:
        stored = store.load("oracle", key, store.finite_numbers)
        if stored is None:
            with a.context():
                stored = {k: a.to_str(v) for k, v in compute().items()}
            if store.finite_numbers(stored):  # not an overflow of MPFR's own range: the cache would refuse it
                store.save("oracle", key, stored)
        _MEMORY[key] = stored
    with a.context():
        return {k: a.parse(v) for k, v in _MEMORY[key].items()}
