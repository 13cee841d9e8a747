"""The one protocol every backend implements.

A backend computes the case's network in its framework, in a given dtype on a given device,
and hands every number back as a Python float (float64) named in the project's vocabulary
(reference/quantities.py): the post's names for its 2-2-2 network (net_h1, out_o2, w5, b1,
dE_total/dw5), the same pattern for any network, its neurons named by layer (h2_1 is neuron 1
of hidden layer 2), weights numbered layer by layer (w1..), biases b<l> (shared by a layer) or
b_<neuron> (per neuron), and per-example values of a batch numbered out_o1[2]. Parameters go
in as float64 values; the backend rounds them to its dtype itself, exactly as `float32(x)` would.
A wide case's parameters (more than 10,000 quantities of one step) come as a Positional: a
mapping read by name like the dict it stands for, held as one float64 array (docs/limits.md);
the bundled backends hand that case's values back the same way.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bpcheck.reference.case import Case, Config
from bpcheck.reference.trace import Training as Training  # the reference's; plug-ins import it from here


class Unavailable(Exception):
    """A backend whose framework cannot be loaded here; str() is the reason. A factory may raise
    it (e.g. a framework without a needed feature)."""


@runtime_checkable
class Backend(Protocol):
    name: str

    def devices(self) -> list[str]:
        """Devices this machine offers the backend, e.g. ["cpu"] or ["cpu", "cuda"]."""
        ...

    def forward(self, case: Case, params: dict[str, float], dtype: str, device: str) -> dict[str, float]:
        """Stages "forward" and "error": net_<neuron> and out_<neuron> of every layer (per
        example in a batch), E_<output> and E_total."""
        ...

    def gradients(self, case: Case, params: dict[str, float], dtype: str, device: str) -> dict[str, float]:
        """Stages "output-chain", "hidden-chain" and "gradient" of one backwards pass from
        `params`: dE_total/dout_<neuron>, dout_<neuron>/dnet_<neuron> and delta_<neuron> of every
        layer and example (the output layer has delta alone under the logit losses bce and softmax-ce),
        the post's per-connection pieces where its network has them (dnet_o1/dw5,
        dE_o2/dout_h1: one hidden layer, one example), and dE_total/d<parameter> for every weight
        and bias."""
        ...

    def step(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> dict[str, float]:
        """The parameters after one update under `config`, by parameter name (w1.., and the
        biases b<l> or b_<neuron>, if the network has any)."""
        ...

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        """`steps` updates under `config`."""
        ...


METHODS = ("devices", "forward", "gradients", "step", "train")


class DtypeError(RuntimeError):
    """The framework did not compute in the dtype asked for (e.g. JAX without 64-bit mode)."""


def check_dtype(backend: str, got: str, asked: str) -> None:
    if got != asked:
        raise DtypeError(f"{backend}: asked for {asked} but the framework computed in {got}")
