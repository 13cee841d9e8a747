"""`numpy`: backprop in matrix form, derived by hand (no autograd).

net_h = W_h x + b1            out_h = s(net_h)          s(z) = 1 / (1 + e^-z)
net_o = W_o out_h + b2        out_o = s(net_o)          E_total = sum 1/2 (t - out_o)^2
delta_o = (out_o - t) * out_o (1 - out_o)               dE/dW_o = delta_o out_h^T
delta_h = (W_o^T delta_o) * out_h (1 - out_h)           dE/dW_h = delta_h x^T
dE/db2 = sum(delta_o)         dE/db1 = sum(delta_h)     (shared biases)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backends.base import StepBackend
from backends.protocol import Training, check_dtype
from reference.backprop import Net, Step
from reference.case import Case, Config


def _arrays(case: Case, params: dict[str, float], dtype: str) -> tuple[Any, Any, Any, Any, Any, Any, Any]:
    f = np.dtype(dtype).type
    lay = case.layout
    x, t = np.array(case.inputs, dtype), np.array(case.targets, dtype)
    w_h = np.array([[params[w] for w in row] for row in lay.w_hidden], dtype)
    w_o = np.array([[params[w] for w in row] for row in lay.w_output], dtype)
    return x, t, w_h, f(params["b1"]), w_o, f(params["b2"]), f(case.learning_rate)


def _sigmoid(z: Any) -> Any:
    return 1 / (1 + np.exp(-z))


def _equations(
    x: Any, t: Any, w_h: Any, b1: Any, w_o: Any, b2: Any, eta: Any, output_first: bool, update_biases: bool
) -> dict[str, Any]:
    net_h = w_h @ x + b1
    out_h = _sigmoid(net_h)
    net_o = w_o @ out_h + b2
    out_o = _sigmoid(net_o)
    e_o = 0.5 * (t - out_o) ** 2
    d_out_o = -(t - out_o)
    dout_dnet_o = out_o * (1 - out_o)
    delta_o = d_out_o * dout_dnet_o
    grad_w_o = np.outer(delta_o, out_h)
    w_o_new = w_o - eta * grad_w_o
    w_seen = w_o_new if output_first else w_o
    d_e_o_d_out_h = (delta_o[:, None] * w_seen).T  # [h][o]
    d_out_h = w_seen.T @ delta_o
    dout_dnet_h = out_h * (1 - out_h)
    delta_h = d_out_h * dout_dnet_h
    grad_w_h = np.outer(delta_h, x)
    grad_b1, grad_b2 = delta_h.sum(), delta_o.sum()
    return dict(
        net_h=net_h,
        out_h=out_h,
        net_o=net_o,
        out_o=out_o,
        e_o=e_o,
        e_total=e_o.sum(),
        d_out_o=d_out_o,
        dout_dnet_o=dout_dnet_o,
        delta_o=delta_o,
        dnet_o_dw=np.broadcast_to(out_h, w_o.shape),
        dnet_o_dout_h=w_seen,
        d_e_o_d_out_h=d_e_o_d_out_h,
        d_out_h=d_out_h,
        dout_dnet_h=dout_dnet_h,
        delta_h=delta_h,
        dnet_h_dw=np.broadcast_to(x, w_h.shape),
        grad_w_h=grad_w_h,
        grad_w_o=grad_w_o,
        grad_b1=grad_b1,
        grad_b2=grad_b2,
        new=(
            w_h - eta * grad_w_h,
            b1 - eta * grad_b1 if update_biases else b1,
            w_o_new,
            b2 - eta * grad_b2 if update_biases else b2,
        ),
    )


class NumpyBackend(StepBackend):
    name = "numpy"

    def _step(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> Step:
        s = _equations(*_arrays(case, params, dtype), config.update_order == "output-first", config.update_biases)
        check_dtype(self.name, str(s["e_total"].dtype), dtype)
        new = s.pop("new")
        fields = {k: np.asarray(v).tolist() for k, v in s.items()}
        return Step(**fields, new=Net(new[0].tolist(), float(new[1]), new[2].tolist(), float(new[3])))

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        """The same equations as `_step`, only the ones an update needs."""
        x, t, w_h, b1, w_o, b2, eta = _arrays(case, params, dtype)
        output_first, update_biases = config.update_order == "output-first", config.update_biases
        losses = np.empty(steps, dtype)
        for k in range(steps):
            out_h = 1 / (1 + np.exp(-(w_h @ x + b1)))
            out_o = 1 / (1 + np.exp(-(w_o @ out_h + b2)))
            losses[k] = (0.5 * (t - out_o) ** 2).sum()
            delta_o = -(t - out_o) * (out_o * (1 - out_o))
            grad_w_o = np.outer(delta_o, out_h)
            w_o_new = w_o - eta * grad_w_o
            delta_h = ((w_o_new if output_first else w_o).T @ delta_o) * (out_h * (1 - out_h))
            w_h = w_h - eta * np.outer(delta_h, x)
            w_o = w_o_new
            if update_biases:
                b1, b2 = b1 - eta * delta_h.sum(), b2 - eta * delta_o.sum()
        check_dtype(self.name, str(w_h.dtype), dtype)
        lay = case.layout
        named = dict(zip(lay.weights, np.concatenate([w_h.ravel(), w_o.ravel()]).tolist()))
        return Training({**named, "b1": float(b1), "b2": float(b2)}, losses.tolist())
