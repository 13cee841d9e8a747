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

from backends.base import StepBackend
from backends.protocol import Training, check_dtype
from reference import mlp
from reference.case import Case, Config

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def _grad(y: Any, x: Any, cotangent: Any = None) -> Any:
    """d(y . cotangent)/dx; with no cotangent y must be a scalar."""
    return torch.autograd.grad(y, x, grad_outputs=cotangent, retain_graph=True)[0]


def activate(kind: str, z: Any) -> Any:
    if kind == "sigmoid":
        return torch.sigmoid(z)
    if kind == "tanh":
        return torch.tanh(z)
    if kind == "relu":
        return torch.relu(z)
    if kind == "leaky_relu":
        return F.leaky_relu(z, mlp.LEAKY_SLOPE)
    return z


def errors(loss: str, z: Any, a: Any, t: Any) -> Any:
    """Each output's share of each example's error, [example][output]."""
    if loss == "half-sse":
        return 0.5 * (t - a) ** 2
    if loss == "mse":
        return (t - a) ** 2 / a.shape[1]
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(z, t, reduction="none")
    return -t * F.log_softmax(z, dim=1)


def forward(
    spec: mlp.Spec, x: Any, w: list[Any], b: list[Any], layers: list[Any] | None = None
) -> tuple[list[Any], list[Any]]:
    """Net inputs and outputs of every layer; `layers` swaps in a custom linear map per layer."""
    zs, acts = [], [x]
    for l in range(len(w)):
        z = layers[l](acts[-1], w[l], b[l]) if layers else acts[-1] @ w[l].T + b[l]
        last = l == len(w) - 1
        zs.append(z)
        acts.append(torch.softmax(z, dim=1) if last and spec.loss == "softmax-ce" else activate(spec.activations[l], z))
    return zs, acts[1:]


def loss(spec: mlp.Spec, zs: list[Any], acts: list[Any], t: Any) -> tuple[Any, Any]:
    e_o = errors(spec.loss, zs[-1], acts[-1], t)
    return e_o, (e_o.sum() / len(t) if spec.reduction == "mean" else e_o.sum())


def _lists(v: Any) -> Any:
    return None if v is None else v.detach().tolist()


class TorchBackend(StepBackend):
    name = "torch"

    def devices(self) -> list[str]:
        return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

    def _tensors(self, case: Case, params: dict[str, float], dtype: str, device: str) -> tuple[Any, ...]:
        lay = case.layout
        make = lambda v: torch.tensor(v, dtype=_DTYPES[dtype], device=device)
        w = [make([[params[n] for n in row] for row in layer]).requires_grad_() for layer in lay.w]
        b = [make([params[n] for n in names] if names else [0.0]).requires_grad_(bool(names)) for names in lay.b]
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
        zs, acts = forward(spec, x, w, b)
        e_o, e_total = loss(spec, zs, acts, t)
        check_dtype(self.name, str(e_total.dtype).removeprefix("torch."), dtype)
        depth = len(w)
        output_first = config.update_order == "output-first"
        d_outs: list[Any] = [None] * depth
        dout_dnets: list[Any] = [None] * depth
        deltas: list[Any] = [None] * depth
        w_seen: list[Any] = [[] for _ in range(depth)]
        grad_w: list[Any] = [None] * depth
        grad_b: list[Any] = [None] * depth
        new_w: list[Any] = [None] * depth
        for l in range(depth - 1, -1, -1):
            logit_output = l == depth - 1 and spec.loss in mlp.LOGIT_LOSSES
            if l == depth - 1 or not output_first:  # the true gradient of E_total
                target, cot = e_total, None
            else:  # delta of the layer above, backpropagated through its updated weights
                seen = new_w[l + 1]
                target, cot = acts[l] @ seen.T + b[l + 1].detach(), deltas[l + 1]
            if l < depth - 1:
                w_seen[l + 1] = (new_w[l + 1] if output_first else w[l + 1].detach()).tolist()
            if not logit_output:
                d_outs[l] = _grad(target, acts[l], cot)
                dout_dnets[l] = _grad(acts[l], zs[l], torch.ones_like(acts[l]))
            deltas[l] = _grad(target, zs[l], cot)
            grad_w[l] = _grad(zs[l], w[l], deltas[l])
            with torch.no_grad():
                new_w[l] = w[l] - eta * grad_w[l]
            grad_b[l] = _grad(zs[l], b[l], deltas[l]) if b[l].requires_grad else None
        lay = case.layout
        with torch.no_grad():
            new_b = [
                (b[l] - eta * grad_b[l] if config.update_biases else b[l]).tolist() if lay.b[l] else []
                for l in range(depth)
            ]
        return mlp.Trace(
            [
                mlp.Layer(_lists(z), _lists(a), _lists(d), _lists(dd), _lists(de))
                for z, a, d, dd, de in zip(zs, acts, d_outs, dout_dnets, deltas)
            ],
            _lists(e_o),
            e_total.item(),
            w_seen,
            [_lists(g) for g in grad_w],
            [_lists(g) if lay.b[l] else [] for l, g in enumerate(grad_b)],
            mlp.Net([_lists(v) for v in new_w], new_b),
        )

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        spec = case.spec
        x, t, w, b, eta = self._tensors(case, params, dtype, device)
        for v, names in zip(b, case.layout.b):
            v.requires_grad_(bool(names) and config.update_biases)
        leaves = w + [v for v in b if v.requires_grad]
        layers = None
        if config.update_order == "output-first":
            layers = [_plain] + [_OutputFirst.apply] * (len(w) - 1)
        losses = []
        for _ in range(steps):
            zs, acts = forward(
                spec, x, w, b, [lambda a, wl, bl, f=f: f(a, wl, bl, eta) for f in layers] if layers else None
            )
            e_total = loss(spec, zs, acts, t)[1]
            grads = torch.autograd.grad(e_total, leaves)
            with torch.no_grad():
                for leaf, g in zip(leaves, grads):
                    leaf.sub_(eta * g)
            losses.append(e_total.detach())
        check_dtype(self.name, str(w[0].dtype).removeprefix("torch."), dtype)
        lay = case.layout
        named = dict(zip(lay.weights, torch.cat([v.detach().ravel() for v in w]).tolist()))
        named.update(
            zip(
                lay.biases,
                torch.cat([v.detach().ravel() for v, n in zip(b, lay.b) if n]).tolist() if lay.biases else [],
            )
        )
        return Training(named, torch.stack(losses).tolist() if losses else [])


def _plain(a: Any, w: Any, b: Any, eta: Any) -> Any:
    return a @ w.T + b


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
