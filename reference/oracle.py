"""The exact oracle: the hand-written reference run on 60-digit numbers.

Every value is exact for the inputs a backend of that dtype is actually given: parameters and
data rounded to the dtype first (a float32 backend never sees 0.05, it sees float32(0.05)),
so what remains between a backend and the oracle is that backend's own rounding. A person
computing by hand starts from the decimals the case file writes instead (`as_decimal_case`).

10,000-step trajectories cost about a second each on MPFR; results are cached in memory and,
keyed by a hash of the case, the request and the reference's source, on disk.
"""

from __future__ import annotations

import array
import hashlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from bpcheck.reference import arith, store
from bpcheck.reference.case import Case, Config
from bpcheck.reference.quantities import Positional
from bpcheck.reference.trace import forward, step_trace, step_values, train


def rounded_parameters(case: Case, dtype: str) -> dict[str, float]:
    """The parameters as a `dtype` backend holds them (float64 values). A wide case's array is
    rounded as a whole, to nearest as float32(x) rounds each (float64: the case's own array)."""
    params = case.parameters
    if isinstance(params, Positional) and params.intact and params.start is None:
        held = params.array
        if dtype == "float32":
            import numpy as np

            held = params.array.astype(np.float32).astype(np.float64)
            held.flags.writeable = False
        elif dtype != "float64":
            arith.for_dtype(dtype)  # the one error for an unknown dtype
        return Positional(params.layout, held)  # type: ignore[return-value]
    return {p: arith.round_to(dtype, v) for p, v in params.items()}


def parameters_key(params: Any) -> Any:
    """What identifies a set of parameters in a cache key: its items, or for a Positional the
    digest of its array (a sorted list of millions of items would outweigh the values)."""
    if isinstance(params, Positional) and params.intact:
        import numpy as np

        digest = hashlib.sha256(np.ascontiguousarray(params.array, dtype=np.float64).data).hexdigest()
        return ("float64 array", params.start, params.layout, digest)
    return sorted(params.items())


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


def exact_step_values(
    case: Case, dtype: str, config: Config | None = None, keep: str = "all", into: ExactValues | None = None
) -> Any:
    """exact_step's values in the order of `case.layout.step_items()`, without their names (or
    the part `keep` names: trace.step_values). A small case's come from exact_step (and its
    caches), as a list; a wide one's are computed each call and kept nowhere but in an
    ExactValues (`into`'s, extended, or a new one): a dict of millions of names, or their
    65-digit strings on disk, would outweigh the numbers (the caller keeps what it needs:
    bpcheck/matrix.py)."""
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
        values = [named[name] for name in itertools.islice(lay.step_names(), part.start, part.stop)]
        return values if into is None else into.extend(values, arith.exact())
    a = arith.exact()
    out = into if into is not None else ExactValues()
    return step_values(
        as_dtype_case(case, dtype), rounded_parameters(case, dtype), config, a, keep, lambda v: out.extend(v, a)
    )


class ExactValues(Sequence[Any]):
    """Exact values by position, each held exactly as a float64 expansion: four float64s
    x0 + x1 + x2 + x3 whose sum is the value, x0 the value rounded to nearest (`floats`), x1 the
    rest rounded to nearest, and so on. Each rest is exact in the oracle's precision and loses at
    least 53 bits, so four hold its 208 bits; a value they do not hold (a rest below float64's
    subnormals, beyond its range, not a number) is kept as it is, by position. 32 bytes a value,
    against ~110 for an MPFR number and its place in a list. Reading one rebuilds it in the
    oracle's number type and precision: the same number (tests/test_size.py)."""

    def __init__(self) -> None:
        self._parts = array.array("d")
        self._kept: dict[int, Any] = {}
        self._arith: arith.Arithmetic | None = None
        self._view: Any = None

    def extend(self, values: Iterable[Any], a: arith.Arithmetic) -> ExactValues:
        """Appends `values` (numbers of `a`, the exact type; read in `a`'s context)."""
        if self._view is not None:
            raise RuntimeError("ExactValues are read already")
        self._arith = a
        parts, kept, n = self._parts, self._kept, len(self._parts) // 4
        add = parts.extend
        with a.context():
            for k, v in enumerate(values, n):
                x0 = float(v)
                if v == x0:
                    add((x0, 0.0, 0.0, 0.0))
                    continue
                r = v - x0
                x1 = float(r)
                r = r - x1
                x2 = float(r)
                r = r - x2
                x3 = float(r)
                add((x0, x1, x2, x3))
                if r != x3:  # not held (or not a number): kept as it is
                    kept[k] = v
        return self

    def _all(self) -> Any:
        if self._view is None:
            import numpy as np

            self._view = np.frombuffer(self._parts, dtype=np.float64).reshape(-1, 4)
        return self._view

    @property
    def floats(self) -> Any:
        """Each value rounded to the nearest float64, as an array (a view)."""
        return self._all()[:, 0]

    def __len__(self) -> int:
        return len(self._parts) // 4

    def equal_to(self, positions: Any, floats: Any) -> Any:
        """Whether the value at each of `positions` equals the float64 at the same place of
        `floats`, as a bool array: held exactly, a value is a float64 if its rest x1 is 0."""
        import numpy as np

        positions, parts = np.asarray(positions, dtype=np.intp), self._all()
        out = parts[:, 1][positions] == 0
        out &= parts[:, 0][positions] == floats
        if self._kept:
            for i in np.flatnonzero(np.isin(positions, list(self._kept))).tolist():
                out[i] = bool(self._kept[int(positions[i])] == floats[i])
        return out

    def __iter__(self) -> Iterator[Any]:
        return (self[k] for k in range(len(self)))

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        k = k + len(self) if k < 0 else k
        if not 0 <= k < len(self):
            raise IndexError(k)
        if k in self._kept:
            return self._kept[k]
        a = self._arith if self._arith is not None else arith.exact()
        x0, x1, x2, x3 = self._all()[k].tolist()
        with a.context():
            if x1 == 0:  # a float64 itself (a zero keeps its sign)
                return a.num(x0)
            return ((a.num(x3) + x2) + x1) + x0  # each partial sum is one of the rests: exact


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
                parameters_key(case.parameters),
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
