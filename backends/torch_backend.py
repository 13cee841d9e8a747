"""`torch`: the network in PyTorch, every derivative from torch.autograd.

Chain pieces are asked of autograd one by one (dE_total/dout_o1 is the gradient of E_total
with respect to the tensor out_o, delta_o1 with respect to net_o, ...), so each quantity checks
the framework, not a formula typed in here. Under the "output-first" rule the hidden deltas
are the vector-Jacobian product of net_o = W_o+ out_h + b2 with cotangent delta_o.
"""

from __future__ import annotations

from typing import Any

import torch

from backends.base import StepBackend
from backends.protocol import Training, check_dtype
from reference.backprop import Net, Step
from reference.case import Case, Config

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def _grad(y: Any, x: Any, cotangent: Any = None) -> Any:
    """d(y . cotangent)/dx; with no cotangent y must be a scalar."""
    return torch.autograd.grad(y, x, grad_outputs=cotangent, retain_graph=True)[0]


class TorchBackend(StepBackend):
    name = "torch"

    def devices(self) -> list[str]:
        return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

    def _tensors(self, case: Case, params: dict[str, float], dtype: str, device: str) -> tuple[Any, ...]:
        lay = case.layout
        make = lambda v: torch.tensor(v, dtype=_DTYPES[dtype], device=device)
        w_h = make([[params[w] for w in row] for row in lay.w_hidden]).requires_grad_()
        w_o = make([[params[w] for w in row] for row in lay.w_output]).requires_grad_()
        b1, b2 = make(params["b1"]).requires_grad_(), make(params["b2"]).requires_grad_()
        return make(list(case.inputs)), make(list(case.targets)), w_h, b1, w_o, b2, make(case.learning_rate)

    def _step(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> Step:
        x, t, w_h, b1, w_o, b2, eta = self._tensors(case, params, dtype, device)
        net_h = w_h @ x + b1
        out_h = torch.sigmoid(net_h)
        net_o = w_o @ out_h + b2
        out_o = torch.sigmoid(net_o)
        e_o = 0.5 * (t - out_o) ** 2
        e_total = e_o.sum()
        check_dtype(self.name, str(e_total.dtype).removeprefix("torch."), dtype)
        ones_o, ones_h = torch.ones_like(out_o), torch.ones_like(out_h)
        delta_o = _grad(e_total, net_o)
        grad_w_o, grad_b2 = torch.autograd.grad(e_total, (w_o, b2), retain_graph=True)
        with torch.no_grad():
            w_o_new = w_o - eta * grad_w_o
        if config.update_order == "output-first":  # hidden layer sees the updated W_o
            seen = w_o_new
            net_o_seen = seen @ out_h + b2
            cot, target = delta_o, net_o_seen
        else:
            seen, cot, target = w_o, None, e_total
        d_out_h = _grad(target, out_h, cot)
        delta_h = _grad(target, net_h, cot)
        grad_w_h, grad_b1 = torch.autograd.grad(target, (w_h, b1), grad_outputs=cot, retain_graph=True)
        net_seen = seen @ out_h + b2
        eye = torch.eye(len(out_o), dtype=out_o.dtype, device=out_o.device)
        b1, b2 = b1.detach(), b2.detach()
        with torch.no_grad():
            new = Net(
                (w_h - eta * grad_w_h).tolist(),
                float(b1 - eta * grad_b1) if config.update_biases else float(b1),
                w_o_new.tolist(),
                float(b2 - eta * grad_b2) if config.update_biases else float(b2),
            )
        rows = lambda f: [f(k).tolist() for k in range(len(out_o))]
        return Step(
            net_h=net_h.tolist(),
            out_h=out_h.tolist(),
            net_o=net_o.tolist(),
            out_o=out_o.tolist(),
            e_o=e_o.tolist(),
            e_total=e_total.item(),
            d_out_o=_grad(e_total, out_o).tolist(),
            dout_dnet_o=_grad(out_o, net_o, ones_o).tolist(),
            delta_o=delta_o.tolist(),
            dnet_o_dw=_grad(net_o, w_o, ones_o).tolist(),
            # dnet_o/dout_h and dE_o/dout_h, one output neuron at a time (rows of the Jacobians).
            dnet_o_dout_h=rows(lambda k: _grad(net_seen, out_h, eye[k])),
            d_e_o_d_out_h=[
                list(col)
                for col in zip(
                    *rows(
                        lambda k: _grad(net_seen, out_h, delta_o * eye[k]) if cot is not None else _grad(e_o[k], out_h)
                    )
                )
            ],
            d_out_h=d_out_h.tolist(),
            dout_dnet_h=_grad(out_h, net_h, ones_h).tolist(),
            delta_h=delta_h.tolist(),
            dnet_h_dw=_grad(net_h, w_h, ones_h).tolist(),
            grad_w_h=grad_w_h.tolist(),
            grad_w_o=grad_w_o.tolist(),
            grad_b1=float(grad_b1),
            grad_b2=float(grad_b2),
            new=new,
        )

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        x, t, w_h, b1, w_o, b2, eta = self._tensors(case, params, dtype, device)
        b1.requires_grad_(config.update_biases)
        b2.requires_grad_(config.update_biases)
        leaves = (w_h, w_o, b1, b2) if config.update_biases else (w_h, w_o)
        output_layer = _OutputFirst.apply if config.update_order == "output-first" else _plain_output
        losses = []
        for _ in range(steps):
            out_h = torch.sigmoid(torch.addmv(b1, w_h, x))
            out_o = torch.sigmoid(output_layer(w_o, out_h, b2, eta))
            e_total = 0.5 * torch.nn.functional.mse_loss(out_o, t, reduction="sum")
            grads = torch.autograd.grad(e_total, leaves)
            with torch.no_grad():
                for leaf, g in zip(leaves, grads):
                    leaf.sub_(eta * g)
            losses.append(e_total.detach())
        check_dtype(self.name, str(w_h.dtype).removeprefix("torch."), dtype)
        lay = case.layout
        named = dict(zip(lay.weights, torch.cat([w_h.detach().ravel(), w_o.detach().ravel()]).tolist()))
        return Training({**named, "b1": b1.item(), "b2": b2.item()}, torch.stack(losses).tolist() if losses else [])


def _plain_output(w_o: Any, out_h: Any, b2: Any, eta: Any) -> Any:
    return torch.addmv(b2, w_o, out_h)


class _OutputFirst(torch.autograd.Function):
    """net_o = W_o out_h + b2, whose backward hands the hidden layer delta_o backpropagated
    through the *updated* W_o+ = W_o - eta * dE/dW_o: the "output-first" rule in one pass."""

    @staticmethod
    def forward(ctx: Any, w_o: Any, out_h: Any, b2: Any, eta: Any) -> Any:
        ctx.save_for_backward(w_o, out_h, eta)
        return torch.addmv(b2, w_o, out_h)

    @staticmethod
    def backward(ctx: Any, delta_o: Any) -> Any:
        w_o, out_h, eta = ctx.saved_tensors
        grad_w_o = torch.outer(delta_o, out_h)
        return grad_w_o, (w_o - eta * grad_w_o).T @ delta_o, delta_o.sum(), None
