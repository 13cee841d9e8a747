"""`jax`: the network in JAX, every derivative from jax.grad / jax.vjp / jax.jacrev.

JAX computes in float32 unless `jax_enable_x64` is on, silently: asking for float64 would
quietly give float32 numbers. This backend switches 64-bit mode on when it loads, checks
that it took effect, and refuses float64 (DtypeError) if it did not. N-step training is one
jit-compiled `lax.scan`.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from backends.base import StepBackend
from backends.protocol import DtypeError, Training, check_dtype
from reference.backprop import Net, Step
from reference.case import Case, Config

jax.config.update("jax_enable_x64", True)


def x64_enabled() -> bool:
    """Whether JAX really computes in float64 now (the flag can be forced off by the user)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the "float64 is not available" warning is our answer
        return jnp.zeros((), jnp.float64).dtype == jnp.float64


def _sigmoid(z: Any) -> Any:
    return 1 / (1 + jnp.exp(-z))


def _errors(out_o: Any, t: Any) -> Any:
    return 0.5 * (t - out_o) ** 2


def _hidden(w_h: Any, b1: Any, x: Any) -> Any:
    return w_h @ x + b1


def _output(w_o: Any, b2: Any, out_h: Any) -> Any:
    return w_o @ out_h + b2


def _loss(w_h: Any, b1: Any, w_o: Any, b2: Any, x: Any, t: Any) -> Any:
    return _errors(_sigmoid(_output(w_o, b2, _sigmoid(_hidden(w_h, b1, x)))), t).sum()


def _update(
    params: tuple[Any, ...], x: Any, t: Any, eta: Any, output_first: bool, update_biases: bool
) -> tuple[tuple[Any, ...], Any]:
    w_h, b1, w_o, b2 = params
    if output_first:
        # Output layer first; the hidden layer then backpropagates delta_o through W_o+.
        out_h, hidden_vjp = jax.vjp(lambda w, b: _sigmoid(_hidden(w, b, x)), w_h, b1)
        net_o = _output(w_o, b2, out_h)
        e_total, delta_o = jax.value_and_grad(lambda n: _errors(_sigmoid(n), t).sum())(net_o)
        g_w_o, g_b2 = jax.vjp(lambda w, b: _output(w, b, out_h), w_o, b2)[1](delta_o)
        w_o_new = w_o - eta * g_w_o
        g_out_h = jax.vjp(lambda h: _output(w_o_new, b2, h), out_h)[1](delta_o)[0]
        g_w_h, g_b1 = hidden_vjp(g_out_h)
    else:
        e_total, (g_w_h, g_b1, g_w_o, g_b2) = jax.value_and_grad(_loss, argnums=(0, 1, 2, 3))(w_h, b1, w_o, b2, x, t)
        w_o_new = w_o - eta * g_w_o
    b1_new, b2_new = (b1 - eta * g_b1, b2 - eta * g_b2) if update_biases else (b1, b2)
    return (w_h - eta * g_w_h, b1_new, w_o_new, b2_new), e_total


@partial(jax.jit, static_argnames=("steps", "output_first", "update_biases"))
def _train(
    params: tuple[Any, ...], x: Any, t: Any, eta: Any, steps: int, output_first: bool, update_biases: bool
) -> Any:
    return jax.lax.scan(lambda p, _: _update(p, x, t, eta, output_first, update_biases), params, None, length=steps)


