"""Backpropagation by hand for any small multilayer perceptron, generic over the number type.

The post's equations (reference/backprop.py) for any number of layers, the activations of
reference/activations.py, four losses, a batch with sum or mean reduction, and per-neuron,
shared or no biases. Plain loops, no NumPy. Lists are indexed [example][neuron]; weights
w[l][j][k] go from neuron k of layer l to neuron j of layer l + 1. Numerically stable forms
throughout: the logistic never exponentiates a positive number, binary cross-entropy is
computed from the logits, softmax cross-entropy through log-sum-exp.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bpcheck.reference import activations
from bpcheck.reference.arith import Arithmetic, real, squared

Num = Any
ACTIVATIONS = activations.NAMES
LOSSES = ("half-sse", "mse", "bce", "softmax-ce")
BIASES = ("per-neuron", "shared-per-layer", "none")
REDUCTIONS = ("sum", "mean")
#: Losses whose output delta comes straight from the logits (dE/dout and dout/dnet are not used).
LOGIT_LOSSES = ("bce", "softmax-ce")


@dataclass(frozen=True)
class Spec:
    """The shape of a network and its loss; everything but the numbers."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]  # one per layer after the inputs
    loss: str = "half-sse"
    bias: str = "shared-per-layer"
    reduction: str = "sum"


class Rows(Sequence[list[Num]]):
    """A list of `n` rows made when read: row j is `row(j)`, made anew each time and kept nowhere.
    What a wide layer's weights, gradients and updates are where each row is read once, in order
    (a wide network's numbers of the reference's types would not fit in memory otherwise)."""

    __slots__ = ("n", "row")

    def __init__(self, n: int, row: Callable[[int], list[Num]]):
        self.n, self.row = n, row

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, j: Any) -> Any:
        if isinstance(j, slice):
            return [self.row(i) for i in range(*j.indices(self.n))]
        j = j + self.n if j < 0 else j
        if not 0 <= j < self.n:
            raise IndexError(j)
        return self.row(j)

    def __iter__(self) -> Iterator[list[Num]]:
        return (self.row(j) for j in range(self.n))


@dataclass
class Net:
    """w[l][j][k]: weight into neuron j of layer l+1 from neuron k of layer l; b[l]: the biases
    of layer l+1 (one per neuron, one shared, or none)."""

    w: list[Sequence[list[Num]]]  # each layer a list of rows, or Rows made when read
    b: list[list[Num]]


@dataclass
class Layer:
    """One layer after the inputs, every list [example][neuron]."""

    net: list[list[Num]]
    out: list[list[Num]]
    d_out: list[list[Num]] | None  # dE_total/dout (None at a logit-loss output layer)
    dout_dnet: list[list[Num]] | None  # None at a logit-loss output layer
    delta: list[list[Num]]  # dE_total/dnet


@dataclass
class Trace:
    layers: list[Layer]
    e_o: list[list[Num]]  # [example][output]: each output's share of E_total before reduction
    e_total: Num
    w_seen: list[list[list[list[Num]]]]  # [l] the weights layer l's deltas were propagated through
    grad_w: list[Sequence[list[Num]]]
    grad_b: list[list[Num]]
    new: Net


# --- activations and their derivatives (reference/activations.py) -----------------------


def activate(kind: str, net: Num, a: Arithmetic) -> Num:
    act = activations.get(kind)
    return a.activate(act, net) if a.activate else act.f(net, a)


def derivative(kind: str, net: Num, out: Num, a: Arithmetic) -> Num:
    """dout/dnet, from out where the post does (sigmoid, tanh); at a kink its left side."""
    act = activations.get(kind)
    return a.derivative(act, net, out) if a.derivative else act.derivative(net, out, a)


# --- losses ----------------------------------------------------------------------------------


def softplus(z: Num, a: Arithmetic) -> Num:
    """log(1 + e^z) = max(z, 0) + log1p(e^-|z|)."""
    return z + a.log1p(a.exp(-z)) if real(z) >= 0 else a.log1p(a.exp(z))


def output_errors(loss: str, net: Sequence[Num], out: Sequence[Num], t: Sequence[Num], a: Arithmetic) -> list[Num]:
    """Each output's share of one example's error."""
    shares = _output_errors(loss, net, out, t, a)
    return a.loss_terms(loss, net, shares) if a.loss_terms and loss in LOGIT_LOSSES else shares


