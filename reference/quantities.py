"""The vocabulary: one name per quantity, used by data, traces, JSON, reports and tests.

Names follow the post. Neurons are i1.. (inputs), h1.. (hidden), o1.. (outputs). Weights are
numbered as the post's numbers imply: layer by layer, neuron by neuron, input by input, so in
the 2-2-2 network w1 i1->h1, w2 i2->h1, w3 i1->h2, w4 i2->h2, w5 h1->o1, w6 h2->o1,
w7 h1->o2, w8 h2->o2. The bias of layer l is b<l> (b1 feeds every hidden neuron, b2 every
output neuron). `x+` is x after one update; `q@N` is q after N updates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

#: Stages, in the order the post walks through them. The tolerance policy is set per stage.
STAGES = ("forward", "error", "output-chain", "hidden-chain", "gradient", "update", "trajectory")


@dataclass(frozen=True)
class Quantity:
    name: str
    stage: str
    formula: str  # in the post's notation


@dataclass(frozen=True)
class Layout:
    """Names of neurons and parameters of a network with one hidden layer."""

    n_in: int
    n_hidden: int
    n_out: int

    @classmethod
    def from_sizes(cls, sizes: list[int] | tuple[int, ...]) -> Layout:
        if len(sizes) != 3:
            raise ValueError(f"layer_sizes must have 3 entries (inputs, hidden, outputs), got {list(sizes)}")
        return cls(*sizes)

    @property
    def inputs(self) -> list[str]:
        return [f"i{k + 1}" for k in range(self.n_in)]

    @property
    def hidden(self) -> list[str]:
        return [f"h{k + 1}" for k in range(self.n_hidden)]

    @property
    def outputs(self) -> list[str]:
        return [f"o{k + 1}" for k in range(self.n_out)]

    @cached_property
    def w_hidden(self) -> list[list[str]]:
        """w_hidden[h][i]: name of the weight from input i to hidden neuron h."""
        return [[f"w{h * self.n_in + i + 1}" for i in range(self.n_in)] for h in range(self.n_hidden)]

    @cached_property
    def w_output(self) -> list[list[str]]:
        """w_output[o][h]: name of the weight from hidden neuron h to output neuron o."""
        first = self.n_in * self.n_hidden
        return [[f"w{first + o * self.n_hidden + h + 1}" for h in range(self.n_hidden)] for o in range(self.n_out)]

    @property
    def weights(self) -> list[str]:
        return [w for row in self.w_hidden + self.w_output for w in row]

    @property
    def parameters(self) -> list[str]:
        return self.weights + ["b1", "b2"]

    @cached_property
    def step_quantities(self) -> list[Quantity]:
        """Every quantity of one training step, in the post's order."""
        q: list[Quantity] = []
        add = lambda name, stage, formula: q.append(Quantity(name, stage, formula))
        for h, row in zip(self.hidden, self.w_hidden):
            terms = " + ".join(f"{w} * {i}" for w, i in zip(row, self.inputs))
            add(f"net_{h}", "forward", f"{terms} + b1 * 1")
            add(f"out_{h}", "forward", f"1 / (1 + e^-net_{h})")
        for o, row in zip(self.outputs, self.w_output):
            terms = " + ".join(f"{w} * out_{h}" for w, h in zip(row, self.hidden))
            add(f"net_{o}", "forward", f"{terms} + b2 * 1")
            add(f"out_{o}", "forward", f"1 / (1 + e^-net_{o})")
        for o in self.outputs:
            add(f"E_{o}", "error", f"1/2 (target_{o} - out_{o})^2")
        add("E_total", "error", " + ".join(f"E_{o}" for o in self.outputs))
        for o, row in zip(self.outputs, self.w_output):
            add(f"dE_total/dout_{o}", "output-chain", f"-(target_{o} - out_{o})")
            add(f"dout_{o}/dnet_{o}", "output-chain", f"out_{o}(1 - out_{o})")
            add(f"delta_{o}", "output-chain", f"dE_total/dout_{o} * dout_{o}/dnet_{o}")
            for w, h in zip(row, self.hidden):
                add(f"dnet_{o}/d{w}", "output-chain", f"out_{h}")
        for h_idx, h in enumerate(self.hidden):
            for o, row in zip(self.outputs, self.w_output):
                add(f"dnet_{o}/dout_{h}", "hidden-chain", row[h_idx])
                add(f"dE_{o}/dout_{h}", "hidden-chain", f"delta_{o} * dnet_{o}/dout_{h}")
            add(f"dE_total/dout_{h}", "hidden-chain", " + ".join(f"dE_{o}/dout_{h}" for o in self.outputs))
            add(f"dout_{h}/dnet_{h}", "hidden-chain", f"out_{h}(1 - out_{h})")
            add(f"delta_{h}", "hidden-chain", f"dE_total/dout_{h} * dout_{h}/dnet_{h}")
            for w, i in zip(self.w_hidden[h_idx], self.inputs):
                add(f"dnet_{h}/d{w}", "hidden-chain", i)
        for o, row in zip(self.outputs, self.w_output):
            for w, h in zip(row, self.hidden):
                add(f"dE_total/d{w}", "gradient", f"delta_{o} * out_{h}")
        for h, row in zip(self.hidden, self.w_hidden):
            for w, i in zip(row, self.inputs):
                add(f"dE_total/d{w}", "gradient", f"delta_{h} * {i}")
        add("dE_total/db1", "gradient", " + ".join(f"delta_{h}" for h in self.hidden))
        add("dE_total/db2", "gradient", " + ".join(f"delta_{o}" for o in self.outputs))
        for p in self.parameters:
            add(f"{p}+", "update", f"{p} - eta * dE_total/d{p}  (biases only when the config updates them)")
        return q

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
