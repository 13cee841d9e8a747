"""`torch`: the network in PyTorch, every derivative from torch.autograd.

Chain pieces are asked of autograd, not typed in: dE_total/dout of a layer is the gradient of
E_total with respect to that layer's output tensor, delta its gradient with respect to the net
input, dout/dnet the gradient of out with respect to net. Under the "output-first" rule each
layer's delta is backpropagated to the layer below as a vector-Jacobian product through the
updated weights.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from bpcheck.backends.base import StepBackend, as_trace, named_parameters, parameter_lists
from bpcheck.backends.protocol import Training, check_dtype
from bpcheck.reference import activations, mlp
from bpcheck.reference.case import Case, Config

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def full_precision() -> None:
    """Correctness runs: no TF32 and no reduced-precision reductions on a GPU (each is off by
    default on the CPU and some are on by default on NVIDIA GPUs)."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = False
    torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = False
    torch.set_float32_matmul_precision("highest")


full_precision()


def _dout_dnet(pieces: Any, kind: str, z: Any) -> Any:
    """d sum(f(net))/dnet, elementwise f': asked of autograd on a graph of its own."""
    z = z.detach().requires_grad_()
    a = pieces.activation(kind, z)
    return torch.autograd.grad(a, z, grad_outputs=torch.ones_like(a))[0]


activate = activations.in_framework("torch", torch)


def errors(loss: str, z: Any, a: Any, t: Any) -> Any:
    """Each output's share of each example's error, [example][output]."""
    if loss == "half-sse":
        return 0.5 * (t - a) ** 2
    if loss == "mse":
        return (t - a) ** 2 / a.shape[1]
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(z, t, reduction="none")
    return -t * F.log_softmax(z, dim=1)


def linear(a: Any, w: Any, b: Any) -> Any:
    return a @ w.T + b


def layer_output(kind: str, z: Any) -> Any:
    """A layer's activation; "softmax" for the output layer of softmax-ce."""
    return torch.softmax(z, dim=1) if kind == "softmax" else activate(kind, z)


def output_kinds(spec: mlp.Spec) -> list[str]:
    return [*spec.activations[:-1], "softmax" if spec.loss == "softmax-ce" else spec.activations[-1]]


class Pieces:
    """The three functions the network is composed of; `torch-compile` compiles each."""

    linear = staticmethod(linear)
    activation = staticmethod(layer_output)
    errors = staticmethod(errors)


def forward(
    spec: mlp.Spec, x: Any, w: list[Any], b: list[Any], pieces: Any = Pieces, linears: list[Any] | None = None
) -> tuple[list[Any], list[Any]]:
    """Net inputs and outputs of every layer; `linears` swaps in a custom linear map per layer."""
    zs, acts = [], [x]
    for l, kind in enumerate(output_kinds(spec)):
        z = (linears[l] if linears else pieces.linear)(acts[-1], w[l], b[l])
        zs.append(z)
        acts.append(pieces.activation(kind, z))
    return zs, acts[1:]


def loss(spec: mlp.Spec, zs: list[Any], acts: list[Any], t: Any, pieces: Any = Pieces) -> tuple[Any, Any]:
    e_o = pieces.errors(spec.loss, zs[-1], acts[-1], t)
    return e_o, (e_o.sum() / len(t) if spec.reduction == "mean" else e_o.sum())


def _tolist(v: Any) -> Any:
    return v.detach().tolist()


