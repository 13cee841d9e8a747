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

    # --- quantities ----------------------------------------------------------------------------
    @cached_property
    def step_quantities(self) -> list[Quantity]:
        """Every quantity of one training step, in the post's order."""
        q: list[Quantity] = []

        def add(name: str, stage: str, formula: str) -> None:
            q.append(Quantity(name, stage, formula))

        depth = len(self.sizes) - 1
        logits = self.loss in LOGIT_LOSSES
        for n in range(self.batch):
            for l in range(depth):
                below = self.labels[l] if l == 0 else [f"out_{x}" for x in self.labels[l]]
                for j, name in enumerate(self.labels[l + 1]):
                    terms = " + ".join(f"{w} * {x}" for w, x in zip(self.w[l][j], below))
                    bias = f" + {self.b[l][0 if self.bias == 'shared-per-layer' else j]} * 1" if self.b[l] else ""
                    add(self.ex(f"net_{name}", n), "forward", terms + bias)
                    add(self.ex(f"out_{name}", n), "forward", f"activation(net_{name})")
        for n in range(self.batch):
            for o in self.outputs:
                add(self.ex(f"E_{o}", n), "error", f"{self.loss} error of {o}")
        add("E_total", "error", ("mean" if self.batch > 1 else "sum") + " of the E_o")
        for l in range(depth - 1, -1, -1):
            stage = "output-chain" if l == depth - 1 else "hidden-chain"
            for n in range(self.batch):
                for name in self.labels[l + 1]:
                    if not (logits and l == depth - 1):
                        add(self.ex(f"dE_total/dout_{name}", n), stage, "chain rule")
                        add(self.ex(f"dout_{name}/dnet_{name}", n), stage, "activation'(net)")
                    add(self.ex(f"delta_{name}", n), stage, f"dE_total/dnet_{name}")
            if self.has_connection_pieces and l == 1:
                for o, row in zip(self.outputs, self.w[1]):
                    for w, h in zip(row, self.hidden):
                        add(f"dnet_{o}/d{w}", "output-chain", f"out_{h}")
            if self.has_connection_pieces and l == 0:
                for h_idx, h in enumerate(self.hidden):
                    for o, row in zip(self.outputs, self.w[1]):
                        add(f"dnet_{o}/dout_{h}", "hidden-chain", row[h_idx])
                        add(f"dE_{o}/dout_{h}", "hidden-chain", f"delta_{o} * dnet_{o}/dout_{h}")
                    for w, i in zip(self.w[0][h_idx], self.inputs):
                        add(f"dnet_{h}/d{w}", "hidden-chain", i)
        for l in range(depth - 1, -1, -1):
            for j, row in enumerate(self.w[l]):
                for k, w in enumerate(row):
                    add(
                        f"dE_total/d{w}",
                        "gradient",
                        f"sum over examples of delta_{self.labels[l + 1][j]} * out_{self.labels[l][k]}",
                    )
        for b in self.biases:
            add(f"dE_total/d{b}", "gradient", "sum of the deltas it feeds")
        for p in self.parameters:
            add(f"{p}+", "update", f"{p} - eta * dE_total/d{p}  (biases only when the config updates them)")
        return self._post_order(q)

    def _post_order(self, q: list[Quantity]) -> list[Quantity]:
        """The 2-2-2 network's quantities in the order the post prints them (neuron by neuron)."""
        if not self.has_connection_pieces:
            return q
        by = {x.name: x for x in q}
        order: list[str] = []
        for h in self.hidden:
            order += [f"net_{h}", f"out_{h}"]
        for o in self.outputs:
            order += [f"net_{o}", f"out_{o}"]
        order += [f"E_{o}" for o in self.outputs] + ["E_total"]
        for o, row in zip(self.outputs, self.w[1]):
            order += [f"dE_total/dout_{o}", f"dout_{o}/dnet_{o}", f"delta_{o}"] + [f"dnet_{o}/d{w}" for w in row]
        for h_idx, h in enumerate(self.hidden):
            for o in self.outputs:
                order += [f"dnet_{o}/dout_{h}", f"dE_{o}/dout_{h}"]
            order += [f"dE_total/dout_{h}", f"dout_{h}/dnet_{h}", f"delta_{h}"]
            order += [f"dnet_{h}/d{w}" for w in self.w[0][h_idx]]
        placed = set(order)
        rest = [x.name for x in q if x.name not in placed]
        return [by[name] for name in order if name in by] + [by[name] for name in rest]

    @cached_property
    def stage_of(self) -> dict[str, str]:
        return {q.name: q.stage for q in self.step_quantities}


def trajectory_name(quantity: str, steps: int) -> str:
    """`E_total@10000`: the quantity after `steps` updates."""
    return f"{quantity}@{steps}"


def split_trajectory_name(name: str) -> tuple[str, int] | None:
    """`E_total@10000` -> ("E_total", 10000); None for a single-step quantity."""
    base, sep, steps = name.partition("@")
    return (base, int(steps)) if sep and steps.isdigit() else None


def stage(layout: Layout, name: str) -> str:
    return "trajectory" if split_trajectory_name(name) else layout.stage_of[name]
