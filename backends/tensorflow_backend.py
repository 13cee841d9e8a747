"""`tensorflow`: the network in TensorFlow, every derivative from tf.GradientTape.

Chain pieces are asked of the tape, as in the torch backend: dE_total/dout of a layer is the
gradient of E_total with respect to that layer's output, delta its gradient with respect to the
net input, dout/dnet the gradient of out with respect to net. Under "output-first" each layer's
delta is backpropagated to the layer below through the updated weights: in the trace as the
gradient of delta_above . net_above(W+), in training by a tf.custom_gradient linear layer.
N-step training is one tf.function: a graph-mode while loop with the tape inside.

TensorFlow differs in two ways. TF32 matmuls are on by default on recent GPUs: switched off at
load. tf.nn.leaky_relu holds its slope in a 32-bit float attribute, so in float64 it multiplies
by 0.009999999776482582, not 0.01 (~10^7 ULPs off): leaky ReLU is written
tf.where(z > 0, z, 0.01 z) in the computing dtype (reference/activations.py), its derivative
still from the tape.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """TensorFlow's C++ libraries write absl and oneDNN lines to file descriptor 2 while they
    load, before TF_CPP_MIN_LOG_LEVEL is read, so only the descriptor can silence them. An
    import that fails still raises its Python exception, which is how its reason is shown."""
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


with _native_stderr_silenced():
    import tensorflow as tf

from bpcheck.backends.base import StepBackend, as_trace, named_parameters, parameter_lists  # noqa: E402
from bpcheck.backends.protocol import Training, check_dtype  # noqa: E402
from bpcheck.reference import activations, mlp  # noqa: E402
from bpcheck.reference.case import Case, Config  # noqa: E402

tf.config.experimental.enable_tensor_float_32_execution(False)


class _NoRetracingWarning(logging.Filter):
    """Each network, rule and dtype is its own graph, traced once: not the waste the warning means."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


tf.get_logger().addFilter(_NoRetracingWarning())

_DTYPES = {"float64": tf.float64, "float32": tf.float32}
_DEVICES = {"cpu": "/CPU:0", "gpu": "/GPU:0"}
Linear = Callable[[Any, Any, Any], Any]


activate = activations.in_framework("tensorflow", tf)


def errors(loss: str, z: Any, a: Any, t: Any) -> Any:
    """Each output's share of each example's error, [example][output]."""
    if loss == "half-sse":
        return 0.5 * tf.square(t - a)
    if loss == "mse":
        return tf.square(t - a) / a.shape[1]
    if loss == "bce":
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=t, logits=z)
    return -t * tf.nn.log_softmax(z, axis=1)


def linear(a: Any, w: Any, b: Any) -> Any:
    return tf.matmul(a, w, transpose_b=True) + b


def output_first(eta: Any) -> Linear:
    """z = a W^T + b, whose gradient hands the layer below delta backpropagated through the
    *updated* W+ = W - eta dE/dW: the "output-first" rule in one backwards pass."""

    @tf.custom_gradient
    def layer(a: Any, w: Any, b: Any) -> Any:
        def grad(delta: Any) -> tuple[Any, Any, Any]:
            g_w = tf.matmul(delta, a, transpose_a=True)
            g_b = tf.reduce_sum(delta, 0) if b.shape[0] > 1 else tf.reshape(tf.reduce_sum(delta), [1])
            return tf.matmul(delta, w - eta * g_w), g_w, g_b

        return linear(a, w, b), grad

    return layer


def forward(spec: mlp.Spec, x: Any, w: list[Any], b: list[Any], layers: list[Linear] | None = None) -> Any:
    """Net inputs and outputs of every layer; `layers` swaps in a custom linear map per layer."""
    zs, acts, a = [], [], x
    for l in range(len(w)):
        z = (layers[l] if layers else linear)(a, w[l], b[l])
        last = l == len(w) - 1
        a = tf.nn.softmax(z, axis=1) if last and spec.loss == "softmax-ce" else activate(spec.activations[l], z)
        zs.append(z)
        acts.append(a)
    return zs, acts


def loss(spec: mlp.Spec, zs: list[Any], acts: list[Any], t: Any) -> tuple[Any, Any]:
    e_o = errors(spec.loss, zs[-1], acts[-1], t)
    return e_o, (tf.reduce_sum(e_o) / e_o.shape[0] if spec.reduction == "mean" else tf.reduce_sum(e_o))


