"""Deliberately wrong backends: the harness must catch every one of them.

Each is the NumPy backend with one mistake that readers of the post actually make.
"""

from __future__ import annotations

from typing import Any

import backends

BUNDLED = ("reference", "numpy", "torch", "jax")


def no_sigmoid_derivative() -> Any:
    """Forgets dout/dnet: delta_o = dE/dout_o (as if the output were linear)."""
    from backends import numpy_backend as nb

    class NoSigmoidDerivative(nb.NumpyBackend):
        name = "broken-no-sigmoid-derivative"

        def _step(self, case: Any, params: Any, config: Any, dtype: str, device: str) -> Any:
            s = super()._step(case, params, config, dtype, device)
            s.dout_dnet_o = [1.0 for _ in s.dout_dnet_o]
            s.delta_o = list(s.d_out_o)
            s.grad_w_o = [[d * h for h in s.out_h] for d in s.delta_o]
            return s

    return NoSigmoidDerivative()


def float32_inside() -> Any:
    """Says float64, computes float32 (what JAX does without jax_enable_x64)."""
    from backends import numpy_backend as nb

    class Float32Inside(nb.NumpyBackend):
        name = "broken-float32-inside"

        def _step(self, case: Any, params: Any, config: Any, dtype: str, device: str) -> Any:
            return super()._step(case, params, config, "float32", device)

        def train(self, case: Any, params: Any, config: Any, steps: int, dtype: str, device: str) -> Any:
            return super().train(case, params, config, steps, "float32", device)

    return Float32Inside()


def wrong_weight() -> Any:
    """Takes dE_o2/dout_h1 through w6 (h2->o1) instead of w7 (h1->o2): the reader who got
    -0.017144288 instead of the post's -0.019049119."""
    from backends import numpy_backend as nb

    class WrongWeight(nb.NumpyBackend):
        name = "broken-wrong-weight"

        def _step(self, case: Any, params: Any, config: Any, dtype: str, device: str) -> Any:
            s = super()._step(case, params, config, dtype, device)
            w6 = params["w6"]
            s.d_e_o_d_out_h[0][1] = s.delta_o[1] * w6
            s.d_out_h[0] = s.d_e_o_d_out_h[0][0] + s.d_e_o_d_out_h[0][1]
            s.delta_h[0] = s.d_out_h[0] * s.dout_dnet_h[0]
            s.grad_w_h[0] = [s.delta_h[0] * x for x in case.inputs]
            return s

    return WrongWeight()


BROKEN = {
    "broken-no-sigmoid-derivative": "tests.broken_backends:no_sigmoid_derivative",
    "broken-float32-inside": "tests.broken_backends:float32_inside",
    "broken-wrong-weight": "tests.broken_backends:wrong_weight",
}


def register_all() -> None:
    for name, factory in BROKEN.items():
        backends.register(name, factory)