@partial(jax.jit, static_argnames=("output_first", "update_biases"))
def _trace(
    x: Any, t: Any, w_h: Any, b1: Any, w_o: Any, b2: Any, eta: Any, output_first: bool, update_biases: bool
) -> dict[str, Any]:
    """Every quantity of one training step, each derivative asked of JAX's autodiff."""
    net_h = _hidden(w_h, b1, x)
    out_h = _sigmoid(net_h)
    net_o = _output(w_o, b2, out_h)
    out_o = _sigmoid(net_o)
    e_o = _errors(out_o, t)
    e_of_out_o = lambda o: _errors(o, t).sum()
    g_w_o, g_b2 = jax.grad(_loss, argnums=(2, 3))(w_h, b1, w_o, b2, x, t)
    delta_o = jax.grad(lambda n: e_of_out_o(_sigmoid(n)))(net_o)
    w_o_new = w_o - eta * g_w_o
    seen = w_o_new if output_first else w_o
    # Below out_h: the true gradient of E_total, or (output-first) delta_o backpropagated
    # through the updated W_o.
    if output_first:
        per_output = lambda h: jax.lax.stop_gradient(delta_o) * _output(seen, b2, h)
    else:
        per_output = lambda h: _errors(_sigmoid(_output(seen, b2, h)), t)
    e_from_net_h = lambda n: per_output(_sigmoid(n)).sum()
    g_w_h, g_b1 = jax.grad(lambda w, b: e_from_net_h(_hidden(w, b, x)), argnums=(0, 1))(w_h, b1)
    sum_grad = lambda f, v: jax.grad(lambda z: f(z).sum())(v)
    return dict(
        net_h=net_h,
        out_h=out_h,
        net_o=net_o,
        out_o=out_o,
        e_o=e_o,
        e_total=e_o.sum(),
        d_out_o=jax.grad(e_of_out_o)(out_o),
        dout_dnet_o=sum_grad(_sigmoid, net_o),
        delta_o=delta_o,
        dnet_o_dw=sum_grad(lambda w: _output(w, b2, out_h), w_o),
        dnet_o_dout_h=jax.jacrev(lambda h: _output(seen, b2, h))(out_h),
        d_e_o_d_out_h=jax.jacrev(per_output)(out_h).T,
        d_out_h=sum_grad(per_output, out_h),
        dout_dnet_h=sum_grad(_sigmoid, net_h),
        delta_h=jax.grad(e_from_net_h)(net_h),
        dnet_h_dw=sum_grad(lambda w: _hidden(w, b1, x), w_h),
        grad_w_h=g_w_h,
        grad_w_o=g_w_o,
        grad_b1=g_b1,
        grad_b2=g_b2,
        new=(
            w_h - eta * g_w_h,
            b1 - eta * g_b1 if update_biases else b1,
            w_o_new,
            b2 - eta * g_b2 if update_biases else b2,
        ),
    )


class JaxBackend(StepBackend):
    name = "jax"

    def devices(self) -> list[str]:
        return ["cpu"] + (["gpu"] if any(d.platform == "gpu" for d in jax.devices()) else [])

    def _arrays(self, case: Case, params: dict[str, float], dtype: str, device: str) -> tuple[Any, ...]:
        if dtype == "float64" and not x64_enabled():
            raise DtypeError(f"{self.name}: asked for float64 but jax_enable_x64 is off, so JAX computes in float32")
        dev = jax.devices(device)[0]
        lay = case.layout
        put = lambda v: jax.device_put(jnp.asarray(v, dtype), dev)
        return (
            put(list(case.inputs)),
            put(list(case.targets)),
            put([[params[w] for w in row] for row in lay.w_hidden]),
            put(params["b1"]),
            put([[params[w] for w in row] for row in lay.w_output]),
            put(params["b2"]),
            put(case.learning_rate),
        )

    def _step(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> Step:
        arrays = self._arrays(case, params, dtype, device)
        s = _trace(*arrays, config.update_order == "output-first", config.update_biases)
        check_dtype(self.name, str(s["e_o"].dtype), dtype)
        new = s.pop("new")
        fields = {k: v.tolist() for k, v in s.items()}
        return Step(**fields, new=Net(new[0].tolist(), float(new[1]), new[2].tolist(), float(new[3])))

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        x, t, w_h, b1, w_o, b2, eta = self._arrays(case, params, dtype, device)
        (w_h, b1, w_o, b2), losses = _train(
            (w_h, b1, w_o, b2), x, t, eta, steps, config.update_order == "output-first", config.update_biases
        )
        check_dtype(self.name, str(losses.dtype), dtype)
        lay = case.layout
        named = dict(zip(lay.weights, jnp.concatenate([w_h.ravel(), w_o.ravel()]).tolist()))
        return Training({**named, "b1": float(b1), "b2": float(b2)}, losses.tolist())
