"""The network as pure functions of its parameters, for the functional autodiff APIs
(`jax.grad`/`jax.vjp` and `torch.func.grad`/`torch.func.vjp`): written once against `Ops`, the
few primitives that differ between the two, so `jax`, `jax-jit` and `torch-func` compute the
same expressions and differ only in the framework (and whether it is compiled).

Every chain piece is asked of the framework: dE_total/dout of a layer is the gradient of
E_total as a function of that layer's output, delta the gradient as a function of its net
input, dout/dnet the gradient of sum(f(net)). Under "output-first" each layer below the output
gets delta_above backpropagated through the *updated* weights, as the gradient of
delta_above . net_above(W+).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from bpcheck.reference import mlp


@dataclass(frozen=True)
class Ops:
    """The primitives a framework supplies; everything else is written once below."""

    activate: Callable[[str, Any], Any]  # activate(kind, z): the framework's op (reference/activations.py)
    softmax: Callable[[Any], Any]  # over each row
    log_softmax: Callable[[Any], Any]
    softplus: Callable[[Any], Any]
    grad: Callable[[Callable[[Any], Any]], Callable[[Any], Any]]
    vjp: Callable[..., tuple[Any, Callable[[Any], Any]]]  # vjp(f, *primals) -> (out, pullback)
    value_and_grad: Callable[[Callable[..., Any]], Callable[..., Any]]  # over the first two arguments
    stop_gradient: Callable[[Any], Any]
    select: Callable[[Any, Any, Any], Any]  # select(condition, if_true, if_false)


def errors(ops: Ops, loss: str, z: Any, a: Any, t: Any) -> Any:
    """Each output's share of each example's error, [example][output]."""
    if loss == "half-sse":
        return 0.5 * (t - a) ** 2
    if loss == "mse":
        return (t - a) ** 2 / a.shape[1]
    if loss == "bce":
        return ops.softplus(z) - t * z
    return -t * ops.log_softmax(z)


Linear = Callable[[Any, Any, Any], Any]


def linear(a: Any, w: Any, b: Any) -> Any:
    return a @ w.T + b


def output(ops: Ops, spec: mlp.Spec, l: int, z: Any) -> Any:
    """Layer l's output from its net input: softmax at a softmax-ce output, else the activation."""
    last = l == len(spec.activations) - 1
    return ops.softmax(z) if last and spec.loss == "softmax-ce" else ops.activate(spec.activations[l], z)


def layer(ops: Ops, spec: mlp.Spec, l: int, a: Any, w: Any, b: Any, lin: Linear = linear) -> tuple[Any, Any]:
    z = lin(a, w, b)
    return z, output(ops, spec, l, z)


def reduce(spec: mlp.Spec, e_o: Any) -> Any:
    return e_o.sum() / e_o.shape[0] if spec.reduction == "mean" else e_o.sum()


def e_from_out(
    ops: Ops, spec: mlp.Spec, l: int, a: Any, w: list[Any], b: list[Any], t: Any, linears: list[Linear] | None = None
) -> Any:
    """E_total as a function of layer l's output (l = -1: the inputs); `linears` swaps in a
    linear map per layer."""
    z = None
    for k in range(l + 1, len(w)):
        z, a = layer(ops, spec, k, a, w[k], b[k], linears[k] if linears else linear)
    return reduce(spec, errors(ops, spec.loss, z, a, t))  # z None: only the squared errors read a


def e_from_net(ops: Ops, spec: mlp.Spec, l: int, z: Any, w: list[Any], b: list[Any], t: Any) -> Any:
    a = output(ops, spec, l, z)
    if l == len(w) - 1:
        return reduce(spec, errors(ops, spec.loss, z, a, t))
    return e_from_out(ops, spec, l, a, w, b, t)


def _activation_sum(ops: Ops, kind: str, z: Any) -> Any:
    """sum(f(net)): its gradient is f'(net), elementwise."""
    return ops.activate(kind, z).sum()


