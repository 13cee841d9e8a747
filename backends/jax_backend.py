"""`jax` and `jax-jit`: the network in JAX (backends/functional.py), every derivative from
jax.grad / jax.vjp. `jax` runs it eagerly, op by op (training traces its step once and runs it op
by op, see _train_eager); `jax-jit` jit-compiles the traced step and runs N-step training as one
compiled `lax.scan` (XLA may fuse and reorder, so the two can round differently).

JAX computes in float32 unless `jax_enable_x64` is on, silently: asking for float64 would
quietly give float32 numbers. This backend switches 64-bit mode on when it loads, checks that
it took effect, and refuses float64 (DtypeError) if it did not. Matrix products run at
"highest" precision: on a GPU, float32 `dot` otherwise may use TF32.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

# A correctness run needs a few kilobytes: without this JAX takes 75% of the GPU's memory at
# start, and a torch backend in another worker process then finds the GPU out of memory.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from bpcheck.backends import functional
from bpcheck.backends.base import StepBackend, as_trace, named_parameters, parameter_lists
from bpcheck.backends.protocol import DtypeError, Training, check_dtype
from bpcheck.reference import activations, mlp
from bpcheck.reference.case import Case, Config

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_default_matmul_precision", "highest")


def _persistent_cache() -> None:
    """Compiled programs kept between runs (JAX's own cache; the same executable, so the same
    numbers): the matrix compiles ~50 small programs, ~0.5 s each. BPCHECK_JAX_CACHE=off
    disables it, =DIR moves it (default ~/.cache/backprop-crosscheck/jax)."""
    setting = os.environ.get("BPCHECK_JAX_CACHE", "")
    if setting == "off":
        return
    base = Path(setting) if setting else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    jax.config.update("jax_compilation_cache_dir", str(base / "backprop-crosscheck" / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


_persistent_cache()


def x64_enabled() -> bool:
    """Whether JAX really computes in float64 now (the flag can be forced off by the user)."""
    return bool(jax.dtypes.canonicalize_dtype(np.float64) == np.float64)


def _value_and_grad(f: Callable[..., Any]) -> Callable[..., Any]:
    return jax.value_and_grad(f, argnums=(0, 1))


activate = activations.in_framework("jax", jax)
OPS = functional.Ops(
    activate=activate,
    softmax=partial(jax.nn.softmax, axis=1),
    log_softmax=partial(jax.nn.log_softmax, axis=1),
    softplus=jax.nn.softplus,
    grad=jax.grad,
    vjp=jax.vjp,
    value_and_grad=_value_and_grad,
    stop_gradient=jax.lax.stop_gradient,
    select=jnp.where,
)
_STATIC = ("spec", "output_first", "bias_mask")
_trace_jit = jax.jit(partial(functional.trace, OPS), static_argnames=_STATIC)


@partial(jax.jit, static_argnames=("spec", "steps", "output_first", "bias_mask"))
def _train_scan(
    spec: mlp.Spec,
    params: Any,
    x: Any,
    t: Any,
    eta: Any,
    steps: int,
    output_first: bool,
    update_biases: Any,
    bias_mask: tuple[bool, ...],
) -> Any:
    step = lambda p, _: functional.update(OPS, spec, p, x, t, eta, output_first, update_biases, bias_mask)
    return jax.lax.scan(step, params, None, length=steps)


@jax.custom_vjp
def _output_first(a: Any, w: Any, b: Any, eta: Any) -> Any:
    """z = a W^T + b, whose VJP hands the layer below delta backpropagated through the *updated*
    W+ = W - eta dE/dW (as the torch backend's _OutputFirst): an output-first step in one backwards
    pass. The VJP is JAX's transpose of the products functional.trace differentiates, so a step
    computes the very numbers its output-first pieces do."""
    return functional.linear(a, w, b)


def _output_first_fwd(a: Any, w: Any, b: Any, eta: Any) -> tuple[Any, tuple[Any, ...]]:
    return functional.linear(a, w, b), (a, w, b, eta)


def _output_first_bwd(saved: tuple[Any, ...], delta: Any) -> tuple[Any, ...]:
    """net is linear in (W, b), and in a but for + b (whose transpose hands delta on as it is)."""
    a, w, b, eta = saved
    grad_w, grad_b = jax.linear_transpose(lambda wl, bl: functional.linear(a, wl, bl), w, b)(delta)
    updated = w - eta * grad_w
    (down,) = jax.linear_transpose(lambda o: o @ updated.T, a)(delta)
    return down, grad_w, grad_b, jnp.zeros_like(eta)


_output_first.defvjp(_output_first_fwd, _output_first_bwd)


def _output_first_step(spec: mlp.Spec, x: Any, t: Any, w: list[Any], b: list[Any], eta: Any, *_: Any) -> dict[str, Any]:
    """An output-first training step (functional.update's `step`) as one value_and_grad."""
    linears = [functional.linear] + [lambda a, wl, bl: _output_first(a, wl, bl, eta)] * (len(w) - 1)
    loss = lambda w, b: functional.e_from_out(OPS, spec, -1, x, w, b, t, linears)
    e_total, (g_w, g_b) = OPS.value_and_grad(loss)(w, b)
    return {"e_total": e_total, "grad_b": g_b, "new_w": [v - eta * g for v, g in zip(w, g_w)]}


def _train_eager(
    spec: mlp.Spec,
    params: Any,
    x: Any,
    t: Any,
    eta: Any,
    steps: int,
    output_first: bool,
    update_biases: Any,
    bias_mask: tuple[bool, ...],
) -> Any:
    """A Python loop of eager steps. The step, jax.value_and_grad of E_total (output-first: through
    `_output_first`), is traced once by jax.make_jaxpr, and each step runs that program op by op
    (jax.core.eval_jaxpr): every primitive dispatched on its own, as eager JAX runs it, without
    differentiating the same function anew each step (3-10x the cost of its ops)."""
    if not steps:
        return params, np.zeros((0,), x.dtype)
    one = lambda p, x, t, eta: functional.update(
        OPS, spec, p, x, t, eta, output_first, update_biases, bias_mask, _output_first_step
    )
    step = jax.make_jaxpr(one)(params, x, t, eta)
    flat, tree = jax.tree.flatten(params)
    losses = []
    for _ in range(steps):
        *flat, e_total = jax.core.eval_jaxpr(step.jaxpr, step.consts, *flat, x, t, eta)
        losses.append(e_total)
    return jax.tree.unflatten(tree, flat), np.stack([np.asarray(e) for e in losses])


def _tolist(v: Any) -> Any:
    return v.tolist()


class JaxBackend(StepBackend):
    name = "jax"
    _step = staticmethod(partial(functional.trace, OPS))
    _train = staticmethod(_train_eager)

    def devices(self) -> list[str]:
        return ["cpu"] + (["gpu"] if _gpus() else [])

    def accelerator_missing(self) -> str:
        return f"no GPU here: jax.devices() is {[str(d) for d in jax.devices()]} (jaxlib {jax.__version__})"

    def _arrays(self, case: Case, params: dict[str, float], dtype: str) -> tuple[Any, ...]:
        """x, t, w, b and eta as NumPy arrays of `dtype` (see _placed), and which layers have biases."""
        if dtype == "float64" and not x64_enabled():
            raise DtypeError(f"{self.name}: asked for float64 but jax_enable_x64 is off, so JAX computes in float32")
        weights, biases = parameter_lists(case, params)
        host = lambda v: np.asarray(v, dtype)
        mask = tuple(bool(names) for names in case.layout.b)
        w, b = [host(rows) for rows in weights], [host(values or [0.0]) for values in biases]
        return host(case.inputs), host(case.targets), w, b, host(case.learning_rate), mask

    def _placed(self, arrays: Any, device: Any) -> Any:
        """The arrays on the device: eager ops need JAX arrays (NumPy's would compute in NumPy)."""
        return jax.device_put(arrays, device)

    def _trace(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> mlp.Trace:
        *arrays, mask = self._arrays(case, params, dtype)
        dev = jax.devices(device)[0]
        with jax.default_device(dev):
            x, t, w, b, eta = self._placed(arrays, dev)
            output_first = config.update_order == "output-first"
            s = self._step(case.spec, x, t, w, b, eta, output_first, config.update_biases, mask)
        check_dtype(self.name, str(s["e_o"].dtype), dtype)
        return as_trace(s, case, _tolist)

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        *arrays, mask = self._arrays(case, params, dtype)
        dev = jax.devices(device)[0]
        with jax.default_device(dev):
            x, t, w, b, eta = self._placed(arrays, dev)
            output_first = config.update_order == "output-first"
            (w, b), losses = self._train(case.spec, (w, b), x, t, eta, steps, output_first, config.update_biases, mask)
        check_dtype(self.name, str(losses.dtype), dtype)
        return Training(named_parameters(case, w, b, _tolist), losses.tolist())


class JaxJitBackend(JaxBackend):
    """One compiled program per call: the case's NumPy arrays go in as they are, the call placed by
    jax.default_device (~20 us for all of them; a device_put costs ~30 us an array)."""

    name = "jax-jit"
    _step = staticmethod(_trace_jit)
    _train = staticmethod(_train_scan)

    def _placed(self, arrays: Any, device: Any) -> Any:
        return arrays


def _gpus() -> list[Any]:
    try:
        return jax.devices("gpu")
    except RuntimeError:  # no GPU backend in this jaxlib
        return []