@cache
def _trainer(spec: mlp.Spec, first: bool, trained: tuple[bool, ...]) -> Any:
    """One tf.function per network and rule: `steps` updates in a graph-mode while loop."""

    @tf.function
    def run(x: Any, t: Any, w: Any, b: Any, eta: Any, steps: Any) -> Any:
        layers = [linear] + [output_first(eta)] * (len(w) - 1) if first else None

        def body(k: Any, w: Any, b: Any, losses: Any) -> Any:
            with tf.GradientTape() as tape:
                tape.watch((w, b))
                zs, acts = forward(spec, x, list(w), list(b), layers)
                e_total = loss(spec, zs, acts, t)[1]
            g_w, g_b = tape.gradient(e_total, (w, b))
            w = tuple(v - eta * g for v, g in zip(w, g_w))
            b = tuple(v - eta * g if m else v for v, g, m in zip(b, g_b, trained))
            return k + 1, w, b, losses.write(k, e_total)

        losses = tf.TensorArray(x.dtype, size=steps, element_shape=[])
        _, w, b, losses = tf.while_loop(lambda k, *_: k < steps, body, (tf.constant(0), w, b, losses))
        return w, b, losses.stack()

    return run


def _tolist(v: Any) -> Any:
    return v.numpy().tolist()


class TensorflowBackend(StepBackend):
    name = "tensorflow"

    def devices(self) -> list[str]:
        return ["cpu"] + (["gpu"] if tf.config.list_physical_devices("GPU") else [])

    def accelerator_missing(self) -> str:
        cuda = tf.sysconfig.get_build_info().get("is_cuda_build", False)
        why = "" if cuda else ": this TensorFlow build has no GPU support (tensorflow-cpu)"
        return f"no GPU here (tf.config.list_physical_devices('GPU') is empty{why})"

    def _tensors(self, case: Case, params: dict[str, float], dtype: str) -> tuple[Any, ...]:
        make = lambda v: tf.constant(v, _DTYPES[dtype])
        weights, biases = parameter_lists(case, params)
        w = [make(rows) for rows in weights]
        b = [make(values or [0.0]) for values in biases]
        return (
            make([list(r) for r in case.inputs]),
            make([list(r) for r in case.targets]),
            w,
            b,
            make(case.learning_rate),
        )

    def _trace(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> mlp.Trace:
        with tf.device(_DEVICES[device]):
            return self._step(case, params, config, dtype)

    def _step(self, case: Case, params: dict[str, float], config: Config, dtype: str) -> mlp.Trace:
        spec, lay = case.spec, case.layout
        x, t, w, b, eta = self._tensors(case, params, dtype)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(w + b)
            zs, acts = forward(spec, x, w, b)
            e_o, e_total = loss(spec, zs, acts, t)
        check_dtype(self.name, e_total.dtype.name, dtype)
        depth, first = len(w), config.update_order == "output-first"
        d_outs: list[Any] = [None] * depth
        dout_dnets: list[Any] = [None] * depth
        deltas: list[Any] = [None] * depth
        w_seen: list[Any] = [None] * depth
        grad_w: list[Any] = [None] * depth
        grad_b: list[Any] = [None] * depth
        new_w: list[Any] = [None] * depth
        for l in range(depth - 1, -1, -1):
            logit_output = l == depth - 1 and spec.loss in mlp.LOGIT_LOSSES
            if l == depth - 1 or not first:  # the true gradient of E_total
                local, target, z, a = tape, e_total, zs[l], acts[l]
            else:  # delta of the layer above, backpropagated through its updated weights
                with tf.GradientTape(persistent=True) as local:
                    local.watch(zs[l])
                    z, a = zs[l], activate(spec.activations[l], zs[l])
                    target = tf.reduce_sum(tf.stop_gradient(deltas[l + 1]) * linear(a, new_w[l + 1], b[l + 1]))
            if l < depth - 1:
                w_seen[l + 1] = new_w[l + 1] if first else w[l + 1]
            if not logit_output:
                d_outs[l] = local.gradient(target, a)
                dout_dnets[l] = tape.gradient(acts[l], zs[l], output_gradients=tf.ones_like(acts[l]))
            deltas[l] = local.gradient(target, z)
            grad_w[l], grad_b[l] = tape.gradient(zs[l], [w[l], b[l]], output_gradients=deltas[l])
            new_w[l] = w[l] - eta * grad_w[l]
        new_b = [(b[l] - eta * grad_b[l] if config.update_biases else b[l]) if lay.b[l] else None for l in range(depth)]
        step = dict(zs=zs, acts=acts, e_o=e_o, e_total=e_total, d_outs=d_outs, dout_dnets=dout_dnets)
        step.update(deltas=deltas, w_seen=w_seen, grad_w=grad_w, grad_b=grad_b, new_w=new_w, new_b=new_b)
        return as_trace(step, case, _tolist)

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        lay = case.layout
        trained = tuple(bool(names) and config.update_biases for names in lay.b)
        run = _trainer(case.spec, config.update_order == "output-first", trained)
        with tf.device(_DEVICES[device]):
            x, t, w, b, eta = self._tensors(case, params, dtype)
            w, b, losses = run(x, t, tuple(w), tuple(b), eta, tf.constant(steps))
        check_dtype(self.name, losses.dtype.name, dtype)
        return Training(named_parameters(case, w, b, _tolist), losses.numpy().tolist())
