"""`autograd`: the network in HIPS autograd (autograd.numpy), every derivative from
autograd.grad / elementwise_grad / make_vjp.

As in the jax backend, each chain piece is the gradient of a function asked of autograd:
dE_total/dout and delta of a layer are the gradients of E_total as a function of that layer's
output and of its net input, dout/dnet the elementwise gradient of the activation, dE/dw and
dE/db a vector-Jacobian product of net = a W^T + b. Under "output-first" the layer below
backpropagates delta_above . net_above(W+); in training an autograd primitive whose VJP
hands down delta W+ (as the torch backend's autograd.Function does). Training is a Python
loop of value_and_grad steps: autograd traces every step anew.

autograd is NumPy underneath, with NumPy's promotion rules, and some of its VJPs build float64
constants: the gradient of anp.where and anp.maximum comes back float64 from float32 inputs.
So relu and leaky ReLU are z times a constant factor (1 where z > 0, else 0 or 0.01, in the
computing dtype: reference/activations.py), and the dtype check looks at every array the step
produced, not E_total alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import autograd.numpy as anp
import autograd.scipy.special  # binds `autograd`; the table's sigmoid op is its expit
import numpy as np
from autograd import elementwise_grad, grad, make_vjp, value_and_grad
from autograd.extend import defvjp, primitive
from autograd.scipy.special import logsumexp

from bpcheck.backends.base import StepBackend, named_parameters
from bpcheck.backends.protocol import Training, check_dtype
from bpcheck.reference import activations, mlp
from bpcheck.reference.case import Case, Config

Linear = Callable[[Any, Any, Any], Any]


activate = activations.in_framework("autograd", autograd)


def errors(loss: str, z: Any, a: Any, t: Any) -> Any:
    """Each output's share of each example's error, [example][output]."""
    if loss == "half-sse":
        return 0.5 * anp.square(t - a)
    if loss == "mse":
        return anp.square(t - a) / a.shape[1]
    if loss == "bce":
        return anp.logaddexp(0.0, z) - t * z
    return -t * (z - logsumexp(z, axis=1, keepdims=True))


def linear(a: Any, w: Any, b: Any) -> Any:
    return a @ w.T + b


@primitive
def output_first(a: Any, w: Any, b: Any, eta: Any) -> Any:
    """z = a W^T + b, whose VJP hands the layer below delta backpropagated through the
    *updated* W+ = W - eta dE/dW: the "output-first" rule in one backwards pass."""
    return linear(a, w, b)


defvjp(
    output_first,
    lambda ans, a, w, b, eta: lambda g: g @ (w - eta * (g.T @ a)),
    lambda ans, a, w, b, eta: lambda g: g.T @ a,
    lambda ans, a, w, b, eta: lambda g: g.sum(0) if b.shape[0] > 1 else g.sum().reshape(1),
)


def _out(spec: mlp.Spec, l: int, z: Any) -> Any:
    """Layer l's output from its net input: softmax at a softmax-ce output, else the activation."""
    if l == len(spec.activations) - 1 and spec.loss == "softmax-ce":
        return anp.exp(z - logsumexp(z, axis=1, keepdims=True))
    return activate(spec.activations[l], z)


def _layer(spec: mlp.Spec, l: int, a: Any, w: Any, b: Any, lin: Linear = linear) -> tuple[Any, Any]:
    z = lin(a, w, b)
    return z, _out(spec, l, z)


def _reduce(spec: mlp.Spec, e_o: Any) -> Any:
    return anp.sum(e_o) / e_o.shape[0] if spec.reduction == "mean" else anp.sum(e_o)


def _e_from_out(spec: mlp.Spec, l: int, a: Any, w: list[Any], b: list[Any], t: Any) -> Any:
    """E_total as a function of layer l's output (l = -1: the inputs)."""
    z = None
    for k in range(l + 1, len(w)):
        z, a = _layer(spec, k, a, w[k], b[k])
    return _reduce(spec, errors(spec.loss, z, a, t))


def _e_from_net(spec: mlp.Spec, l: int, z: Any, w: list[Any], b: list[Any], t: Any) -> Any:
    if l == len(w) - 1:
        return _reduce(spec, errors(spec.loss, z, _out(spec, l, z), t))
    return _e_from_out(spec, l, _out(spec, l, z), w, b, t)


def _through_updated(seen: Any, d_above: Any, b_above: Any, o: Any) -> Any:
    """delta_above . net_above, net_above computed with the updated weights: its gradient in
    o is delta_above backpropagated through W+."""
    return anp.sum(d_above * (o @ seen.T + b_above))


def _through_updated_net(kind: str, seen: Any, d_above: Any, b_above: Any, z: Any) -> Any:
    return _through_updated(seen, d_above, b_above, activate(kind, z))


def _training_loss(params: Any, spec: mlp.Spec, x: Any, t: Any, layers: list[Linear]) -> Any:
    w, b = params
    a, z = x, None
    for l in range(len(w)):
        z, a = _layer(spec, l, a, w[l], b[l], layers[l])
    return _reduce(spec, errors(spec.loss, z, a, t))


