"""Shared plumbing for the bundled backends: each computes a whole training step as a
`reference.mlp.Trace` of float64 lists, and this base names and splits it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from bpcheck import backends
from bpcheck.reference.case import PLAIN, Case, Config
from bpcheck.reference.mlp import Layer, Net, Trace
from bpcheck.reference.oracle import as_dtype_case, parameters_key
from bpcheck.reference.quantities import Positional
from bpcheck.reference.trace import mlp_params, trace_values

FORWARD_STAGES = frozenset({"forward", "error"})
GRADIENT_STAGES = frozenset({"output-chain", "hidden-chain", "gradient"})


class StepBackend:
    """Implements the protocol from `_trace` (one training step) and `train`."""

    name = "?"

    @property
    def accelerator(self) -> str | None:
        """The accelerator this framework can use ("cuda", "gpu"), as its declaration says."""
        return backends.declaration(self.name).accelerator if self.name in backends.names() else None

    def devices(self) -> list[str]:
        return ["cpu"]

    def accelerator_missing(self) -> str:
        """Why `accelerator` is not among devices() here."""
        return f"no {self.accelerator} device here"

    def _trace(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> Trace:
        raise NotImplementedError

    def _cached_trace(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> Trace:
        """forward, gradients and step of the same parameters share one traced step."""
        key = (
            case.spec,
            case.inputs,
            case.targets,
            case.learning_rate,
            parameters_key(params) if isinstance(params, Positional) else tuple(params.items()),
            config.update_order,
            config.update_biases,
            dtype,
            device,
        )
        cache = self.__dict__.setdefault("_traces", {})
        if key not in cache:
            if len(cache) > 16 or case.layout.wide:  # a wide case's trace is large: only the last is kept
                cache.clear()
            cache[key] = self._trace(case, params, config, dtype, device)
        return cache[key]

    def forget_traces(self) -> None:
        """Lets the traced steps kept for forward, gradients and step go (a wide case's are large)."""
        self.__dict__.pop("_traces", None)

    def _named(
        self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str, stages: frozenset[str]
    ) -> dict[str, float]:
        x = [list(row) for row in as_dtype_case(case, dtype).inputs]  # dnet/dw: the inputs as held
        lay, out = case.layout, {}
        values = trace_values(lay, x, self._cached_trace(case, params, config, dtype, device))
        if lay.wide:  # by position: a dict of millions of names would outweigh the values
            part = "forward" if stages == FORWARD_STAGES else "gradients"
            start, end = lay.span(part)
            held = np.fromiter(itertools.islice(values, start, end), np.float64, end - start)
            return Positional(lay, held, start)  # type: ignore[return-value]
        for (name, stage, _), v in zip(lay.step_items(), values):
            if stage in stages:
                out[name] = float(v)
            elif out:  # each call's stages are consecutive in the layout's order: the rest is not asked
                break
        return out

    def forward(self, case: Case, params: dict[str, float], dtype: str, device: str) -> dict[str, float]:
        return self._named(case, params, PLAIN, dtype, device, FORWARD_STAGES)

    def gradients(self, case: Case, params: dict[str, float], dtype: str, device: str) -> dict[str, float]:
        return self._named(case, params, PLAIN, dtype, device, GRADIENT_STAGES)

    def step(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> dict[str, float]:
        new = self._cached_trace(case, params, config, dtype, device).new
        lay = case.layout
        if lay.wide:  # by position, in the order of the parameters
            weights = [np.asarray(w, dtype=np.float64).ravel() for w in new.w]
            biases = [np.asarray(b, dtype=np.float64).ravel()[: len(names)] for b, names in zip(new.b, lay.b)]
            return Positional(lay, np.concatenate(weights + biases), None)  # type: ignore[return-value]
        return {k: float(v) for k, v in mlp_params(lay, new).items()}


def parameter_lists(case: Case, params: dict[str, float]) -> tuple[list[list[list[float]]], list[list[float]]]:
    """The weights w[l][j][k] and biases b[l] of `params` as lists of floats (b[l] empty for a
    layer without biases): a wide case's read from its array by position, any other by name."""
    lay = case.layout
    if isinstance(params, Positional) and params.intact and params.start is None and params.layout == lay:
        spans = [lay.weight_span(l) for l in range(len(lay.w))]
        w = [params.array[a:z].reshape(lay.sizes[l + 1], lay.sizes[l]).tolist() for l, (a, z) in enumerate(spans)]
        return w, [params.array[slice(*lay.bias_span(l))].tolist() for l in range(len(lay.b))]
    return [[[params[n] for n in row] for row in layer] for layer in lay.w], [[params[n] for n in b] for b in lay.b]


def named_parameters(case: Case, w: list[Any], b: list[Any], tolist: Callable[[Any], Any]) -> dict[str, float]:
    """Trained per-layer weight matrices and bias vectors, by the case's parameter names
    (`tolist` turns one framework array into nested Python lists)."""
    lay = case.layout
    out: dict[str, float] = {}
    for layer, rows in zip(w, lay.w):
        out.update(zip([n for row in rows for n in row], _flat(tolist(layer))))
    for layer, names in zip(b, lay.b):
        out.update(zip(names, _flat(tolist(layer))))
    return out


def _flat(v: Any) -> list[float]:
    return [float(x) for row in v for x in (row if isinstance(row, list) else [row])]


def as_trace(s: dict[str, Any], case: Case, tolist: Callable[[Any], Any]) -> Trace:
    """One step's framework arrays as the reference's Trace of Python lists. `s` holds, per layer,
    zs, acts, d_outs, dout_dnets, deltas, w_seen, grad_w, grad_b, new_w and new_b (None where a
    layer has no such piece: no bias, no weights seen from above), and e_o and e_total."""
    lists: Callable[[Any], Any] = lambda v: None if v is None else tolist(v)
    lay = case.layout
    return Trace(
        [
            Layer(lists(z), lists(a), lists(d), lists(dd), lists(de))
            for z, a, d, dd, de in zip(s["zs"], s["acts"], s["d_outs"], s["dout_dnets"], s["deltas"])
        ],
        lists(s["e_o"]),
        float(s["e_total"]),
        [[] if v is None else lists(v) for v in s["w_seen"]],
        [lists(g) for g in s["grad_w"]],
        [lists(g) if lay.b[l] else [] for l, g in enumerate(s["grad_b"])],
        Net([lists(v) for v in s["new_w"]], [lists(v) if lay.b[l] else [] for l, v in enumerate(s["new_b"])]),
    )
