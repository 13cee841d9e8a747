"""The vocabulary: one name per quantity, used by data, traces, JSON, reports and tests.

Names follow the post. Neurons are i1.. (inputs), h1.. (the hidden layer; with several hidden
layers h1_1.. is layer 1, h2_1.. layer 2), o1.. (outputs). Weights are numbered as the post's
numbers imply: layer by layer, neuron by neuron, input by input, so in the 2-2-2 network w1
i1->h1, w2 i2->h1, w3 i1->h2, w4 i2->h2, w5 h1->o1, w6 h2->o1, w7 h1->o2, w8 h2->o2. A bias
shared by a layer is b<l> (b1 feeds every neuron of the first layer after the inputs); a
per-neuron bias is b_<neuron> (b_h1, b_o2). With a batch, per-example quantities carry the
example's number: out_o1[2]. `x+` is x after one update; `q@N` is q after N updates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from bpcheck.reference.mlp import LOGIT_LOSSES

#: Stages, in the order the post walks through them. The tolerance policy is set per stage.
STAGES = ("forward", "error", "output-chain", "hidden-chain", "gradient", "update", "trajectory")


@dataclass(frozen=True)
class Quantity:
    name: str
    stage: str
    formula: str  # in the post's notation


@dataclass(frozen=True)
class Layout:
    """Names of a network's neurons, parameters and quantities."""

    sizes: tuple[int, ...]
    bias: str = "shared-per-layer"
    batch: int = 1
    loss: str = "half-sse"
    activations: tuple[str, ...] = field(default=())

    # --- neurons ---------------------------------------------------------------------------
    @cached_property
    def labels(self) -> list[list[str]]:
        """labels[l][j]: the name of neuron j of layer l (layer 0: the inputs)."""
        hidden = len(self.sizes) - 2
        out = [[f"i{k + 1}" for k in range(self.sizes[0])]]
        for l in range(1, hidden + 1):
            prefix = "h" if hidden == 1 else f"h{l}_"
            out.append([f"{prefix}{k + 1}" for k in range(self.sizes[l])])
        out.append([f"o{k + 1}" for k in range(self.sizes[-1])])
        return out

    @property
    def inputs(self) -> list[str]:
        return self.labels[0]

    @property
    def outputs(self) -> list[str]:
        return self.labels[-1]

    @property
    def hidden(self) -> list[str]:
        """The hidden neurons of a one-hidden-layer network."""
        return self.labels[1] if len(self.sizes) == 3 else []

    # --- parameters --------------------------------------------------------------------------
    @cached_property
    def w(self) -> list[list[list[str]]]:
        """w[l][j][k]: name of the weight into neuron j of layer l+1 from neuron k of layer l."""
        names, counter = [], 0
        for n_in, n_out in zip(self.sizes, self.sizes[1:]):
            layer = []
            for _ in range(n_out):
                layer.append([f"w{counter + k + 1}" for k in range(n_in)])
                counter += n_in
            names.append(layer)
        return names

    @cached_property
    def b(self) -> list[list[str]]:
        """b[l]: the bias names of layer l+1 (one, one per neuron, or none)."""
        if self.bias == "none":
            return [[] for _ in self.sizes[1:]]
        if self.bias == "shared-per-layer":
            return [[f"b{l + 1}"] for l in range(len(self.sizes) - 1)]
        return [[f"b_{name}" for name in self.labels[l + 1]] for l in range(len(self.sizes) - 1)]

    @property
    def w_hidden(self) -> list[list[str]]:
        return self.w[0]

    @property
    def w_output(self) -> list[list[str]]:
        return self.w[-1]

    @property
    def weights(self) -> list[str]:
        return [w for layer in self.w for row in layer for w in row]

    @property
    def biases(self) -> list[str]:
        return [b for layer in self.b for b in layer]

    @property
    def parameters(self) -> list[str]:
        return self.weights + self.biases

    @property
    def has_connection_pieces(self) -> bool:
        """Whether the post's per-connection chain pieces (dE_o1/dout_h1, dnet_o1/dw5, ...)
        are part of the vocabulary: one hidden layer, one example."""
        return len(self.sizes) == 3 and self.batch == 1

    def ex(self, name: str, n: int) -> str:
        """The per-example name: `out_o1` for a single example, `out_o1[2]` in a batch."""
        return name if self.batch == 1 else f"{name}[{n + 1}]"

    @cached_property
    def parameter_count(self) -> int:
        """len(parameters), without naming them."""
        return sum(a * b for a, b in zip(self.sizes, self.sizes[1:])) + self._bias_count

    @property
    def _bias_count(self) -> int:
        depth = len(self.sizes) - 1
        return {"none": 0, "shared-per-layer": depth}.get(self.bias, sum(self.sizes[1:]))

    @cached_property
    def quantity_count(self) -> int:
        """len(step_quantities), without naming them (bpcheck/size.py estimates from it)."""
        depth, n = len(self.sizes) - 1, self.batch
        count = 2 * n * sum(self.sizes[1:]) + n * self.sizes[-1] + 1
        logits = self.loss in LOGIT_LOSSES
        count += sum(n * size * (1 if logits and l == depth else 3) for l, size in enumerate(self.sizes[1:], 1))
        if self.has_connection_pieces:
            i, h, o = self.sizes
            count += o * h + 2 * h * o + h * i
        return count + 2 * self.parameter_count  # gradients and updates

    # --- quantities ----------------------------------------------------------------------------
    @cached_property
    def step_quantities(self) -> list[Quantity]:
        """Every quantity of one training step, in the post's order (a list: for a wide network,
        iterate `step_items` instead, which names them one at a time)."""
        return [Quantity(*item) for item in self.step_items(formulas=True)]

    def step_names(self) -> Iterator[str]:
        """The names of step_quantities, in order, one at a time."""
        return (name for name, _, _ in self.step_items())

    def step_items(self, formulas: bool = False) -> Iterator[tuple[str, str, str]]:
        """(name, stage, formula) of every quantity of one step, in the post's order, made one at
        a time (formula "" unless `formulas`: a wide layer's are long)."""
        if self.has_connection_pieces:
            return self._post_items(formulas)
        return self._items(formulas)

    def _forward_items(self, n: int, l: int, formulas: bool) -> Iterator[tuple[str, str, str]]:
        below = self.labels[l] if l == 0 else [f"out_{x}" for x in self.labels[l]]
        for j, name in enumerate(self.labels[l + 1]):
            formula = ""
            if formulas:
                terms = " + ".join(f"{w} * {x}" for w, x in zip(self.w[l][j], below))
                bias = f" + {self.b[l][0 if self.bias == 'shared-per-layer' else j]} * 1" if self.b[l] else ""
                formula = terms + bias
            yield self.ex(f"net_{name}", n), "forward", formula
            yield self.ex(f"out_{name}", n), "forward", f"activation(net_{name})" if formulas else ""

    def _error_items(self, formulas: bool) -> Iterator[tuple[str, str, str]]:
        for n in range(self.batch):
            for o in self.outputs:
                yield self.ex(f"E_{o}", n), "error", f"{self.loss} error of {o}" if formulas else ""
        yield "E_total", "error", (("mean" if self.batch > 1 else "sum") + " of the E_o") if formulas else ""

    def _chain_items(self, l: int, n: int, name: str, stage: str, formulas: bool) -> Iterator[tuple[str, str, str]]:
        if not (self.loss in LOGIT_LOSSES and l == len(self.sizes) - 2):
            yield self.ex(f"dE_total/dout_{name}", n), stage, "chain rule" if formulas else ""
            yield self.ex(f"dout_{name}/dnet_{name}", n), stage, "activation'(net)" if formulas else ""
        yield self.ex(f"delta_{name}", n), stage, f"dE_total/dnet_{name}" if formulas else ""

    def _tail_items(self, formulas: bool) -> Iterator[tuple[str, str, str]]:
        """The gradients and the updates: last in both orders."""
        depth = len(self.sizes) - 1
        for l in range(depth - 1, -1, -1):
            for j, row in enumerate(self.w[l]):
                for k, w in enumerate(row):
                    formula = ""
                    if formulas:
                        formula = f"sum over examples of delta_{self.labels[l + 1][j]} * out_{self.labels[l][k]}"
                    yield f"dE_total/d{w}", "gradient", formula
        for b in self.biases:
            yield f"dE_total/d{b}", "gradient", "sum of the deltas it feeds" if formulas else ""
        for p in self.parameters:
            formula = f"{p} - eta * dE_total/d{p}  (biases only when the config updates them)" if formulas else ""
            yield f"{p}+", "update", formula

    def _items(self, formulas: bool) -> Iterator[tuple[str, str, str]]:
        depth = len(self.sizes) - 1
        for n in range(self.batch):
            for l in range(depth):
                yield from self._forward_items(n, l, formulas)
        yield from self._error_items(formulas)
        for l in range(depth - 1, -1, -1):
            stage = "output-chain" if l == depth - 1 else "hidden-chain"
            for n in range(self.batch):
                for name in self.labels[l + 1]:
                    yield from self._chain_items(l, n, name, stage, formulas)
        yield from self._tail_items(formulas)

    def _post_items(self, formulas: bool) -> Iterator[tuple[str, str, str]]:
        """One hidden layer and one example (has_connection_pieces): the post's order, neuron
        by neuron, with its per-connection pieces."""
        yield from self._forward_items(0, 0, formulas)
        yield from self._forward_items(0, 1, formulas)
        yield from self._error_items(formulas)
        for o, row in zip(self.outputs, self.w[1]):
            yield from self._chain_items(1, 0, o, "output-chain", formulas)
            for w, h in zip(row, self.hidden):
                yield f"dnet_{o}/d{w}", "output-chain", f"out_{h}" if formulas else ""
        for h_idx, h in enumerate(self.hidden):
            for o, row in zip(self.outputs, self.w[1]):
                yield f"dnet_{o}/dout_{h}", "hidden-chain", row[h_idx]
                yield f"dE_{o}/dout_{h}", "hidden-chain", f"delta_{o} * dnet_{o}/dout_{h}" if formulas else ""
            yield from self._chain_items(0, 0, h, "hidden-chain", formulas)
            for w, i in zip(self.w[0][h_idx], self.inputs):
                yield f"dnet_{h}/d{w}", "hidden-chain", i
        yield from self._tail_items(formulas)

    @cached_property
    def stage_of(self) -> Mapping[str, str]:
        """Each step quantity's stage, by name: a dict, or for a wide network a mapping that reads
        the stage from the name itself (a dict of millions of names would outweigh the values)."""
        if self.quantity_count <= NAMED_STAGES:
            return {name: stage for name, stage, _ in self.step_items()}
        return StageOf(self)


