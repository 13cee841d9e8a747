"""`autograd`: the network in HIPS autograd (autograd.numpy), written once in
backends/functional.py (the same expressions as `jax` and `torch-func`), every derivative from
autograd.grad / make_vjp / value_and_grad.

As in the jax backend, each chain piece is the gradient of a function asked of autograd:
dE_total/dout and delta of a layer are the gradients of E_total as a function of that layer's
output and of its net input, dout/dnet the gradient of sum(f(net)), dE/dw and dE/db a
vector-Jacobian product of net = a W^T + b. Under "output-first" the layer below
backpropagates delta_above . net_above(W+); in training an autograd primitive whose VJP
hands down delta W+ (as the torch backend's autograd.Function does). Training is a Python
loop of value_and_grad steps: autograd traces every step anew.

autograd is NumPy underneath, with NumPy's promotion rules, and some of its VJPs build float64
constants: the gradient of anp.where and anp.maximum comes back float64 from float32 inputs.
So relu and leaky ReLU are z times a constant factor (1 where z > 0, else 0 or 0.01, in the
computing dtype: reference/activations.py), and the dtype check looks at every array the step
produced, not E_total alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import autograd.numpy as anp
import autograd.scipy.special  # binds `autograd`; the table's sigmoid op is its expit
import numpy as np
from autograd import grad, make_vjp, value_and_grad
from autograd.extend import defvjp, primitive
from autograd.scipy.special import logsumexp

from bpcheck.backends import functional
from bpcheck.backends.base import StepBackend, as_trace, named_parameters, parameter_lists
from bpcheck.backends.protocol import Training, check_dtype
from bpcheck.reference import activations, mlp
from bpcheck.reference.case import Case, Config

activate = activations.in_framework("autograd", autograd)


def _log_softmax(z: Any) -> Any:
    return z - logsumexp(z, axis=1, keepdims=True)


def _vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], Any]]:
    pullback, out = make_vjp(lambda p: f(*p))(primals)
    return out, pullback


def _value_and_grad(f: Callable[..., Any]) -> Callable[..., Any]:
    both = value_and_grad(lambda p: f(*p))
    return lambda w, b: both((w, b))


OPS = functional.Ops(
    activate=activate,
    softmax=lambda z: anp.exp(_log_softmax(z)),
    log_softmax=_log_softmax,
    softplus=lambda z: anp.logaddexp(0.0, z),
    grad=grad,
    vjp=_vjp,
    value_and_grad=_value_and_grad,
    stop_gradient=lambda v: v,  # what is handed down is a plain array: autograd traces it no further
    select=lambda c, a, b: a if c else b,
)


@primitive
def output_first(a: Any, w: Any, b: Any, eta: Any) -> Any:
    """z = a W^T + b, whose VJP hands the layer below delta backpropagated through the
    *updated* W+ = W - eta dE/dW: the "output-first" rule in one backwards pass."""
    return functional.linear(a, w, b)


defvjp(
    output_first,
    lambda ans, a, w, b, eta: lambda g: g @ (w - eta * (g.T @ a)),
    lambda ans, a, w, b, eta: lambda g: g.T @ a,
    lambda ans, a, w, b, eta: lambda g: g.sum(0) if b.shape[0] > 1 else g.sum().reshape(1),
)


def _output_first_step(spec: mlp.Spec, x: Any, t: Any, w: list[Any], b: list[Any], eta: Any, *_: Any) -> dict[str, Any]:
    """An output-first training step (functional.update's `step`) as one value_and_grad."""
    linears = [functional.linear] + [lambda a, w, b: output_first(a, w, b, eta)] * (len(w) - 1)
    loss = lambda w, b: functional.e_from_out(OPS, spec, -1, x, w, b, t, linears)
    e_total, (g_w, g_b) = OPS.value_and_grad(loss)(w, b)
    return {"e_total": e_total, "grad_b": g_b, "new_w": [v - eta * g for v, g in zip(w, g_w)]}


def _computed(arrays: Iterable[Any]) -> str:
    """The dtype the framework computed in; several when some array drifted from the others."""
    return "+".join(sorted({str(np.asarray(v).dtype) for v in arrays if v is not None}))


class AutogradBackend(StepBackend):
    name = "autograd"

    def _arrays(self, case: Case, params: dict[str, float], dtype: str) -> tuple[Any, ...]:
        lay = case.layout
        weights, biases = parameter_lists(case, params)
        w = [np.array(rows, dtype) for rows in weights]
        b = [np.array(values or [0.0], dtype) for values in biases]
        x, t = np.array(case.inputs, dtype), np.array(case.targets, dtype)
        return x, t, w, b, np.dtype(dtype).type(case.learning_rate), tuple(bool(names) for names in lay.b)

    def _trace(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> mlp.Trace:
        x, t, w, b, eta, mask = self._arrays(case, params, dtype)
        output_first = config.update_order == "output-first"
        s = functional.trace(OPS, case.spec, x, t, w, b, eta, output_first, config.update_biases, mask)
        check_dtype(self.name, _computed(v for vs in s.values() for v in (vs if isinstance(vs, list) else [vs])), dtype)
        return as_trace(s, case, lambda v: v.tolist())

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        x, t, w, b, eta, mask = self._arrays(case, params, dtype)
        output_first = config.update_order == "output-first"
        losses = []
        for _ in range(steps):
            (w, b), e_total = functional.update(
                OPS, case.spec, (w, b), x, t, eta, output_first, config.update_biases, mask, _output_first_step
            )
            losses.append(e_total)
        check_dtype(self.name, _computed([*w, *b, *losses]), dtype)
        return Training(named_parameters(case, w, b, lambda v: v.tolist()), [float(e) for e in losses])
