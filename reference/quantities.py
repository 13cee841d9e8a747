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

import itertools
import re
from collections.abc import Callable, ItemsView, Iterator, Mapping, MutableMapping, Sequence, ValuesView
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bpcheck.reference.mlp import LOGIT_LOSSES, Rows

#: Stages, in the order the post walks through them. The tolerance policy is set per stage.
STAGES = ("forward", "error", "output-chain", "hidden-chain", "gradient", "update", "trajectory")
#: A layout with more quantities of one step than this is wide: its weights' names are made when
#: read, a drawn case holds its parameters in an array (Positional), and the cross-check judges it
#: by position (bpcheck/compact.py, bpcheck/matrix.py: WIDE).
WIDE = 10_000


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

    @property
    def wide(self) -> bool:
        """More quantities of one step than WIDE."""
        return self.quantity_count > WIDE

    # --- parameters --------------------------------------------------------------------------
    @cached_property
    def w(self) -> list[Sequence[list[str]]]:
        """w[l][j][k]: name of the weight into neuron j of layer l+1 from neuron k of layer l (a
        wide layout's rows are made when read: millions of names would outweigh the values)."""
        names: list[Sequence[list[str]]] = []
        counter = 0
        for n_in, n_out in zip(self.sizes, self.sizes[1:]):
            if self.wide:
                names.append(WeightRows(counter, n_in, n_out))
                counter += n_in * n_out
                continue
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
    def w_hidden(self) -> Sequence[list[str]]:
        return self.w[0]

    @property
    def w_output(self) -> Sequence[list[str]]:
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

    def parameter_names(self) -> Iterator[str]:
        """The names of `parameters`, in order, one at a time."""
        weights = self.parameter_count - self._bias_count
        return itertools.chain((f"w{k + 1}" for k in range(weights)), self.biases)

    def parameter_position(self, name: str) -> int | None:
        """Where `name` is in `parameters` (None: not a parameter of this network), without
        listing them."""
        weights = self.parameter_count - self._bias_count
        if not isinstance(name, str):
            return None
        digits = name[1:]
        if name[:1] == "w" and digits.isascii() and digits.isdigit() and digits == str(int(digits)):
            k = int(digits)
            return k - 1 if 1 <= k <= weights else None
        found = self._bias_positions.get(name)
        return None if found is None else weights + found

    @cached_property
    def _bias_positions(self) -> dict[str, int]:
        return {b: k for k, b in enumerate(self.biases)}

    def weight_span(self, l: int) -> tuple[int, int]:
        """The positions in `parameters` of the weights into layer l+1 (row by row: w[l][j][k]
        is at first + j * sizes[l] + k)."""
        first = sum(a * b for a, b in zip(self.sizes[:l], self.sizes[1 : l + 1]))
        return first, first + self.sizes[l] * self.sizes[l + 1]

    def bias_span(self, l: int) -> tuple[int, int]:
        """The positions in `parameters` of the biases of layer l+1 (b[l])."""
        first = self.parameter_count - self._bias_count + sum(len(names) for names in self.b[:l])
        return first, first + len(self.b[l])

    def span(self, part: str) -> tuple[int, int]:
        """(first, end): the positions in the order of `step_items` of the quantities one protocol
        call returns (backends/protocol.py), consecutive: "forward" (stages forward and error),
        "gradients" (output-chain, hidden-chain and gradient) or "updates" (update)."""
        spans = self.stage_spans()
        first, last = {"forward": ("forward", "error"), "gradients": ("output-chain", "gradient")}.get(
            part, ("update", "update")
        )
        return spans[first][0], spans[last][1]

    def stage_spans(self) -> dict[str, tuple[int, int]]:
        """(first, end) of each stage of one step in the order of `step_items`: each stage's
        quantities are consecutive, in the order of STAGES (without "trajectory")."""
        n, sizes, logits = self.batch, self.sizes, self.loss in LOGIT_LOSSES
        output_chain = n * sizes[-1] * (1 if logits else 3)
        hidden_chain = 3 * n * sum(sizes[1:-1])
        if self.has_connection_pieces:
            i, h, o = sizes
            output_chain += o * h  # dnet_o/dw
            hidden_chain += 2 * h * o + h * i  # dnet_o/dout_h, dE_o/dout_h, dnet_h/dw
        counts = {
            "forward": 2 * n * sum(sizes[1:]),
            "error": n * sizes[-1] + 1,
            "output-chain": output_chain,
            "hidden-chain": hidden_chain,
            "gradient": self.parameter_count,
            "update": self.parameter_count,
        }
        out, at = {}, 0
        for stage, count in counts.items():
            out[stage] = (at, at + count)
            at += count
        return out

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