def _output_errors(loss: str, net: Sequence[Num], out: Sequence[Num], t: Sequence[Num], a: Arithmetic) -> list[Num]:
    n = len(out)
    if loss == "half-sse":
        return [a.num(0.5) * squared(tk - o) for tk, o in zip(t, out)]
    if loss == "mse":
        return [squared(tk - o) / n for tk, o in zip(t, out)]
    if loss == "bce":  # -[t log s(z) + (1-t) log(1 - s(z))] = softplus(z) - t z
        return [softplus(z, a) - tk * z for tk, z in zip(t, net)]
    if loss == "softmax-ce":  # -t log softmax(z) = t (lse(z) - z)
        top = max(net, key=real)
        lse = top + a.log1p(sum((a.exp(z - top) for z in net), a.num(0.0)) - 1)
        return [tk * (lse - z) for tk, z in zip(t, net)]
    raise ValueError(f"unknown loss {loss!r}")


def softmax(net: Sequence[Num], a: Arithmetic) -> list[Num]:
    top = max(net, key=real)
    e = [a.exp(z - top) for z in net]
    s = sum(e[1:], e[0])
    return [v / s for v in e]


def d_error_d_out(loss: str, out: Num, t: Num, n_out: int) -> Num:
    """dE/dout of one example's error (half-sse: -(t - out), the post's)."""
    if loss == "half-sse":
        return -(t - out)
    if loss == "mse":
        return -2 * (t - out) / n_out
    raise ValueError(f"{loss} takes its delta from the logits")


def logit_delta(loss: str, out: Sequence[Num], t: Sequence[Num]) -> list[Num]:
    """dE/dnet at the output for the logit losses: out - t (softmax: out * sum(t) - t)."""
    if loss == "bce":
        return [o - tk for o, tk in zip(out, t)]
    total = sum(t[1:], t[0])
    return [o * total - tk for o, tk in zip(out, t)]


# --- one training step ----------------------------------------------------------------------


def total(values: Sequence[Num]) -> Num:
    result = values[0]
    for v in values[1:]:
        result = result + v
    return result


def bias_of(spec: Spec, b: list[Num], j: int, a: Arithmetic) -> Num:
    if spec.bias == "none":
        return a.num(0.0)
    return b[0] if spec.bias == "shared-per-layer" else b[j]


def forward(
    spec: Spec, x: list[list[Num]], net: Net, a: Arithmetic
) -> tuple[list[list[list[Num]]], list[list[list[Num]]]]:
    """nets[l][n][j] and outs[l][n][j] of every layer after the inputs, for each example n."""
    nets, outs = [], []
    below = x
    last = len(net.w) - 1
    for l, (w, b) in enumerate(zip(net.w, net.b)):
        kind = spec.activations[l]
        z = [
            [total([wk * xk for wk, xk in zip(row, xn)]) + bias_of(spec, b, j, a) for j, row in enumerate(w)]
            for xn in below
        ]
        if l == last and spec.loss == "softmax-ce":
            o = [softmax(zn, a) for zn in z]
        else:
            o = [[activate(kind, zj, a) for zj in zn] for zn in z]
        nets.append(z)
        outs.append(o)
        below = o
    return nets, outs


def loss_of(
    spec: Spec, nets: list[list[list[Num]]], outs: list[list[list[Num]]], t: list[list[Num]], a: Arithmetic
) -> tuple[list[list[Num]], Num]:
    """(e_o[n][k], E_total): per-output errors and their reduction over the batch."""
    e_o = [output_errors(spec.loss, zn, on, tn, a) for zn, on, tn in zip(nets[-1], outs[-1], t)]
    e_total = total([total(en) for en in e_o])
    return e_o, (e_total / len(t) if spec.reduction == "mean" else e_total)


