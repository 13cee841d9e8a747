"""Backpropagation by hand, to be read next to the post: one function per equation.

Plain Python, no NumPy, generic over the number type (`reference.arith`): run on floats it is
the float64 reference, on float32 scalars the float32 reference, on 60-digit MPFR or mpmath
numbers the exact oracle. Lists are indexed like the post's subscripts: x[i] is i_(i+1),
w_h[h][i] the weight from input i to hidden neuron h, w_o[o][h] from hidden h to output o.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bpcheck.reference.arith import Arithmetic, squared

Num = Any  # float, numpy.float32, gmpy2.mpfr or mpmath.mpf


# --- The forward pass ---------------------------------------------------------------------


def total_net_input(weights: Sequence[Num], inputs: Sequence[Num], bias: Num) -> Num:
    """net_h1 = w1 * i1 + w2 * i2 + b1 * 1, summed left to right as written."""
    total = weights[0] * inputs[0]
    for w, x in zip(weights[1:], inputs[1:]):
        total = total + w * x
    return total + bias * 1


def logistic(net: Num, a: Arithmetic) -> Num:
    """out_h1 = 1 / (1 + e^-net_h1): the post's squashing function."""
    return 1 / (1 + a.exp(-net))


def squared_error(target: Num, out: Num, a: Arithmetic) -> Num:
    """E_o1 = 1/2 (target_o1 - out_o1)^2."""
    return a.num(0.5) * squared(target - out)


# --- The backwards pass --------------------------------------------------------------------


def error_wrt_output(target: Num, out: Num) -> Num:
    """dE_total/dout_o1 = -(target_o1 - out_o1)."""
    return -(target - out)


def logistic_derivative(out: Num) -> Num:
    """dout_o1/dnet_o1 = out_o1 (1 - out_o1): the logistic's derivative, from its output."""
    return out * (1 - out)


def node_delta(d_out: Num, out_d_net: Num) -> Num:
    """delta_o1 = dE_total/dout_o1 * dout_o1/dnet_o1 = dE_total/dnet_o1."""
    return d_out * out_d_net


def error_wrt_hidden_output(deltas: Sequence[Num], weights_to_h: Sequence[Num]) -> list[Num]:
    """dE_o/dout_h1 = delta_o * w_(h1->o), one term per output neuron o."""
    return [d * w for d, w in zip(deltas, weights_to_h)]


def total(terms: Sequence[Num]) -> Num:
    """dE_total/dout_h1 = dE_o1/dout_h1 + dE_o2/dout_h1 (and the sum of deltas for a shared bias)."""
    result = terms[0]
    for term in terms[1:]:
        result = result + term
    return result


def gradient(delta: Num, input_of_weight: Num) -> Num:
    """dE_total/dw5 = delta_o1 * out_h1 (dnet_o1/dw5 = out_h1): the delta rule."""
    return delta * input_of_weight


def updated(value: Num, eta: Num, grad: Num) -> Num:
    """w5+ = w5 - eta * dE_total/dw5."""
    return value - eta * grad


# --- One training step, every quantity named -------------------------------------------------


@dataclass
class Net:
    """Parameters in list form: w_h[h][i], b1, w_o[o][h], b2."""

    w_h: list[list[Num]]
    b1: Num
    w_o: list[list[Num]]
    b2: Num


@dataclass
class Step:
    """Every intermediate of one training step, as lists indexed like the post's subscripts."""

    net_h: list[Num]
    out_h: list[Num]
    net_o: list[Num]
    out_o: list[Num]
    e_o: list[Num]
    e_total: Num
    d_out_o: list[Num]
    dout_dnet_o: list[Num]
    delta_o: list[Num]
    dnet_o_dw: list[list[Num]]  # [o][h]: dnet_o/dw_(h->o) = out_h
    dnet_o_dout_h: list[list[Num]]  # [o][h]: the w_(h->o) the hidden deltas were computed with
    d_e_o_d_out_h: list[list[Num]]  # [h][o]
    d_out_h: list[Num]
    dout_dnet_h: list[Num]
    delta_h: list[Num]
    dnet_h_dw: list[list[Num]]  # [h][i]: dnet_h/dw_(i->h) = i
    grad_w_h: list[list[Num]]
    grad_w_o: list[list[Num]]
    grad_b1: Num
    grad_b2: Num
    new: Net