_step = value_and_grad(_training_loss)


def _computed(arrays: Iterable[Any]) -> str:
    """The dtype the framework computed in; several when some array drifted from the others."""
    return "+".join(sorted({str(np.asarray(v).dtype) for v in arrays if v is not None}))


def _lists(v: Any) -> Any:
    return None if v is None else v.tolist()


class AutogradBackend(StepBackend):
    name = "autograd"

    def _arrays(self, case: Case, params: dict[str, float], dtype: str) -> tuple[Any, ...]:
        lay = case.layout
        w = [np.array([[params[n] for n in row] for row in layer], dtype) for layer in lay.w]
        b = [np.array([params[n] for n in names] if names else [0.0], dtype) for names in lay.b]
        x, t = np.array(case.inputs, dtype), np.array(case.targets, dtype)
        return x, t, w, b, np.dtype(dtype).type(case.learning_rate)

    def _trace(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> mlp.Trace:
        spec, lay = case.spec, case.layout
        x, t, w, b, eta = self._arrays(case, params, dtype)
        depth, first = len(w), config.update_order == "output-first"
        zs, acts, a = [], [], x
        for l in range(depth):
            z, a = _layer(spec, l, a, w[l], b[l])
            zs.append(z)
            acts.append(a)
        e_o = errors(spec.loss, zs[-1], acts[-1], t)
        e_total = _reduce(spec, e_o)
        d_outs: list[Any] = [None] * depth
        dout_dnets: list[Any] = [None] * depth
        deltas: list[Any] = [None] * depth
        w_seen: list[Any] = [[] for _ in range(depth)]
        grad_w: list[Any] = [None] * depth
        grad_b: list[Any] = [None] * depth
        new_w = list(w)
        below = [x, *acts[:-1]]
        for l in range(depth - 1, -1, -1):
            logit_output = l == depth - 1 and spec.loss in mlp.LOGIT_LOSSES
            if l == depth - 1 or not first:  # the true gradient of E_total
                e_of_out = partial(_e_from_out, spec, l, w=w, b=b, t=t)
                e_of_net = partial(_e_from_net, spec, l, w=w, b=b, t=t)
            else:  # the layer above's delta, backpropagated through its updated weights
                e_of_out = partial(_through_updated, new_w[l + 1], deltas[l + 1], b[l + 1])
                e_of_net = partial(_through_updated_net, spec.activations[l], new_w[l + 1], deltas[l + 1], b[l + 1])
            if l < depth - 1:
                w_seen[l + 1] = (new_w[l + 1] if first else w[l + 1]).tolist()
            if not logit_output:
                d_outs[l] = grad(e_of_out)(acts[l])
                dout_dnets[l] = elementwise_grad(partial(activate, spec.activations[l]))(zs[l])
            deltas[l] = grad(e_of_net)(zs[l])
            vjp, _ = make_vjp(lambda p, l=l: linear(below[l], p[0], p[1]))((w[l], b[l]))
            grad_w[l], grad_b[l] = vjp(deltas[l])
            new_w[l] = w[l] - eta * grad_w[l]
        new_b = [b[l] - eta * grad_b[l] if config.update_biases else b[l] for l in range(depth)]
        produced = [*zs, *acts, e_o, e_total, *d_outs, *dout_dnets, *deltas, *grad_w, *grad_b, *new_w, *new_b]
        check_dtype(self.name, _computed(produced), dtype)
        return mlp.Trace(
            [
                mlp.Layer(_lists(z), _lists(a), _lists(d), _lists(dd), _lists(de))
                for z, a, d, dd, de in zip(zs, acts, d_outs, dout_dnets, deltas)
            ],
            _lists(e_o),
            float(e_total),
            w_seen,
            [_lists(g) for g in grad_w],
            [_lists(g) if lay.b[l] else [] for l, g in enumerate(grad_b)],
            mlp.Net([_lists(v) for v in new_w], [_lists(v) if lay.b[l] else [] for l, v in enumerate(new_b)]),
        )

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        lay = case.layout
        x, t, w, b, eta = self._arrays(case, params, dtype)
        trained = [bool(names) and config.update_biases for names in lay.b]
        layers: list[Linear] = [linear] * len(w)
        if config.update_order == "output-first":
            layers = [linear] + [lambda a, w, b: output_first(a, w, b, eta)] * (len(w) - 1)
        losses = []
        for _ in range(steps):
            e_total, (g_w, g_b) = _step((w, b), case.spec, x, t, layers)
            w = [v - eta * g for v, g in zip(w, g_w)]
            b = [v - eta * g if m else v for v, g, m in zip(b, g_b, trained)]
            losses.append(e_total)
        check_dtype(self.name, _computed([*w, *b, *losses]), dtype)
        return Training(named_parameters(case, w, b, lambda v: v.tolist()), [float(e) for e in losses])
