"""Runs the hand-written backprop on a case and names what it computes."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bpcheck.reference import mlp
from bpcheck.reference.arith import Arithmetic
from bpcheck.reference.backprop import Net, Num, Step, forward_pass, training_step
from bpcheck.reference.case import Case, Config
from bpcheck.reference.quantities import Layout, Positional, rows_of


@dataclass
class Training:
    """The parameters after N updates, and E_total of every step's forward pass (losses[k] is
    the error after k updates, k = 0..N-1). A backend's (backends/protocol.py) are floats."""

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


def mlp_net(layout: Layout, params: dict[str, Num], convert: Callable[[Any], Num]) -> mlp.Net:
    """The parameters as mlp.Net's lists, each converted (a wide case's Positional: the weights
    as rows converted when read, mlp.Rows)."""
    if isinstance(params, Positional) and params.intact and params.start is None and params.layout == layout:
        return mlp.Net(
            [rows_of(params, l, convert) for l in range(len(layout.w))],
            [[convert(params[b]) for b in layer] for layer in layout.b],
        )
    return mlp.Net(
        [[[convert(params[w]) for w in row] for row in layer] for layer in layout.w],
        [[convert(params[b]) for b in layer] for layer in layout.b],
    )


def mlp_params(layout: Layout, net: mlp.Net) -> dict[str, Num]:
    named: dict[str, Num] = {}
    for names, values in zip(layout.w, net.w):
        for name_row, value_row in zip(names, values):
            named.update(zip(name_row, value_row))
    for names_b, values_b in zip(layout.b, net.b):
        named.update(zip(names_b, values_b))
    return named


def name_trace(layout: Layout, x: list[list[Num]], tr: mlp.Trace) -> dict[str, Num]:
    """Every intermediate of a general training step under its vocabulary name, in the
    layout's order."""
    return dict(zip(layout.step_names(), trace_values(layout, x, tr)))


def trace_values(layout: Layout, x: list[list[Num]], tr: mlp.Trace) -> Iterator[Num]:
    """The values of `name_trace`, one at a time, in the order of `layout.step_items()` (no
    names: a wide network's would outweigh its values)."""
    depth = len(tr.layers)
    logit_output = layout.loss in mlp.LOGIT_LOSSES

    def forward(n: int, l: int) -> Iterator[Num]:
        layer = tr.layers[l]
        for j in range(layout.sizes[l + 1]):
            yield layer.net[n][j]
            yield layer.out[n][j]

    def chain(l: int, n: int, j: int) -> Iterator[Num]:
        layer = tr.layers[l]
        if not (logit_output and l == depth - 1):
            yield layer.d_out[n][j]  # type: ignore[index]
            yield layer.dout_dnet[n][j]  # type: ignore[index]
        yield layer.delta[n][j]

    def errors() -> Iterator[Num]:
        for row in tr.e_o:
            yield from row
        yield tr.e_total

    if layout.has_connection_pieces:
        hidden, output = tr.layers
        yield from forward(0, 0)
        yield from forward(0, 1)
        yield from errors()
        for k in range(layout.sizes[2]):
            yield from chain(1, 0, k)
            yield from hidden.out[0]  # dnet_o/dw: the hidden outputs, weight by weight
        for j in range(layout.sizes[1]):
            for k in range(layout.sizes[2]):
                yield tr.w_seen[1][k][j]  # dnet_o/dout_h
                yield output.delta[0][k] * tr.w_seen[1][k][j]  # dE_o/dout_h
            yield from chain(0, 0, j)
            yield from x[0]  # dnet_h/dw: the inputs
    else:
        for n in range(layout.batch):
            for l in range(depth):
                yield from forward(n, l)
        yield from errors()
        for l in range(depth - 1, -1, -1):
            for n in range(layout.batch):
                for j in range(layout.sizes[l + 1]):
                    yield from chain(l, n, j)
    for l in range(depth - 1, -1, -1):
        for row in tr.grad_w[l]:
            yield from row
    for g in tr.grad_b:
        yield from g
    for rows in tr.new.w:
        for row in rows:
            yield from row
    for names_b, values_b in zip(layout.b, tr.new.b):
        yield from values_b[: len(names_b)]


def _batch(case: Case, a: Arithmetic) -> tuple[list[list[Num]], list[list[Num]], Num]:
    x = [[a.num(v) for v in row] for row in case.inputs]
    t = [[a.num(v) for v in row] for row in case.targets]
    return x, t, a.num(case.learning_rate)