#: Up to this many quantities `Layout.stage_of` is a dict; beyond, a StageOf.
NAMED_STAGES = 100_000

_NAME = re.compile(
    r"(?P<fw>net|out)_(?P<a>[a-z0-9_]+)|E_(?P<e>[a-z0-9_]+)|dE_total/dout_(?P<d>[a-z0-9_]+)"
    r"|dout_(?P<s>[a-z0-9_]+)/dnet_(?P<s2>[a-z0-9_]+)|delta_(?P<dl>[a-z0-9_]+)"
    r"|dE_total/d(?P<g>w\d+|b\d+|b_[a-z0-9_]+)|(?P<u>w\d+|b\d+|b_[a-z0-9_]+)\+"
    r"|dnet_(?P<cn>[a-z0-9_]+)/d(?P<cw>w\d+)|dnet_(?P<co>[a-z0-9_]+)/dout_(?P<ch>[a-z0-9_]+)"
    r"|dE_(?P<eo>[a-z0-9_]+)/dout_(?P<eh>[a-z0-9_]+)"
)


class StageOf(Mapping[str, str]):
    """`Layout.stage_of` for a wide network: the stage read from the name, which must be one of
    the layout's step quantities (KeyError otherwise), without a dict of every name."""

    def __init__(self, layout: Layout):
        self.layout = layout
        depth = len(layout.sizes) - 1
        self.layer = {name: l for l, names in enumerate(layout.labels) for name in names}
        self.depth, self.weights = depth, layout.parameter_count - layout._bias_count
        self.biases = set(layout.biases)
        self.first = [0]  # the first weight number of each layer (w<first + 1> ..)
        for a, b in zip(layout.sizes, layout.sizes[1:]):
            self.first.append(self.first[-1] + a * b)

    def __len__(self) -> int:
        return self.layout.quantity_count

    def __iter__(self) -> Iterator[str]:
        return self.layout.step_names()

    def __getitem__(self, name: str) -> str:
        stage = self._stage(name) if isinstance(name, str) else None
        if stage is None:
            raise KeyError(name)
        return stage

    def _example(self, name: str) -> str | None:
        """The name without its example number (None: a number the batch does not have)."""
        lay = self.layout
        if lay.batch == 1:
            return None if name.endswith("]") else name
        base, sep, rest = name.partition("[")
        if not sep or not rest.endswith("]") or not rest[:-1].isdigit() or not 1 <= int(rest[:-1]) <= lay.batch:
            return None
        return base if str(int(rest[:-1])) == rest[:-1] else None

    def _neuron(self, label: str | None) -> int | None:
        """The layer of a neuron after the inputs, or None."""
        l = self.layer.get(label or "")
        return None if l is None or l == 0 else l

    def _weight(self, w: str) -> int | None:
        """The layer (1..) a weight w<k> feeds, or None."""
        k = int(w[1:]) if w[1:].isdigit() and not w[1:].startswith("0") else 0
        if not 1 <= k <= self.weights:
            return None
        return next(l for l in range(1, self.depth + 1) if k <= self.first[l])

    def _stage(self, name: str) -> str | None:
        lay = self.layout
        chain = lambda l: "output-chain" if l == self.depth else "hidden-chain"  # noqa: E731
        if name == "E_total":
            return "error"
        m = _NAME.fullmatch(name)
        g = m.groupdict() if m else {}
        update = bool(g.get("u"))
        if update or g.get("g"):
            p = g["u"] or g["g"]
            ok = (p.startswith("w") and self._weight(p) is not None) or p in self.biases
            return None if not ok else "update" if update else "gradient"
        if g.get("cw") or g.get("co") or g.get("eo"):  # the per-connection pieces: one hidden layer, one example
            if not lay.has_connection_pieces:
                return None
            if g["cw"]:
                l = self._neuron(g["cn"])
                wl = self._weight(g["cw"])
                if l is None or wl != l:
                    return None
                j = lay.labels[l].index(g["cn"])
                k = int(g["cw"][1:]) - 1 - self.first[l - 1]
                return chain(l) if k // lay.sizes[l - 1] == j else None
            o, h = (g["co"], g["ch"]) if g["co"] else (g["eo"], g["eh"])
            return "hidden-chain" if self._neuron(o) == 2 and self._neuron(h) == 1 else None
        base = self._example(name)
        if base is None:
            return None
        m = _NAME.fullmatch(base)
        if m is None:
            return None
        g = m.groupdict()
        if g["fw"]:
            return "forward" if self._neuron(g["a"]) is not None else None
        if g["e"]:
            return "error" if self._neuron(g["e"]) == self.depth else None
        label = g["d"] or g["dl"] or g["s"]
        l = self._neuron(label)
        if l is None or (g["s"] and g["s2"] != g["s"]):
            return None
        logit_output = lay.loss in LOGIT_LOSSES and l == self.depth
        return chain(l) if g["dl"] or not logit_output else None


def trajectory_name(quantity: str, steps: int) -> str:
    """`E_total@10000`: the quantity after `steps` updates."""
    return f"{quantity}@{steps}"


def split_trajectory_name(name: str) -> tuple[str, int] | None:
    """`E_total@10000` -> ("E_total", 10000); None for a single-step quantity."""
    base, sep, steps = name.partition("@")
    return (base, int(steps)) if sep and steps.isdigit() else None


def stage(layout: Layout, name: str) -> str:
    return "trajectory" if split_trajectory_name(name) else layout.stage_of[name]
