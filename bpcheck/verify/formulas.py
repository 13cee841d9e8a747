"""One training step of any case as a table of local formulas: each quantity of the vocabulary
(reference/quantities.py) from the quantities and leaves (inputs, targets, parameters, eta) it
is computed from, with the reference's own functions (reference/mlp.py, and for the post's kind
of network reference/backprop.py, the post's equations), in the same order of operations.

Derived from the case's network, not written per shape: any layer sizes and depth, any
activation, the four losses, a batch with either reduction, shared, per-neuron or no biases,
both update orders. Three uses:

- evaluated from the leaves it is one training step (tests check it equals
  reference.trace.step_trace bit for bit, on every bundled case);
- a mistake of the catalogue is this table with a formula swapped (bpcheck/verify/mistakes.py);
- applied to a person's own earlier values it says whether a value follows from them (the
  walk's "carried"): `Own` lists every way a value can be computed from the values given, by
  the table's formulas with any given chain piece bypassed, so dE_total/dw5 follows from
  dE_total/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5 (the post's three-factor form) as well as
  from delta_o1 * dnet_o1/dw5 (the delta form), and w5+ from w5 - eta * delta_o1 * out_h1.

`sign` = -1 is the other sign convention for delta: delta = -dE/dnet (many sources write
delta_o = (target - out) out (1 - out) and update w + eta * delta * x). Every quantity keeps its
meaning but the deltas, which change sign; so does each formula that uses one.

A formula's `text` is a template with each name in braces: "{w5} * {out_h1} + {w6} * {out_h2}".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from bpcheck.reference import backprop as bp
from bpcheck.reference import mlp
from bpcheck.reference.arith import Arithmetic
from bpcheck.reference.case import Case, Config

Num = Any
_TOKEN = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class Formula:
    deps: tuple[str, ...]
    fn: Callable[..., Num]
    text: str  # a template: every name in braces


class Table(dict[str, Formula]):
    """The primary formula of each quantity (what the reference computes). `sign` is the
    delta convention the table was built for; `shown` the form a quantity is displayed in where
    the post writes it otherwise (dE_total/dw5 as three factors)."""

    def __init__(self, sign: int = 1) -> None:
        super().__init__()
        self.sign = sign
        self.shown: dict[str, Formula] = {}

    def add(self, name: str, deps: list[str], fn: Callable[..., Num], text: str) -> None:
        self[name] = Formula(tuple(deps), fn, text)

    def display(self, name: str) -> Formula:
        return self.shown.get(name, self[name])


def symbolic(text: str) -> str:
    """A template without its braces."""
    return _TOKEN.sub(lambda m: m.group(1), text)


def leaves(case: Case, params: Mapping[str, Num], a: Arithmetic) -> dict[str, Num]:
    """i1.., target_o1.. (i1[2].. in a batch), every parameter, and eta, in number type `a`."""
    lay = case.layout
    out: dict[str, Num] = {}
    for n, (x, t) in enumerate(zip(case.inputs, case.targets)):
        out.update({lay.ex(i, n): a.num(v) for i, v in zip(lay.inputs, x)})
        out.update({lay.ex(f"target_{o}", n): a.num(v) for o, v in zip(lay.outputs, t)})
    out.update({p: a.num(v) for p, v in params.items()})
    out["eta"] = a.num(case.learning_rate)
    return out


def same(x: Num) -> Num:
    return x


def _braced(names: list[str], sep: str = " + ") -> str:
    return sep.join(f"{{{n}}}" for n in names)


ACTIVATION_TEXT = {
    "sigmoid": "1 / (1 + e^-{z})",
    "tanh": "tanh({z})",
    "relu": "max(0, {z})",
    "leaky_relu": "max(0.01 * {z}, {z})",
    "identity": "{z}",
}
#: dout/dnet of each activation: from out where the post computes it so (sigmoid, tanh), else from net
DERIVATIVE_FROM = {"sigmoid": "out", "tanh": "out", "relu": "net", "leaky_relu": "net", "identity": None}
DERIVATIVE_TEXT = {
    "sigmoid": "{y} * (1 - {y})",
    "tanh": "1 - {y}^2",
    "relu": "(1 if {z} > 0 else 0)",
    "leaky_relu": "(1 if {z} > 0 else 0.01)",
    "identity": "1",
}


def table(case: Case, config: Config, a: Arithmetic, sign: int = 1) -> Table:
    """The correct step of `case` under `config`, as the reference computes it; `sign` -1: the
    deltas are -dE/dnet (the other convention)."""
    lay, spec = case.layout, case.spec
    t = Table(sign)
    depth, batch = len(spec.sizes) - 1, lay.batch
    ex = lay.ex
    post = case.is_posts_network
    logits = spec.loss in mlp.LOGIT_LOSSES
    n_out = spec.sizes[-1]
    flip: Callable[[Num], Num] = (lambda x: -x) if sign < 0 else same
    minus = "-" if sign < 0 else ""
    r = a.num(1.0) / batch if spec.reduction == "mean" else a.num(1.0)  # dE_total/dE_example
    per = f" / {batch}" if spec.reduction == "mean" else ""
    fn: Callable[..., Num]

    def below(l: int, n: int) -> list[str]:
        return [ex(i, n) for i in lay.inputs] if l == 0 else [ex(f"out_{x}", n) for x in lay.labels[l]]

    def bias(l: int, j: int) -> str | None:
        if not lay.b[l]:
            return None
        return lay.b[l][0] if spec.bias == "shared-per-layer" else lay.b[l][j]

    # --- forward ----------------------------------------------------------------------------
    for n in range(batch):
        for l in range(depth):
            kind = spec.activations[l]
            for j, x in enumerate(lay.labels[l + 1]):
                ws, b, xs = lay.w[l][j], bias(l, j), below(l, n)
                text = " + ".join(f"{{{w}}} * {{{i}}}" for w, i in zip(ws, xs)) + (f" + {{{b}}} * 1" if b else "")
                t.add(ex(f"net_{x}", n), [*ws, *xs, *([b] if b else [])], _net(len(ws), b is not None), text)
            nets = [ex(f"net_{x}", n) for x in lay.labels[l + 1]]
            for j, x in enumerate(lay.labels[l + 1]):
                if l == depth - 1 and spec.loss == "softmax-ce":
                    fn = lambda *z, j=j: mlp.softmax(z, a)[j]  # noqa: E731
                    t.add(
                        ex(f"out_{x}", n), nets, fn, f"e^{{{nets[j]}}} / ({_braced(nets, ' + ').replace('{', 'e^{')})"
                    )
                    continue
                act = partial(bp.logistic, a=a) if post else partial(mlp.activate, kind, a=a)
                t.add(ex(f"out_{x}", n), [nets[j]], act, ACTIVATION_TEXT[kind].replace("{z}", f"{{{nets[j]}}}"))

    # --- the error ----------------------------------------------------------------------------
    errors = []
    for n in range(batch):
        nets = [ex(f"net_{o}", n) for o in lay.outputs]
        for k, o in enumerate(lay.outputs):
            e, tg, y, z = ex(f"E_{o}", n), ex(f"target_{o}", n), ex(f"out_{o}", n), nets[k]
            errors.append(e)
            if spec.loss == "half-sse":
                t.add(e, [tg, y], lambda tg, y: a.num(0.5) * (tg - y) ** 2, f"1/2 * ({{{tg}}} - {{{y}}})^2")
            elif spec.loss == "mse":
                t.add(e, [tg, y], lambda tg, y: (tg - y) ** 2 / n_out, f"({{{tg}}} - {{{y}}})^2 / {n_out}")
            elif spec.loss == "bce":
                t.add(e, [tg, z], lambda tg, z: mlp.softplus(z, a) - tg * z, f"log(1 + e^{{{z}}}) - {{{tg}}} * {{{z}}}")
            else:
                lse = "log(" + " + ".join(f"e^{{{x}}}" for x in nets) + ")"
                t.add(e, [tg, *nets], lambda tg, *zs, k=k: _softmax_ce(tg, zs, k, a), f"{{{tg}}} * ({lse} - {{{z}}})")
    width = n_out

    def e_total(*e: Num) -> Num:
        s = mlp.total([mlp.total(e[n * width : (n + 1) * width]) for n in range(batch)])
        return s / batch if spec.reduction == "mean" else s

    t.add("E_total", errors, e_total, f"({_braced(errors)}){per}" if per else _braced(errors))

    # --- backwards, layer by layer from the output ----------------------------------------------
    seen = "+" if config.update_order == "output-first" else ""
    for l in range(depth - 1, -1, -1):
        kind, labels = spec.activations[l], lay.labels[l + 1]
        for n in range(batch):
            for j, x in enumerate(labels):
                d, go, dd = ex(f"delta_{x}", n), ex(f"dE_total/dout_{x}", n), ex(f"dout_{x}/dnet_{x}", n)
                y, z = ex(f"out_{x}", n), ex(f"net_{x}", n)
                if l == depth - 1:
                    tgs = [ex(f"target_{o}", n) for o in lay.outputs]
                    if logits:
                        if spec.loss == "bce":
                            fn = lambda y, tg: flip(r * mlp.logit_delta("bce", [y], [tg])[0])  # noqa: E731
                            t.add(d, [y, tgs[j]], fn, f"{minus}({{{y}}} - {{{tgs[j]}}}){per}")
                        else:
                            fn = lambda y, *ts, j=j: flip(r * (y * mlp.total(ts) - ts[j]))  # noqa: E731
                            t.add(d, [y, *tgs], fn, f"{minus}({{{y}}} * ({_braced(tgs)}) - {{{tgs[j]}}}){per}")
                        continue
                    tg = tgs[j]
                    dfn = lambda tg, y: r * mlp.d_error_d_out(spec.loss, y, tg, n_out)  # noqa: E731
                    text = (
                        f"-({{{tg}}} - {{{y}}})" if spec.loss == "half-sse" else f"-2 * ({{{tg}}} - {{{y}}}) / {n_out}"
                    )
                    t.add(go, [tg, y], dfn, text + per)
                elif lay.has_connection_pieces:
                    pieces = [f"dE_{o}/dout_{x}" for o in lay.outputs]
                    for o, piece, row in zip(lay.outputs, pieces, lay.w[1]):
                        w = row[j] + seen
                        t.add(f"dnet_{o}/dout_{x}", [w], same, f"{{{w}}}")
                        fn = lambda dl, w: flip(dl * w)  # noqa: E731
                        t.add(
                            piece,
                            [f"delta_{o}", f"dnet_{o}/dout_{x}"],
                            fn,
                            f"{minus}{{delta_{o}}} * {{dnet_{o}/dout_{x}}}",
                        )
                    t.add(go, pieces, lambda *e: mlp.total(e), _braced(pieces))
                else:
                    above = lay.labels[l + 2]
                    deltas = [ex(f"delta_{k}", n) for k in above]
                    ws = [lay.w[l + 1][k][j] + seen for k in range(len(above))]
                    m = len(above)
                    fn = lambda *v, m=m: flip(mlp.total([v[k] * v[m + k] for k in range(m)]))  # noqa: E731
                    terms = " + ".join(f"{{{dl}}} * {{{w}}}" for dl, w in zip(deltas, ws))
                    t.add(go, [*deltas, *ws], fn, f"-({terms})" if sign < 0 else terms)
                src = DERIVATIVE_FROM[kind]
                text = DERIVATIVE_TEXT[kind].replace("{y}", f"{{{y}}}").replace("{z}", f"{{{z}}}")
                if src == "out":
                    t.add(dd, [y], lambda y, kind=kind: mlp.derivative(kind, None, y, a), text)
                elif src == "net":
                    t.add(dd, [z], lambda z, kind=kind: mlp.derivative(kind, z, None, a), text)
                else:
                    t.add(dd, [], lambda kind=kind: mlp.derivative(kind, None, None, a), text)
                t.add(d, [go, dd], lambda g, s: flip(g * s), f"{minus}{{{go}}} * {{{dd}}}")

        # gradients and updates of layer l
        for j, x in enumerate(labels):
            for k, w in enumerate(lay.w[l][j]):
                g = f"dE_total/d{w}"
                if lay.has_connection_pieces:
                    piece, source = f"dnet_{x}/d{w}", below(l, 0)[k]
                    t.add(piece, [source], same, f"{{{source}}}")
                    t.add(g, [f"delta_{x}", piece], lambda dl, p: flip(dl * p), f"{minus}{{delta_{x}}} * {{{piece}}}")
                    if not (l == depth - 1 and logits):
                        three = [f"dE_total/dout_{x}", f"dout_{x}/dnet_{x}", piece]
                        t.shown[g] = Formula(tuple(three), lambda e, s, p: e * s * p, _braced(three, " * "))
                else:
                    pairs = [(ex(f"delta_{x}", n), below(l, n)[k]) for n in range(batch)]
                    fn = lambda *v: flip(mlp.total([v[2 * i] * v[2 * i + 1] for i in range(len(v) // 2)]))  # noqa: E731
                    terms = " + ".join(f"{{{dl}}} * {{{i}}}" for dl, i in pairs)
                    t.add(g, [v for p in pairs for v in p], fn, f"-({terms})" if sign < 0 else terms)
                t.add(f"{w}+", [w, "eta", g], bp.updated, f"{{{w}}} - {{eta}} * {{{g}}}")
        for b in lay.b[l]:
            fed = labels if spec.bias == "shared-per-layer" else [b.removeprefix("b_")]
            deltas = [ex(f"delta_{x}", n) for x in fed for n in range(batch)]
            m = len(fed)
            fn = lambda *v, m=m: flip(mlp.total([mlp.total(v[i * batch : (i + 1) * batch]) for i in range(m)]))  # noqa: E731
            t.add(f"dE_total/d{b}", deltas, fn, f"-({_braced(deltas)})" if sign < 0 else _braced(deltas))
            if config.update_biases:
                t.add(f"{b}+", [b, "eta", f"dE_total/d{b}"], bp.updated, f"{{{b}}} - {{eta}} * {{dE_total/d{b}}}")
            else:
                t.add(f"{b}+", [b], same, f"{{{b}}}")
    return t


def _net(n: int, has_bias: bool) -> Callable[..., Num]:
    """w1 * x1 + w2 * x2 + ... (+ b), summed left to right as the reference does."""

    def net(*v: Num) -> Num:
        total = mlp.total([w * x for w, x in zip(v[:n], v[n : 2 * n])])
        return total + v[2 * n] if has_bias else total

    return net


def _softmax_ce(tg: Num, zs: tuple[Num, ...], k: int, a: Arithmetic) -> Num:
    """One output's share of a softmax cross-entropy, as reference/mlp.py computes it."""
    top = max(zs, key=mlp.real)
    lse = top + a.log1p(sum((a.exp(z - top) for z in zs), a.num(0.0)) - 1)
    return tg * (lse - zs[k])


