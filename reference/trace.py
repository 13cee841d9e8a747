"""Runs the hand-written backprop on a case and names what it computes."""

from __future__ import annotations

from dataclasses import dataclass

from reference.arith import Arithmetic
from reference.backprop import Net, Num, Step, forward_pass, training_step
from reference.case import Case, Config
from reference.quantities import Layout


@dataclass
class Training:
    """The parameters after N updates, and E_total of every step's forward pass (losses[k] is
    the error after k updates, k = 0..N-1)."""

    params: dict[str, Num]
    losses: list[Num]


def to_net(layout: Layout, params: dict[str, float], a: Arithmetic) -> Net:
    num = a.num
    return Net(
        [[num(params[w]) for w in row] for row in layout.w_hidden],
        num(params["b1"]),
        [[num(params[w]) for w in row] for row in layout.w_output],
        num(params["b2"]),
    )


def from_net(layout: Layout, net: Net) -> dict[str, Num]:
    named: dict[str, Num] = {}
    for names, values in ((layout.w_hidden, net.w_h), (layout.w_output, net.w_o)):
        for name_row, value_row in zip(names, values):
            named.update(zip(name_row, value_row))
    named["b1"], named["b2"] = net.b1, net.b2
    return named


def name_step(layout: Layout, s: Step) -> dict[str, Num]:
    """Every intermediate of a training step under its vocabulary name."""
    q: dict[str, Num] = {}
    for k, h in enumerate(layout.hidden):
        q[f"net_{h}"], q[f"out_{h}"] = s.net_h[k], s.out_h[k]
    for k, o in enumerate(layout.outputs):
        q[f"net_{o}"], q[f"out_{o}"], q[f"E_{o}"] = s.net_o[k], s.out_o[k], s.e_o[k]
    q["E_total"] = s.e_total
    for k, o in enumerate(layout.outputs):
        q[f"dE_total/dout_{o}"] = s.d_out_o[k]
        q[f"dout_{o}/dnet_{o}"] = s.dout_dnet_o[k]
        q[f"delta_{o}"] = s.delta_o[k]
        for j, w in enumerate(layout.w_output[k]):
            q[f"dnet_{o}/d{w}"] = s.dnet_o_dw[k][j]
            q[f"dE_total/d{w}"] = s.grad_w_o[k][j]
    for j, h in enumerate(layout.hidden):
        for k, o in enumerate(layout.outputs):
            q[f"dnet_{o}/dout_{h}"] = s.dnet_o_dout_h[k][j]
            q[f"dE_{o}/dout_{h}"] = s.d_e_o_d_out_h[j][k]
        q[f"dE_total/dout_{h}"] = s.d_out_h[j]
        q[f"dout_{h}/dnet_{h}"] = s.dout_dnet_h[j]
        q[f"delta_{h}"] = s.delta_h[j]
        for i, w in enumerate(layout.w_hidden[j]):
            q[f"dnet_{h}/d{w}"] = s.dnet_h_dw[j][i]
            q[f"dE_total/d{w}"] = s.grad_w_h[j][i]
    q["dE_total/db1"], q["dE_total/db2"] = s.grad_b1, s.grad_b2
    q.update({f"{p}+": v for p, v in from_net(layout, s.new).items()})
    return q


def _data(case: Case, a: Arithmetic) -> tuple[list[Num], list[Num], Num]:
    return [a.num(v) for v in case.inputs], [a.num(v) for v in case.targets], a.num(case.learning_rate)


def step_trace(case: Case, params: dict[str, float], config: Config, a: Arithmetic) -> dict[str, Num]:
    """Every quantity of one training step from `params`, in number type `a`."""
    with a.context():
        x, t, eta = _data(case, a)
        s = training_step(
            x,
            t,
            to_net(case.layout, params, a),
            eta,
            a,
            output_first=config.update_order == "output-first",
            update_biases=config.update_biases,
        )
        return name_step(case.layout, s)


def train(case: Case, params: dict[str, float], config: Config, steps: int, a: Arithmetic) -> Training:
    """`steps` training steps from `params`."""
    with a.context():
        x, t, eta = _data(case, a)
        net = to_net(case.layout, params, a)
        losses = []
        output_first, update_biases = config.update_order == "output-first", config.update_biases
        for _ in range(steps):
            s = training_step(x, t, net, eta, a, output_first, update_biases)
            losses.append(s.e_total)
            net = s.new
        return Training(from_net(case.layout, net), losses)


def forward(case: Case, params: dict[str, Num], a: Arithmetic) -> dict[str, Num]:
    """out_o1.. and E_total at `params` (already in number type `a`)."""
    with a.context():
        x, t, _ = _data(case, a)
        net = Net(
            [[params[w] for w in row] for row in case.layout.w_hidden],
            params["b1"],
            [[params[w] for w in row] for row in case.layout.w_output],
            params["b2"],
        )
        return forward_pass(x, t, net, a)
