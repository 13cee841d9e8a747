"""`jax`: the network in JAX, every derivative from jax.grad / jax.vjp.

JAX computes in float32 unless `jax_enable_x64` is on, silently: asking for float64 would
quietly give float32 numbers. This backend switches 64-bit mode on when it loads, checks that
it took effect, and refuses float64 (DtypeError) if it did not. One training step's trace is
one jit-compiled function; N-step training is one jit-compiled `lax.scan`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from backends.base import StepBackend
from backends.protocol import DtypeError, Training, check_dtype
from reference import mlp
from reference.case import Case, Config

jax.config.update("jax_enable_x64", True)


def x64_enabled() -> bool:
    """Whether JAX really computes in float64 now (the flag can be forced off by the user)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the "float64 is not available" warning is our answer
        return jnp.zeros((), jnp.float64).dtype == jnp.float64


def activate(kind: str, z: Any) -> Any:
    if kind == "sigmoid":
        return jax.nn.sigmoid(z)
    if kind == "tanh":
        return jnp.tanh(z)
    if kind == "relu":
        return jax.nn.relu(z)
    if kind == "leaky_relu":
        return jax.nn.leaky_relu(z, mlp.LEAKY_SLOPE)
    return z


def errors(loss: str, z: Any, a: Any, t: Any) -> Any:
    if loss == "half-sse":
        return 0.5 * (t - a) ** 2
    if loss == "mse":
        return (t - a) ** 2 / a.shape[1]
    if loss == "bce":
        return jax.nn.softplus(z) - t * z
    return -t * jax.nn.log_softmax(z, axis=1)


def _layer(spec: mlp.Spec, l: int, a: Any, w: Any, b: Any) -> tuple[Any, Any]:
    z = a @ w.T + b
    last = l == len(spec.activations) - 1
    return z, (jax.nn.softmax(z, axis=1) if last and spec.loss == "softmax-ce" else activate(spec.activations[l], z))


def _reduce(spec: mlp.Spec, e_o: Any) -> Any:
    return e_o.sum() / e_o.shape[0] if spec.reduction == "mean" else e_o.sum()


def _e_from_out(spec: mlp.Spec, l: int, a: Any, w: list[Any], b: list[Any], t: Any) -> Any:
    """E_total as a function of layer l's output (l = -1: the inputs)."""
    z = None
    for k in range(l + 1, len(w)):
        z, a = _layer(spec, k, a, w[k], b[k])
    if z is None:  # a is the network's output: only the squared-error losses take it directly
        return _reduce(spec, errors(spec.loss, None, a, t))
    return _reduce(spec, errors(spec.loss, z, a, t))


def _e_from_net(spec: mlp.Spec, l: int, z: Any, w: list[Any], b: list[Any], t: Any) -> Any:
    last = l == len(w) - 1
    a = jax.nn.softmax(z, axis=1) if last and spec.loss == "softmax-ce" else activate(spec.activations[l], z)
    if last:
        return _reduce(spec, errors(spec.loss, z, a, t))
    return _e_from_out(spec, l, a, w, b, t)


def _through_updated(seen: Any, d_above: Any, b_above: Any, o: Any) -> Any:
    """delta_above . net_above, net_above computed with the updated weights: its gradient in
    o is delta_above backpropagated through W+."""
    return jnp.vdot(d_above, o @ seen.T + b_above)


def _through_updated_net(kind: str, seen: Any, d_above: Any, b_above: Any, z: Any) -> Any:
    return _through_updated(seen, d_above, b_above, activate(kind, z))


@partial(jax.jit, static_argnames=("spec", "output_first", "bias_mask"))
def _trace(
    spec: mlp.Spec,
    x: Any,
    t: Any,
    w: list[Any],
    b: list[Any],
    eta: Any,
    output_first: bool,
    update_biases: Any,
    bias_mask: tuple[bool, ...],
) -> dict[str, Any]:
    """Every quantity of one training step, each derivative asked of JAX's autodiff."""
    depth = len(w)
    zs, acts, a = [], [], x
    for l in range(depth):
        z, a = _layer(spec, l, a, w[l], b[l])
        zs.append(z)
        acts.append(a)
    e_o = errors(spec.loss, zs[-1], acts[-1], t)
    out: dict[str, Any] = {"zs": zs, "acts": acts, "e_o": e_o, "e_total": _reduce(spec, e_o)}
    d_outs, dout_dnets, deltas = [None] * depth, [None] * depth, [None] * depth
    grad_w, grad_b, new_w, w_seen = [None] * depth, [None] * depth, list(w), [None] * depth
    below = [x] + acts[:-1]
    for l in range(depth - 1, -1, -1):
        logit_output = l == depth - 1 and spec.loss in mlp.LOGIT_LOSSES
        e_of_out: Callable[[Any], Any]
        e_of_net: Callable[[Any], Any]
        if l == depth - 1 or not output_first:
            e_of_out = partial(_e_from_out, spec, l, w=w, b=b, t=t)
            e_of_net = partial(_e_from_net, spec, l, w=w, b=b, t=t)
        else:  # backpropagate the layer above's delta through its updated weights
            seen, d_above, b_above = new_w[l + 1], jax.lax.stop_gradient(deltas[l + 1]), b[l + 1]
            e_of_out = partial(_through_updated, seen, d_above, b_above)
            e_of_net = partial(_through_updated_net, spec.activations[l], seen, d_above, b_above)
        if l < depth - 1:
            w_seen[l + 1] = new_w[l + 1] if output_first else w[l + 1]
        if not logit_output:
            d_outs[l] = jax.grad(e_of_out)(acts[l])
            dout_dnets[l] = jax.grad(lambda z, l=l: activate(spec.activations[l], z).sum())(zs[l])
        deltas[l] = jax.grad(e_of_net)(zs[l])
        grad_w[l], grad_b[l] = jax.vjp(lambda wl, bl, l=l: below[l] @ wl.T + bl, w[l], b[l])[1](deltas[l])
        new_w[l] = w[l] - eta * grad_w[l]
    new_b = [jnp.where(update_biases, b[l] - eta * grad_b[l], b[l]) if bias_mask[l] else b[l] for l in range(depth)]
    out.update(
        d_outs=d_outs,
        dout_dnets=dout_dnets,
        deltas=deltas,
        w_seen=w_seen,
        grad_w=grad_w,
        grad_b=grad_b,
        new_w=new_w,
        new_b=new_b,
    )
    return out