def through_updated(seen: Any, d_above: Any, b_above: Any, o: Any) -> Any:
    """delta_above . net_above, net_above computed with the updated weights: its gradient in
    o is delta_above backpropagated through W+."""
    return (d_above * (o @ seen.T + b_above)).sum()


def through_updated_net(ops: Ops, kind: str, seen: Any, d_above: Any, b_above: Any, z: Any) -> Any:
    return through_updated(seen, d_above, b_above, ops.activate(kind, z))


def trace(
    ops: Ops,
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
    """Every quantity of one training step, each derivative asked of the framework."""
    depth = len(w)
    zs, acts, a = [], [], x
    for l in range(depth):
        z, a = layer(ops, spec, l, a, w[l], b[l])
        zs.append(z)
        acts.append(a)
    e_o = errors(ops, spec.loss, zs[-1], acts[-1], t)
    out: dict[str, Any] = {"zs": zs, "acts": acts, "e_o": e_o, "e_total": reduce(spec, e_o)}
    d_outs, dout_dnets, deltas = [None] * depth, [None] * depth, [None] * depth
    grad_w, grad_b, new_w, w_seen = [None] * depth, [None] * depth, list(w), [None] * depth
    below = [x] + acts[:-1]
    for l in range(depth - 1, -1, -1):
        logit_output = l == depth - 1 and spec.loss in mlp.LOGIT_LOSSES
        e_of_out: Callable[[Any], Any]
        e_of_net: Callable[[Any], Any]
        if l == depth - 1 or not output_first:
            e_of_out = partial(e_from_out, ops, spec, l, w=w, b=b, t=t)
            e_of_net = partial(e_from_net, ops, spec, l, w=w, b=b, t=t)
        else:  # backpropagate the layer above's delta through its updated weights
            seen, d_above, b_above = new_w[l + 1], ops.stop_gradient(deltas[l + 1]), b[l + 1]
            e_of_out = partial(through_updated, seen, d_above, b_above)
            e_of_net = partial(through_updated_net, ops, spec.activations[l], seen, d_above, b_above)
        if l < depth - 1:
            w_seen[l + 1] = new_w[l + 1] if output_first else w[l + 1]
        if not logit_output:
            d_outs[l] = ops.grad(e_of_out)(acts[l])
            dout_dnets[l] = ops.grad(partial(_activation_sum, ops, spec.activations[l]))(zs[l])
        deltas[l] = ops.grad(e_of_net)(zs[l])
        grad_w[l], grad_b[l] = ops.vjp(lambda wl, bl, l=l: below[l] @ wl.T + bl, w[l], b[l])[1](deltas[l])
        new_w[l] = w[l] - eta * grad_w[l]
    new_b = [ops.select(update_biases, b[l] - eta * grad_b[l], b[l]) if bias_mask[l] else b[l] for l in range(depth)]
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


def update(
    ops: Ops,
    spec: mlp.Spec,
    params: tuple[list[Any], list[Any]],
    x: Any,
    t: Any,
    eta: Any,
    output_first: bool,
    update_biases: Any,
    bias_mask: tuple[bool, ...],
    step: Callable[..., dict[str, Any]] | None = None,
) -> tuple[tuple[list[Any], list[Any]], Any]:
    """One training step: the new (weights, biases) and this step's E_total. `step` gives an
    output-first step's e_total, grad_b and new_w (default: `trace` itself, uncompiled)."""
    w, b = params
    if not output_first:
        e_total, (g_w, g_b) = ops.value_and_grad(lambda w, b: e_from_out(ops, spec, -1, x, w, b, t))(w, b)
        new_w = [wl - eta * g for wl, g in zip(w, g_w)]
    else:
        s = (step or partial(trace, ops))(spec, x, t, w, b, eta, True, update_biases, bias_mask)
        e_total, g_b, new_w = s["e_total"], s["grad_b"], s["new_w"]
    new_b = [ops.select(update_biases, bl - eta * g, bl) if m else bl for bl, g, m in zip(b, g_b, bias_mask)]
    return (new_w, new_b), e_total