def evaluate(t: Mapping[str, Formula], env: Mapping[str, Num]) -> dict[str, Num]:
    """Every quantity of the table from the leaves in `env` (dependencies first)."""
    values = dict(env)

    def get(name: str) -> Num:
        if name not in values:
            f = t[name]
            values[name] = f.fn(*(get(d) for d in f.deps))
        return values[name]

    return {name: get(name) for name in t}


# --- a person's own values ---------------------------------------------------------------------

#: Chain pieces: a given one may be bypassed (dE_total/dw5 straight from its three factors).
#: Forward values, errors and updates are used as given.
BYPASSABLE = re.compile(r"^(d|delta_)")
#: At most this many ways to compute one value (the first ones bypass the fewest given values).
CAP = 32


@dataclass(frozen=True, eq=False)
class Way:
    """One way to compute a value: a given value, a leaf, or a formula on ways to compute its
    inputs. `used`: the given values it is computed from."""

    name: str
    kind: str  # "leaf" | "given" | "formula"
    formula: Formula | None = None
    args: tuple[Way, ...] = ()
    used: tuple[str, ...] = ()

    def value(
        self,
        env: Mapping[str, Num],
        memo: dict[Way, Num] | None = None,
        base: Mapping[Way, Num] | None = None,
        moved: str | None = None,
    ) -> Num:
        """The value from `env` (the leaves and the given values). `memo` keeps the values of
        the ways computed on this `env`; `base`, those computed on an env that differs from this
        one only in the given value `moved` (a way that does not use it is taken from there)."""
        if self.kind != "formula":
            return env[self.name]
        if base is not None and moved not in self.used and self in base:
            return base[self]
        memo = {} if memo is None else memo
        if self not in memo:
            assert self.formula is not None
            memo[self] = self.formula.fn(*(w.value(env, memo, base, moved) for w in self.args))
        return memo[self]

    def text(self, given: Collection[str]) -> str:
        """The formula with each input by name; a given input that is bypassed, in brackets."""
        assert self.formula is not None
        parts = {
            w.name: f"({w.text(given)})" if w.kind == "formula" and w.name in given else f"{{{w.name}}}"
            for w in self.args
        }
        return _TOKEN.sub(lambda m: parts.get(m.group(1), m.group(0)), self.formula.text)


