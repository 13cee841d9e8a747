"""`numpy`: backprop in matrix form, derived by hand (no autograd), over a batch X (examples
as rows):

    Z_l = A_(l-1) W_l^T + b_l        A_l = f_l(Z_l)             (A_0 = X)
    output:  Delta_L = r dE/dA_L * f_L'(Z_L)   (bce, softmax-ce: Delta_L = r (A_L - T))
    below:   dE/dA_l = Delta_(l+1) W_(l+1)     Delta_l = dE/dA_l * f_l'(Z_l)
    dE/dW_l = Delta_l^T A_(l-1)      dE/db_l = column sums of Delta_l (shared: their total)

with r = 1 (sum over the batch) or 1/B (mean). "output-first" uses W_(l+1)+ in the line "below".
f and f' are the numpy ops of reference/activations.py.
"""

from __future__ import annotations

from functools import cache, partial
from typing import Any

import numpy as np

from bpcheck.backends.base import StepBackend, as_trace, named_parameters
from bpcheck.backends.protocol import Training, check_dtype
from bpcheck.reference import activations, mlp
from bpcheck.reference.case import Case, Config
from bpcheck.reference.quantities import Positional


def _arrays(case: Case, params: dict[str, float], dtype: str) -> tuple[Any, Any, list[Any], list[Any], Any]:
    lay = case.layout
    x, t = np.array(case.inputs, dtype), np.array(case.targets, dtype)
    if isinstance(params, Positional) and params.intact and params.start is None and params.layout == lay:
        spans = [lay.weight_span(l) for l in range(len(lay.w))]  # a wide case's: its array, by position
        w = [params.array[a:z].astype(dtype).reshape(lay.sizes[l + 1], lay.sizes[l]) for l, (a, z) in enumerate(spans)]
        b = [params.array[slice(*lay.bias_span(l))].astype(dtype) for l in range(len(lay.b))]
    else:
        w = [np.array([[params[n] for n in row] for row in layer], dtype) for layer in lay.w]
        b = [np.array([params[n] for n in names], dtype) for names in lay.b]
    return x, t, w, b, np.dtype(dtype).type(case.learning_rate)


activate = activations.in_framework("numpy", np)
derivative = activations.derivative_in_framework("numpy", np)


def _softplus(z: Any) -> Any:
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _softmax(z: Any) -> Any:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def errors(loss: str, z: Any, a: Any, t: Any) -> Any:
    """Each output's share of each example's error, [example][output]."""
    if loss == "half-sse":
        return 0.5 * (t - a) ** 2
    if loss == "mse":
        return (t - a) ** 2 / a.shape[1]
    if loss == "bce":
        return _softplus(z) - t * z
    top = z.max(axis=1, keepdims=True)
    lse = top + np.log(np.exp(z - top).sum(axis=1, keepdims=True))
    return t * (lse - z)


def _bias(b: Any, n: int) -> Any:
    return b if b.size else np.zeros(n, dtype=b.dtype)


