"""Deliberately wrong backends: the harness must catch every one of them.

Each is the NumPy backend with one mistake that readers of the post actually make.
"""

from __future__ import annotations

from typing import Any

from bpcheck import backends
from bpcheck.backends import numpy_backend as nb


class NoSigmoidDerivative(nb.NumpyBackend):
    """Forgets dout/dnet at the output: delta_o = dE/dout_o (as if the output were linear)."""

    name = "broken-no-sigmoid-derivative"

    def _trace(self, case: Any, params: Any, config: Any, dtype: str, device: str) -> Any:
        tr = super()._trace(case, params, config, dtype, device)
        out = tr.layers[-1]
        out.dout_dnet = [[1.0] * len(row) for row in out.dout_dnet]
        out.delta = [list(row) for row in out.d_out]
        tr.grad_w[-1] = [
            [sum(d[j] * h[k] for d, h in zip(out.delta, tr.layers[-2].out)) for k in range(len(tr.layers[-2].out[0]))]
            for j in range(len(out.delta[0]))
        ]
        return tr


class Float32Inside(nb.NumpyBackend):
    """Says float64, computes float32 (what JAX does without jax_enable_x64)."""

    name = "broken-float32-inside"

    def _trace(self, case: Any, params: Any, config: Any, dtype: str, device: str) -> Any:
        return super()._trace(case, params, config, "float32", device)

    def train(self, case: Any, params: Any, config: Any, steps: int, dtype: str, device: str) -> Any:
        return super().train(case, params, config, steps, "float32", device)


class WrongWeight(nb.NumpyBackend):
    """Takes dE_o2/dout_h1 through w6 (h2->o1) instead of w7 (h1->o2): the reader who got
    -0.017144288 instead of the post's -0.019049119."""

    name = "broken-wrong-weight"

    def _trace(self, case: Any, params: Any, config: Any, dtype: str, device: str) -> Any:
        tr = super()._trace(case, params, config, dtype, device)
        hidden, output = tr.layers
        seen = [list(row) for row in tr.w_seen[1]]
        seen[1][0] = params["w6"]  # the weight used for h1 -> o2
        tr.w_seen[1] = seen
        d = sum(output.delta[0][k] * seen[k][0] for k in range(len(seen)))
        hidden.d_out[0][0] = d
        hidden.delta[0][0] = d * hidden.dout_dnet[0][0]
        tr.grad_w[0][0] = [hidden.delta[0][0] * x for x in case.inputs[0]]
        return tr


BROKEN = {
    "broken-no-sigmoid-derivative": "tests.broken_backends:NoSigmoidDerivative",
    "broken-float32-inside": "tests.broken_backends:Float32Inside",
    "broken-wrong-weight": "tests.broken_backends:WrongWeight",
}


def register_all() -> None:
    for name, factory in BROKEN.items():
        backends.register(name, factory)