def step_trace(case: Case, params: dict[str, float], config: Config, a: Arithmetic) -> dict[str, Num]:
    """Every quantity of one training step from `params`, in number type `a`. The post's kind
    of network runs the post's equations (reference/backprop.py); any other, reference/mlp.py."""
    output_first, update_biases = config.update_order == "output-first", config.update_biases
    with a.context():
        x, t, eta = _batch(case, a)
        if case.is_posts_network:
            s = training_step(x[0], t[0], to_net(case.layout, params, a), eta, a, output_first, update_biases)
            return name_step(case.layout, s)
        tr = mlp.training_step(
            case.spec, x, t, mlp_net(case.layout, params, a.num), eta, a, output_first, update_biases
        )
        return name_trace(case.layout, x, tr)


def step_values(
    case: Case,
    params: dict[str, float],
    config: Config,
    a: Arithmetic,
    keep: str = "all",
    collect: Callable[[Iterator[Num]], Any] = list,
) -> Any:
    """step_trace's values for a general network (reference/mlp.py), in the order of
    `case.layout.step_items()`, without names: all of them, or (`keep`) all but the updates
    ("gradients"), or the updates alone ("updates": the last parameter_count). The weight
    gradients and updates are made a row at a time as `collect` (in `a`'s context) reads them
    (mlp.training_step's `lazy`): what it keeps is all that stays (a list by default)."""
    output_first, update_biases = config.update_order == "output-first", config.update_biases
    with a.context():
        x, t, eta = _batch(case, a)
        net = mlp_net(case.layout, params, a.num)
        tr = mlp.training_step(case.spec, x, t, net, eta, a, output_first, update_biases, keep, lazy=True)
        return collect(iter_kept(case.layout, x, tr, keep))


def kept_values(layout: Layout, x: list[list[Num]], tr: mlp.Trace, keep: str) -> list[Num]:
    """trace_values, or the part of them `keep` names (see step_values)."""
    return list(iter_kept(layout, x, tr, keep))


def iter_kept(layout: Layout, x: list[list[Num]], tr: mlp.Trace, keep: str) -> Iterator[Num]:
    """kept_values one at a time."""
    if keep == "updates":
        weights = (v for rows in tr.new.w for row in rows for v in row)  # in the order of layout.parameters
        biases = (v for names, values in zip(layout.b, tr.new.b) for v in values[: len(names)])
        return itertools.chain(weights, biases)
    values = trace_values(layout, x, tr)
    if keep == "gradients":
        return itertools.islice(values, layout.quantity_count - layout.parameter_count)
    return values


def train(case: Case, params: dict[str, float], config: Config, steps: int, a: Arithmetic) -> Training:
    """`steps` training steps from `params`."""
    output_first, update_biases = config.update_order == "output-first", config.update_biases
    losses = []
    with a.context():
        x, t, eta = _batch(case, a)
        if case.is_posts_network:
            net = to_net(case.layout, params, a)
            for _ in range(steps):
                s = training_step(x[0], t[0], net, eta, a, output_first, update_biases)
                losses.append(s.e_total)
                net = s.new
            return Training(from_net(case.layout, net), losses)
        mnet = mlp_net(case.layout, params, a.num)
        for _ in range(steps):
            tr = mlp.training_step(case.spec, x, t, mnet, eta, a, output_first, update_biases)
            losses.append(tr.e_total)
            mnet = tr.new
        return Training(mlp_params(case.layout, mnet), losses)


def forward(case: Case, params: dict[str, Num], a: Arithmetic) -> dict[str, Num]:
    """Every output (out_o1, or out_o1[n] in a batch) and E_total at `params` (already in
    number type `a`)."""
    with a.context():
        x, t, _ = _batch(case, a)
        if case.is_posts_network:
            net = Net(
                [[params[w] for w in row] for row in case.layout.w_hidden],
                params["b1"],
                [[params[w] for w in row] for row in case.layout.w_output],
                params["b2"],
            )
            return forward_pass(x[0], t[0], net, a)
        nets, outs = mlp.forward(case.spec, x, mlp_net(case.layout, params, lambda v: v), a)
        result = {
            case.layout.ex(f"out_{o}", n): outs[-1][n][k]
            for n in range(len(x))
            for k, o in enumerate(case.layout.outputs)
        }
        result["E_total"] = mlp.loss_of(case.spec, nets, outs, t, a)[1]
        return result