@cache
def _layer_ops(kinds: tuple[str, ...], softmax: bool) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Each layer's f and f' as `op(z)` and `op(z, out)` (f softmax at a softmax output), looked
    up once per network (by its activations: a Spec hashes slower)."""
    acts = [activations.get(kind) for kind in kinds]
    f = [partial(a.ops["numpy"], np) for a in acts]
    if softmax:
        f[-1] = _softmax
    return tuple(f), tuple(partial(a.derivative_ops["numpy"], np) for a in acts)


_BIAS_GRADIENTS = {
    "none": lambda per_neuron: per_neuron[:0],
    "shared-per-layer": lambda per_neuron: per_neuron.sum(keepdims=True),
    "per-neuron": lambda per_neuron: per_neuron,
}


def equations(
    spec: mlp.Spec,
    x: Any,
    t: Any,
    w: list[Any],
    b: list[Any],
    eta: Any,
    output_first: bool,
    update_biases: bool,
    full: bool = True,
) -> dict[str, Any]:
    """One training step. With full=False only what an update needs (no bias gradients when
    the biases stay)."""
    depth = len(w)
    f, df = _layer_ops(spec.activations, spec.loss == "softmax-ce")
    zs, acts = [], [x]
    for l in range(depth):
        z = acts[-1] @ w[l].T + _bias(b[l], w[l].shape[0])
        zs.append(z)
        acts.append(f[l](z))
    e_o = errors(spec.loss, zs[-1], acts[-1], t)
    r = x.dtype.type(1 / len(x)) if spec.reduction == "mean" else None  # None: a sum, nothing to scale
    e_total = e_o.sum() if r is None else e_o.sum() * r
    d_outs: list[Any] = [None] * depth
    dout_dnets: list[Any] = [None] * depth
    deltas: list[Any] = [None] * depth
    w_seen: list[Any] = [None] * depth
    new_w, new_b = list(w), list(b)
    grad_w: list[Any] = [None] * depth
    grad_b: list[Any] = [None] * depth
    bias_gradient = _BIAS_GRADIENTS[spec.bias] if full or update_biases else None
    for l in range(depth - 1, -1, -1):
        z, a_l = zs[l], acts[l + 1]
        if l == depth - 1 and spec.loss in mlp.LOGIT_LOSSES:
            d = a_l * t.sum(axis=1, keepdims=True) - t if spec.loss == "softmax-ce" else a_l - t
            deltas[l] = d if r is None else r * d
        else:
            if l == depth - 1:
                d = -(t - a_l) if spec.loss == "half-sse" else -2 * (t - a_l) / a_l.shape[1]
                d_outs[l] = d if r is None else r * d
            else:
                w_seen[l + 1] = new_w[l + 1] if output_first else w[l + 1]
                d_outs[l] = deltas[l + 1] @ w_seen[l + 1]
            dout_dnets[l] = df[l](z, a_l)
            deltas[l] = d_outs[l] * dout_dnets[l]
        grad_w[l] = deltas[l].T @ acts[l]
        new_w[l] = w[l] - eta * grad_w[l]
        if bias_gradient:
            grad_b[l] = bias_gradient(deltas[l].sum(axis=0))
            if update_biases:
                new_b[l] = b[l] - eta * grad_b[l]
    out = {"e_total": e_total, "new_w": new_w, "new_b": new_b}
    if full:
        out.update(
            zs=zs,
            acts=acts[1:],
            e_o=e_o,
            d_outs=d_outs,
            dout_dnets=dout_dnets,
            deltas=deltas,
            w_seen=w_seen,
            grad_w=grad_w,
            grad_b=grad_b,
        )
    return out


class NumpyBackend(StepBackend):
    name = "numpy"

    def _trace(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> mlp.Trace:
        x, t, w, b, eta = _arrays(case, params, dtype)
        s = equations(case.spec, x, t, w, b, eta, config.update_order == "output-first", config.update_biases)
        check_dtype(self.name, str(s["e_total"].dtype), dtype)
        if case.layout.wide:  # read by position (base.py), as float64 as tolist() gives: no list of millions of floats
            return as_trace(s, case, lambda v: np.asarray(v, dtype=np.float64))
        return as_trace(s, case, lambda v: v.tolist())

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        x, t, w, b, eta = _arrays(case, params, dtype)
        output_first, update_biases = config.update_order == "output-first", config.update_biases
        losses = np.empty(steps, dtype)
        for k in range(steps):
            s = equations(case.spec, x, t, w, b, eta, output_first, update_biases, full=False)
            losses[k] = s["e_total"]
            w, b = s["new_w"], s["new_b"]
        check_dtype(self.name, str(w[0].dtype), dtype)
        return Training(named_parameters(case, w, b, lambda v: v.tolist()), losses.tolist())
