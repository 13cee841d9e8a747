"""The one protocol every backend implements.

A backend computes the case's network in its framework, in a given dtype on a given device,
and hands every number back as a Python float (float64) named in the project's vocabulary
(reference/quantities.py). Parameters go in as float64 values; the backend rounds them to its
dtype itself, exactly as `float32(x)` would.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bpcheck.reference.case import Case, Config
from bpcheck.reference.trace import Training as Training  # the reference's; plug-ins import it from here


@runtime_checkable
class Backend(Protocol):
    name: str

    def devices(self) -> list[str]:
        """Devices this machine offers the backend, e.g. ["cpu"] or ["cpu", "cuda"]."""
        ...

    def forward(self, case: Case, params: dict[str, float], dtype: str, device: str) -> dict[str, float]:
        """net_*, out_*, E_* and E_total of one forward pass."""
        ...

    def gradients(self, case: Case, params: dict[str, float], dtype: str, device: str) -> dict[str, float]:
        """The chain pieces (dE_total/dout_o1, delta_o1, dE_o2/dout_h1, ...) and every
        dE_total/dw, dE_total/db, of one backwards pass from `params`."""
        ...

    def step(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> dict[str, float]:
        """The parameters after one update under `config` (keys w1.., b1, b2)."""
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