def training_step(
    spec: Spec,
    x: list[list[Num]],
    t: list[list[Num]],
    net: Net,
    eta: Num,
    a: Arithmetic,
    output_first: bool = False,
    update_biases: bool = False,
    keep: str = "all",
    lazy: bool = False,
) -> Trace:
    """Forward, backwards (layer by layer from the output), update. `output_first`: each layer
    is updated as soon as its gradient is known, and the layer below backpropagates through
    the updated weights (the post's closing figures need this for the 2-2-2 net).
    `keep` saves memory on a wide network where only part of the trace is read: "gradients"
    makes no update (new is net itself; simultaneous updates only), "updates" lets each
    layer's weight gradients go once its update is made (grad_w[l] is then empty).
    `lazy`: the weight gradients and updates are Rows, each row computed when read (the same
    operations in the same order, so the same numbers), for a reader that reads each once."""
    nets, outs = forward(spec, x, net, a)
    e_o, e_total = loss_of(spec, nets, outs, t, a)
    r = a.num(1.0) / len(t) if spec.reduction == "mean" else a.num(1.0)  # dE_total/dE_example
    depth = len(net.w)
    layers: list[Layer] = [None] * depth  # type: ignore[list-item]
    grad_w: list[Sequence[list[Num]]] = [[] for _ in range(depth)]
    grad_b: list[list[Num]] = [[] for _ in range(depth)]
    new_w, new_b = list(net.w), list(net.b)
    w_seen: list[list[list[list[Num]]]] = [[] for _ in range(depth)]
    d_out: list[list[Num]] | None
    for l in range(depth - 1, -1, -1):
        kind, z, o = spec.activations[l], nets[l], outs[l]
        if l == depth - 1:
            if spec.loss in LOGIT_LOSSES:
                d_out, dout_dnet = None, None
                delta = [[r * d for d in logit_delta(spec.loss, on, tn)] for on, tn in zip(o, t)]
            else:
                n_out = len(o[0])
                d_out = [
                    [r * d_error_d_out(spec.loss, oj, tj, n_out) for oj, tj in zip(on, tn)] for on, tn in zip(o, t)
                ]
        else:
            above = new_w[l + 1] if output_first else net.w[l + 1]
            if not isinstance(above, list):  # Rows: each made once here, read once per neuron below
                above = list(above)
            w_seen[l + 1] = above
            below_delta = layers[l + 1].delta
            d_out = [
                [total([dn[k] * above[k][j] for k in range(len(above))]) for j in range(len(above[0]))]
                for dn in below_delta
            ]
        if d_out is not None:
            dout_dnet = [[derivative(kind, zj, oj, a) for zj, oj in zip(zn, on)] for zn, on in zip(z, o)]
            delta = [[dj * sj for dj, sj in zip(dn, sn)] for dn, sn in zip(d_out, dout_dnet)]
        layers[l] = Layer(z, o, d_out, dout_dnet, delta)
        inputs = x if l == 0 else outs[l - 1]

        def grad_row(j: int, delta: list[list[Num]] = delta, inputs: list[list[Num]] = inputs) -> list[Num]:
            return [total([delta[n][j] * inputs[n][k] for n in range(len(x))]) for k in range(len(inputs[0]))]

        grad_w[l] = Rows(len(delta[0]), grad_row) if lazy else [grad_row(j) for j in range(len(delta[0]))]
        per_neuron = [total([delta[n][j] for n in range(len(x))]) for j in range(len(delta[0]))]
        grad_b[l] = (
            [] if spec.bias == "none" else [total(per_neuron)] if spec.bias == "shared-per-layer" else per_neuron
        )
        if keep == "gradients" and not output_first:
            continue
        if lazy:

            def new_row(j: int, w: Sequence[list[Num]] = net.w[l], g: Sequence[list[Num]] = grad_w[l]) -> list[Num]:
                return updated_row(w[j], g[j], eta)

            new_w[l] = Rows(len(net.w[l]), new_row)
        else:
            new_w[l] = [updated_row(ws, gs, eta) for ws, gs in zip(net.w[l], grad_w[l])]
        new_b[l] = [b - eta * g for b, g in zip(net.b[l], grad_b[l])] if update_biases else list(net.b[l])
        if keep == "updates":
            grad_w[l] = []
    return Trace(layers, e_o, e_total, w_seen, grad_w, grad_b, Net(new_w, new_b))


def updated_row(ws: Sequence[Num], gs: Sequence[Num], eta: Num) -> list[Num]:
    """w - eta * dE_total/dw for each weight of a row."""
    return [w - eta * g for w, g in zip(ws, gs)]
