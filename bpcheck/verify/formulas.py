"""The post's training step as a table of local formulas: each quantity from the quantities
(and leaves: inputs, targets, parameters, eta) it is computed from, with the functions of
reference/backprop.py, the post's equations.

Two uses: evaluated from the leaves it is one training step (tests check it equals
reference.trace.step_trace bit for bit), and applied to a person's own earlier values it tells
whether a wrong value follows from an earlier one (the walk's "carried"). A mistake of the
catalogue is this table with a formula swapped. Only the post's kind of network (one hidden
sigmoid layer, half-SSE, shared biases, one example) has a table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bpcheck.reference import backprop as bp
from bpcheck.reference.arith import Arithmetic
from bpcheck.reference.case import Case, Config

Num = Any


@dataclass(frozen=True)
class Formula:
    deps: tuple[str, ...]
    fn: Callable[..., Num]
    text: str  # in the post's notation, for reports


Table = dict[str, Formula]


def leaves(case: Case, params: dict[str, float], a: Arithmetic) -> dict[str, Num]:
    """i1.., target_o1.., every parameter, and eta, in number type `a`."""
    lay = case.layout
    out = {i: a.num(v) for i, v in zip(lay.inputs, case.inputs[0])}
    out.update({f"target_{o}": a.num(v) for o, v in zip(lay.outputs, case.targets[0])})
    out.update({p: a.num(v) for p, v in params.items()})
    out["eta"] = a.num(case.learning_rate)
    return out


def same(x: Num) -> Num:
    return x


def table(case: Case, config: Config, a: Arithmetic) -> Table:
    """The correct step of a post-shaped case under `config`."""
    lay = case.layout
    t: Table = {}
    add = lambda name, deps, fn, text: t.__setitem__(name, Formula(tuple(deps), fn, text))  # noqa: E731
    net = lambda n: lambda *v: bp.total_net_input(v[:n], v[n : 2 * n], v[2 * n])  # noqa: E731
    for layer, below, bias in (
        (lay.w_hidden, lay.inputs, "b1"),
        (lay.w_output, [f"out_{h}" for h in lay.hidden], "b2"),
    ):
        for ws, x in zip(layer, lay.labels[1] if bias == "b1" else lay.outputs):
            add(f"net_{x}", [*ws, *below, bias], net(len(ws)), " + ".join(f"{w} * {i}" for w, i in zip(ws, below)))
            add(f"out_{x}", [f"net_{x}"], lambda n: bp.logistic(n, a), f"1 / (1 + e^-net_{x})")
    for o in lay.outputs:
        add(f"E_{o}", [f"target_{o}", f"out_{o}"], lambda tg, y: bp.squared_error(tg, y, a), "1/2 (target - out)^2")
        add(f"dE_total/dout_{o}", [f"target_{o}", f"out_{o}"], bp.error_wrt_output, "-(target - out)")
        add(f"dout_{o}/dnet_{o}", [f"out_{o}"], bp.logistic_derivative, f"out_{o} (1 - out_{o})")
        add(f"delta_{o}", [f"dE_total/dout_{o}", f"dout_{o}/dnet_{o}"], bp.node_delta, "dE/dout * dout/dnet")
    add("E_total", [f"E_{o}" for o in lay.outputs], lambda *e: bp.total(e), "sum of E_o")
    seen = "+" if config.update_order == "output-first" else ""
    for o, row in zip(lay.outputs, lay.w_output):
        for w, h in zip(row, lay.hidden):
            add(f"dnet_{o}/d{w}", [f"out_{h}"], same, f"out_{h}")
            add(f"dE_total/d{w}", [f"delta_{o}", f"dnet_{o}/d{w}"], bp.gradient, f"delta_{o} * out_{h}")
            add(f"dnet_{o}/dout_{h}", [w + seen], same, w + seen)
            add(f"dE_{o}/dout_{h}", [f"delta_{o}", f"dnet_{o}/dout_{h}"], _through, f"delta_{o} * {w + seen}")
    for h, row in zip(lay.hidden, lay.w_hidden):
        add(f"dE_total/dout_{h}", [f"dE_{o}/dout_{h}" for o in lay.outputs], lambda *e: bp.total(e), "sum over o")
        add(f"dout_{h}/dnet_{h}", [f"out_{h}"], bp.logistic_derivative, f"out_{h} (1 - out_{h})")
        add(f"delta_{h}", [f"dE_total/dout_{h}", f"dout_{h}/dnet_{h}"], bp.node_delta, "dE/dout * dout/dnet")
        for w, i in zip(row, lay.inputs):
            add(f"dnet_{h}/d{w}", [i], same, i)
            add(f"dE_total/d{w}", [f"delta_{h}", f"dnet_{h}/d{w}"], bp.gradient, f"delta_{h} * {i}")
    add("dE_total/db1", [f"delta_{h}" for h in lay.hidden], lambda *d: bp.total(d), "sum of the hidden deltas")
    add("dE_total/db2", [f"delta_{o}" for o in lay.outputs], lambda *d: bp.total(d), "sum of the output deltas")
    for p in lay.parameters:
        if p in ("b1", "b2") and not config.update_biases:
            add(f"{p}+", [p], same, f"{p} (not updated)")
        else:
            add(f"{p}+", [p, "eta", f"dE_total/d{p}"], bp.updated, f"{p} - eta * dE_total/d{p}")
    return t


def _through(delta: Num, weight: Num) -> Num:
    """dE_o/dout_h = delta_o * w_(h->o)."""
    return bp.error_wrt_hidden_output([delta], [weight])[0]


def evaluate(t: Table, env: dict[str, Num]) -> dict[str, Num]:
    """Every quantity of the table from the leaves in `env` (dependencies first)."""
    values = dict(env)

    def get(name: str) -> Num:
        if name not in values:
            f = t[name]
            values[name] = f.fn(*(get(d) for d in f.deps))
        return values[name]

    return {name: get(name) for name in t}