class WeightRows(Sequence[list[str]]):
    """A wide layout's weight names of one layer, Layout.w[l]: row j (the names w<first + j *
    n_in + 1>.. of the weights into neuron j) made when read."""

    __slots__ = ("first", "n_in", "n_out")

    def __init__(self, first: int, n_in: int, n_out: int):
        self.first, self.n_in, self.n_out = first, n_in, n_out

    def __len__(self) -> int:
        return self.n_out

    def __getitem__(self, j: Any) -> Any:
        if isinstance(j, slice):
            return [self[i] for i in range(*j.indices(self.n_out))]
        j = j + self.n_out if j < 0 else j
        if not 0 <= j < self.n_out:
            raise IndexError(j)
        start = self.first + j * self.n_in
        return [f"w{start + k + 1}" for k in range(self.n_in)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(other) == len(self) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"WeightRows(w{self.first + 1}..w{self.first + self.n_in * self.n_out}, {self.n_out} rows)"


class Positional(MutableMapping[str, Any]):
    """Values by name, held by position: a float64 array (`array`) in the layout's order, either
    of its parameters (`start` None: Layout.parameters) or of the step quantities from position
    `start` on (Layout.step_items). What a wide case's parameters and a backend's values of it
    are: a dict of millions of names would outweigh the numbers (docs/limits.md).

    It reads as a dict of floats: by name (a parameter's position is read from its name; a step
    quantity's from an index of the names, made when first needed), in order, and equal to a
    dict of the same items. A change (a backend that edits its results) makes it a plain dict
    inside, and `intact` False: only an intact one is read by position (bpcheck/compact.py)."""

    __slots__ = ("layout", "array", "start", "_index", "_dict")

    def __init__(self, layout: Layout, array: Any, start: int | None = None):
        self.layout, self.array, self.start = layout, array, start
        self._index: dict[str, int] | None = None
        self._dict: dict[str, Any] | None = None

    @property
    def intact(self) -> bool:
        """Whether the values are still those of `array`, by position."""
        return self._dict is None

    def names(self) -> Iterator[str]:
        """The names of `array`'s values, in order."""
        if self.start is None:
            return self.layout.parameter_names()
        return itertools.islice(self.layout.step_names(), self.start, self.start + len(self.array))

    def _value(self, v: Any) -> Any:
        return float(v)

    def position(self, name: str) -> int | None:
        if self.start is None:
            return self.layout.parameter_position(name)
        if self._index is None:
            self._index = {n: k for k, n in enumerate(self.names())}
        return self._index.get(name)

    def __getitem__(self, name: str) -> Any:
        if self._dict is not None:
            return self._dict[name]
        k = self.position(name)
        if k is None:
            raise KeyError(name)
        return self._value(self.array[k])

    def __contains__(self, name: object) -> bool:
        if self._dict is not None:
            return name in self._dict
        return isinstance(name, str) and self.position(name) is not None

    def _edited(self) -> dict[str, Any]:
        if self._dict is None:
            self._dict = dict(self.items())
            self.array, self._index = None, None
        return self._dict

    def __setitem__(self, name: str, value: Any) -> None:
        self._edited()[name] = value

    def __delitem__(self, name: str) -> None:
        del self._edited()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict) if self._dict is not None else self.names()

    def __len__(self) -> int:
        return len(self._dict) if self._dict is not None else len(self.array)

    def items(self) -> ItemsView[str, Any]:
        return _PositionalItems(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Positional) and self.intact and other.intact and type(self) is type(other):
            same = (self.layout, self.start, len(self.array)) == (other.layout, other.start, len(other.array))
            return same and bool((self.array == other.array).all())
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def values(self) -> ValuesView[Any]:
        return _PositionalValues(self)

    def __repr__(self) -> str:
        what = "parameters" if self.start is None else f"step quantities from {self.start}"
        return f"Positional({len(self)} {what} of {self.layout.sizes})"


class _PositionalItems(ItemsView[str, Any]):
    _mapping: Positional

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        m = self._mapping
        if m._dict is not None:
            return iter(m._dict.items())
        return zip(m.names(), map(m._value, m.array))


class _PositionalValues(ValuesView[Any]):
    _mapping: Positional

    def __iter__(self) -> Iterator[Any]:
        m = self._mapping
        return iter(m._dict.values()) if m._dict is not None else map(m._value, m.array)


def rows_of(p: Positional, l: int, convert: Callable[[float], Any] = float) -> Sequence[list[Any]]:
    """The weights into layer l+1 of a Positional of parameters, as rows made when read:
    row j is [convert(v) for v in its values] (Layout.w[l][j]'s)."""
    first, _ = p.layout.weight_span(l)
    n_in, n_out, array = p.layout.sizes[l], p.layout.sizes[l + 1], p.array
    return Rows(n_out, lambda j: [convert(v) for v in array[first + j * n_in : first + (j + 1) * n_in].tolist()])


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
