"""`torch-func`: the network as pure functions (backends/functional.py, the same expressions
as `jax`), every derivative from torch.func.grad / torch.func.vjp instead of tensors that
record a graph. Training is a Python loop of torch.func.grad_and_value steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from bpcheck.backends import functional
from bpcheck.backends.base import as_trace, named_parameters
from bpcheck.backends.protocol import Training, check_dtype
from bpcheck.backends.torch_backend import TorchBackend, activate
from bpcheck.reference.case import Case, Config


def _value_and_grad(f: Callable[..., Any]) -> Callable[..., Any]:
    gv = torch.func.grad_and_value(f, argnums=(0, 1))
    return lambda w, b: tuple(reversed(gv(w, b)))


def _softplus(z: Any) -> Any:
    """log(1 + e^z) without F.softplus's threshold (it returns z itself above z = 20)."""
    return torch.clamp(z, min=0) + torch.log1p(torch.exp(-torch.abs(z)))


OPS = functional.Ops(
    activate=activate,
    softmax=lambda z: torch.softmax(z, dim=1),
    log_softmax=lambda z: torch.log_softmax(z, dim=1),
    softplus=_softplus,
    grad=torch.func.grad,
    vjp=torch.func.vjp,  # type: ignore[arg-type]
    value_and_grad=_value_and_grad,
    stop_gradient=lambda v: v.detach(),
    select=lambda c, a, b: a if c else b,
)


class TorchFuncBackend(TorchBackend):
    name = "torch-func"

    def _arrays(self, case: Case, params: dict[str, float], dtype: str, device: str) -> tuple[Any, ...]:
        """torch's tensors, as plain values (the transforms track what they differentiate)."""
        x, t, w, b, eta = self._tensors(case, params, dtype, device)
        plain = lambda vs: [v.detach() for v in vs]  # noqa: E731
        return x, t, plain(w), plain(b), eta, tuple(bool(names) for names in case.layout.b)

    def _trace(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> Any:
        x, t, w, b, eta, mask = self._arrays(case, params, dtype, device)
        output_first = config.update_order == "output-first"
        s = functional.trace(OPS, case.spec, x, t, w, b, eta, output_first, config.update_biases, mask)
        check_dtype(self.name, str(s["e_o"].dtype).removeprefix("torch."), dtype)
        return as_trace(s, case, lambda v: v.detach().tolist())

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        x, t, w, b, eta, mask = self._arrays(case, params, dtype, device)
        output_first = config.update_order == "output-first"
        losses = []
        with torch.no_grad():  # torch.func transforms need no recorded graph
            for _ in range(steps):
                (w, b), e_total = functional.update(
                    OPS, case.spec, (w, b), x, t, eta, output_first, config.update_biases, mask
                )
                losses.append(e_total)
        check_dtype(self.name, str(w[0].dtype).removeprefix("torch."), dtype)
        named = named_parameters(case, w, b, lambda v: v.detach().tolist())
        return Training(named, torch.stack(losses).tolist() if losses else [])