class TorchBackend(StepBackend):
    name = "torch"
    pieces: Any = Pieces

    def devices(self) -> list[str]:
        return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

    def accelerator_missing(self) -> str:
        return f"no CUDA device here: torch.cuda.is_available() is False (torch {torch.__version__})"

    def _tensors(self, case: Case, params: dict[str, float], dtype: str, device: str) -> tuple[Any, ...]:
        make = lambda v: torch.tensor(v, dtype=_DTYPES[dtype], device=device)
        weights, biases = parameter_lists(case, params)
        w = [make(rows).requires_grad_() for rows in weights]
        b = [make(values or [0.0]).requires_grad_(bool(values)) for values in biases]
        return (
            make([list(r) for r in case.inputs]),
            make([list(r) for r in case.targets]),
            w,
            b,
            make(case.learning_rate),
        )

    def _trace(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> mlp.Trace:
        spec = case.spec
        x, t, w, b, eta = self._tensors(case, params, dtype, device)
        zs, acts = forward(spec, x, w, b, self.pieces)
        e_o, e_total = loss(spec, zs, acts, t, self.pieces)
        check_dtype(self.name, str(e_total.dtype).removeprefix("torch."), dtype)
        depth = len(w)
        output_first = config.update_order == "output-first"
        kinds = output_kinds(spec)
        d_outs: list[Any] = [None] * depth
        deltas: list[Any] = [None] * depth
        grad_w: list[Any] = [None] * depth
        grad_b: list[Any] = [None] * depth
        new_w: list[Any] = [None] * depth
        for l in range(depth - 1, -1, -1):
            if l == depth - 1:  # the true gradient of E_total: every layer, or (output-first) this one
                target, cot, covered = e_total, None, [l] if output_first else list(range(depth))
            elif output_first:  # delta of the layer above, backpropagated through its updated weights
                target, cot, covered = acts[l] @ new_w[l + 1].T + b[l + 1].detach(), deltas[l + 1], [l]
            else:
                continue  # covered by the pass from E_total
            # One backward pass per target: the chain pieces of its layers in one autograd.grad
            # call (a graph is never traversed twice, see docs/findings.md on torch.compile).
            wanted = [
                [acts[k] if not (k == depth - 1 and spec.loss in mlp.LOGIT_LOSSES) else None, zs[k], w[k], b[k]]
                for k in covered
            ]
            flat = [v for group in wanted for v in group if v is not None and v.requires_grad]
            got = dict(zip(map(id, flat), torch.autograd.grad(target, flat, grad_outputs=cot)))
            for k, (a, z, wk, bk) in zip(covered, wanted):
                d_outs[k] = None if a is None else got[id(a)]
                deltas[k], grad_w[k], grad_b[k] = got[id(z)], got[id(wk)], got.get(id(bk))
                with torch.no_grad():
                    new_w[k] = w[k] - eta * grad_w[k]
        w_seen = [None] + [new_w[l] if output_first else w[l].detach() for l in range(1, depth)]
        dout_dnets = [None if d is None else _dout_dnet(self.pieces, kind, z) for d, kind, z in zip(d_outs, kinds, zs)]
        lay = case.layout
        with torch.no_grad():
            new_b = [
                (b[l] - eta * grad_b[l] if config.update_biases else b[l]) if lay.b[l] else None for l in range(depth)
            ]
        step = dict(zs=zs, acts=acts, e_o=e_o, e_total=e_total.detach(), d_outs=d_outs, dout_dnets=dout_dnets)
        step.update(deltas=deltas, w_seen=w_seen, grad_w=grad_w, grad_b=grad_b, new_w=new_w, new_b=new_b)
        return as_trace(step, case, _tolist)

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        spec = case.spec
        x, t, w, b, eta = self._tensors(case, params, dtype, device)
        for v, names in zip(b, case.layout.b):
            v.requires_grad_(bool(names) and config.update_biases)
        leaves = w + [v for v in b if v.requires_grad]
        linears = None
        if config.update_order == "output-first":
            linears = [self.pieces.linear] + [lambda a, wl, bl: _OutputFirst.apply(a, wl, bl, eta)] * (len(w) - 1)
        one = torch.ones((), dtype=x.dtype, device=device)  # dE_total/dE_total: once, not per step by autograd.grad
        losses = []
        for _ in range(steps):
            zs, acts = forward(spec, x, w, b, self.pieces, linears)
            e_total = loss(spec, zs, acts, t, self.pieces)[1]
            grads = torch.autograd.grad(e_total, leaves, one)
            for leaf, g in zip(leaves, grads):
                leaf.detach().sub_(eta * g)  # in place on the leaf's values; g has no graph, so nothing is recorded
            losses.append(e_total.detach())  # stacked once at the end: no .item() per step
        check_dtype(self.name, str(w[0].dtype).removeprefix("torch."), dtype)
        named = named_parameters(case, w, b, lambda v: v.detach().tolist())
        return Training(named, torch.stack(losses).tolist() if losses else [])


class _OutputFirst(torch.autograd.Function):
    """z = a W^T + b, whose backward hands the layer below delta backpropagated through the
    *updated* W+ = W - eta dE/dW: the "output-first" rule in one backwards pass."""

    @staticmethod
    def forward(ctx: Any, a: Any, w: Any, b: Any, eta: Any) -> Any:
        ctx.save_for_backward(a, w, eta)
        ctx.bias_shape = b.shape
        return a @ w.T + b

    @staticmethod
    def backward(ctx: Any, delta: Any) -> Any:
        a, w, eta = ctx.saved_tensors
        grad_w = delta.T @ a
        grad_b = delta.sum(0) if ctx.bias_shape[0] > 1 else delta.sum().reshape(1)
        return delta @ (w - eta * grad_w), grad_w, grad_b, None