def training_step(
    x: list[Num],
    t: list[Num],
    net: Net,
    eta: Num,
    a: Arithmetic,
    output_first: bool = False,
    update_biases: bool = False,
) -> Step:
    """One forward pass, one backwards pass, one update.

    `output_first`: the hidden deltas use the already-updated w5..w8 (not what the post's text
    says, but what reproduces some of its closing figures).
    """
    # Forward: hidden layer, then output layer, then the error.
    net_h = [total_net_input(row, x, net.b1) for row in net.w_h]
    out_h = [logistic(n, a) for n in net_h]
    net_o = [total_net_input(row, out_h, net.b2) for row in net.w_o]
    out_o = [logistic(n, a) for n in net_o]
    e_o = [squared_error(t_o, o, a) for t_o, o in zip(t, out_o)]
    e_total = total(e_o)

    # Output layer: dE_total/dout_o, dout_o/dnet_o, delta_o, and the gradients of w5..w8.
    d_out_o = [error_wrt_output(t_o, o) for t_o, o in zip(t, out_o)]
    dout_dnet_o = [logistic_derivative(o) for o in out_o]
    delta_o = [node_delta(d, s) for d, s in zip(d_out_o, dout_dnet_o)]
    dnet_o_dw = [list(out_h) for _ in net_o]  # dnet_o1/dw5 = out_h1: w5 multiplies out_h1
    grad_w_o = [[gradient(d, h) for h in dnet] for d, dnet in zip(delta_o, dnet_o_dw)]
    w_o_new = [[updated(w, eta, g) for w, g in zip(ws, gs)] for ws, gs in zip(net.w_o, grad_w_o)]

    # Hidden layer: dE_o/dout_h through w_(h->o) (original, or updated when output_first).
    w_o_seen = w_o_new if output_first else net.w_o
    d_e_o_d_out_h = [error_wrt_hidden_output(delta_o, [row[h] for row in w_o_seen]) for h in range(len(out_h))]
    d_out_h = [total(terms) for terms in d_e_o_d_out_h]
    dout_dnet_h = [logistic_derivative(h) for h in out_h]
    delta_h = [node_delta(d, s) for d, s in zip(d_out_h, dout_dnet_h)]
    dnet_h_dw = [list(x) for _ in net_h]  # dnet_h1/dw1 = i1
    grad_w_h = [[gradient(d, i) for i in dnet] for d, dnet in zip(delta_h, dnet_h_dw)]
    w_h_new = [[updated(w, eta, g) for w, g in zip(ws, gs)] for ws, gs in zip(net.w_h, grad_w_h)]

    # Shared biases: b1 feeds every hidden neuron, so dE_total/db1 = sum of the hidden deltas.
    grad_b1, grad_b2 = total(delta_h), total(delta_o)
    b1_new = updated(net.b1, eta, grad_b1) if update_biases else net.b1
    b2_new = updated(net.b2, eta, grad_b2) if update_biases else net.b2
    return Step(
        net_h,
        out_h,
        net_o,
        out_o,
        e_o,
        e_total,
        d_out_o,
        dout_dnet_o,
        delta_o,
        dnet_o_dw,
        w_o_seen,
        d_e_o_d_out_h,
        d_out_h,
        dout_dnet_h,
        delta_h,
        dnet_h_dw,
        grad_w_h,
        grad_w_o,
        grad_b1,
        grad_b2,
        Net(w_h_new, b1_new, w_o_new, b2_new),
    )


def forward_pass(x: list[Num], t: list[Num], net: Net, a: Arithmetic) -> dict[str, Num]:
    """out_o1.. and E_total of a forward pass, nothing updated."""
    out_h = [logistic(total_net_input(row, x, net.b1), a) for row in net.w_h]
    out_o = [logistic(total_net_input(row, out_h, net.b2), a) for row in net.w_o]
    result = {f"out_o{k + 1}": o for k, o in enumerate(out_o)}
    result["E_total"] = total([squared_error(t_o, o, a) for t_o, o in zip(t, out_o)])
    return result