class Own:
    """The ways to compute each quantity of table `t` from the values a person gave (`given`)
    and the case's leaves (`fixed`): a given input as given, or (a chain piece) bypassed; an
    input not given, computed from what is given below it."""

    def __init__(self, t: Mapping[str, Formula], given: Collection[str], fixed: Mapping[str, Num]):
        self.t, self.given, self.fixed = t, set(given), fixed
        self._options: dict[str, list[Way]] = {}

    def ways(self, q: str) -> list[Way]:
        """Every way to compute q from the inputs of its formula (q's own given value aside),
        those using the given values as they are first."""
        if q not in self.t:
            return []
        f = self.t[q]
        out = []
        for combo in _combos([self.options(d) for d in f.deps], CAP):
            used = tuple(dict.fromkeys(u for w in combo for u in w.used))
            out.append(Way(q, "formula", f, combo, used))
        return out

    def options(self, d: str) -> list[Way]:
        if d not in self._options:
            if d in self.given:
                mine = [Way(d, "given", used=(d,))]
                self._options[d] = mine + (self.ways(d)[: CAP - 1] if BYPASSABLE.match(d) else [])
            elif d in self.fixed or d not in self.t:
                self._options[d] = [Way(d, "leaf")]
            else:
                self._options[d] = self.ways(d)
        return self._options[d]


def _combos(lists: list[list[Way]], cap: int) -> list[tuple[Way, ...]]:
    """Up to `cap` picks of one item from each list, by the sum of the items' positions (the
    first items, the fewest bypasses, first)."""
    sizes = [len(x) for x in lists]
    if any(s == 0 for s in sizes):
        return []
    out: list[tuple[Way, ...]] = []
    for total in range(sum(s - 1 for s in sizes) + 1):
        for idx in _with_sum(sizes, total):
            out.append(tuple(x[i] for x, i in zip(lists, idx)))
            if len(out) >= cap:
                return out
    return out


def _with_sum(sizes: list[int], total: int) -> Iterator[tuple[int, ...]]:
    if not sizes:
        if total == 0:
            yield ()
        return
    room = sum(s - 1 for s in sizes[1:])
    for i in range(max(0, total - room), min(sizes[0] - 1, total) + 1):
        for rest in _with_sum(sizes[1:], total - i):
            yield (i, *rest)