def _update(
    spec: mlp.Spec,
    params: tuple[list[Any], list[Any]],
    x: Any,
    t: Any,
    eta: Any,
    output_first: bool,
    update_biases: Any,
    bias_mask: tuple[bool, ...],
) -> tuple[tuple[list[Any], list[Any]], Any]:
    w, b = params
    if not output_first:
        e_total, (g_w, g_b) = jax.value_and_grad(lambda w, b: _e_from_out(spec, -1, x, w, b, t), argnums=(0, 1))(w, b)
        new_w = [wl - eta * g for wl, g in zip(w, g_w)]
    else:
        s = _trace(spec, x, t, w, b, eta, True, update_biases, bias_mask)
        e_total, g_b, new_w = s["e_total"], s["grad_b"], s["new_w"]
    new_b = [jnp.where(update_biases, bl - eta * g, bl) if m else bl for bl, g, m in zip(b, g_b, bias_mask)]
    return (new_w, new_b), e_total


@partial(jax.jit, static_argnames=("spec", "steps", "output_first", "bias_mask"))
def _train(
    spec: mlp.Spec,
    params: Any,
    x: Any,
    t: Any,
    eta: Any,
    steps: int,
    output_first: bool,
    update_biases: Any,
    bias_mask: tuple[bool, ...],
) -> Any:
    step = lambda p, _: _update(spec, p, x, t, eta, output_first, update_biases, bias_mask)
    return jax.lax.scan(step, params, None, length=steps)


def _lists(v: Any) -> Any:
    return None if v is None else v.tolist()


class JaxBackend(StepBackend):
    name = "jax"

    def devices(self) -> list[str]:
        return ["cpu"] + (["gpu"] if any(d.platform == "gpu" for d in jax.devices()) else [])

    def _arrays(self, case: Case, params: dict[str, float], dtype: str, device: str) -> tuple[Any, ...]:
        if dtype == "float64" and not x64_enabled():
            raise DtypeError(f"{self.name}: asked for float64 but jax_enable_x64 is off, so JAX computes in float32")
        dev = jax.devices(device)[0]
        put = lambda v: jax.device_put(jnp.asarray(v, dtype), dev)
        lay = case.layout
        w = [put([[params[n] for n in row] for row in layer]) for layer in lay.w]
        b = [put([params[n] for n in names] if names else [0.0]) for names in lay.b]
        mask = tuple(bool(names) for names in lay.b)
        return (
            put([list(r) for r in case.inputs]),
            put([list(r) for r in case.targets]),
            w,
            b,
            put(case.learning_rate),
            mask,
        )

    def _trace(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> mlp.Trace:
        x, t, w, b, eta, mask = self._arrays(case, params, dtype, device)
        s = _trace(case.spec, x, t, w, b, eta, config.update_order == "output-first", config.update_biases, mask)
        check_dtype(self.name, str(s["e_o"].dtype), dtype)
        lay = case.layout
        return mlp.Trace(
            [
                mlp.Layer(_lists(z), _lists(a), _lists(d), _lists(dd), _lists(de))
                for z, a, d, dd, de in zip(s["zs"], s["acts"], s["d_outs"], s["dout_dnets"], s["deltas"])
            ],
            _lists(s["e_o"]),
            float(s["e_total"]),
            [_lists(v) or [] for v in s["w_seen"]],
            [_lists(g) for g in s["grad_w"]],
            [_lists(g) if lay.b[l] else [] for l, g in enumerate(s["grad_b"])],
            mlp.Net([_lists(v) for v in s["new_w"]], [_lists(v) if lay.b[l] else [] for l, v in enumerate(s["new_b"])]),
        )

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        x, t, w, b, eta, mask = self._arrays(case, params, dtype, device)
        (w, b), losses = _train(
            case.spec, (w, b), x, t, eta, steps, config.update_order == "output-first", config.update_biases, mask
        )
        check_dtype(self.name, str(losses.dtype), dtype)
        lay = case.layout
        named = dict(zip(lay.weights, jnp.concatenate([v.ravel() for v in w]).tolist()))
        named.update(
            zip(lay.biases, jnp.concatenate([v.ravel() for v, n in zip(b, lay.b) if n]).tolist() if lay.biases else [])
        )
        return Training(named, losses.tolist())
