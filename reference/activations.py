"""The activations, one table entry each: the reference, the oracles and every backend read it.

An entry gives f and f' once, generically over the number type (the `Arithmetic`: float64,
float32, the exact oracle, the complex step, the error model's balls), the points where f is not
differentiable (its kinks, with the one-sided derivatives there), whether f is analytic (the
complex step needs that), and f in each framework: an op `(module, z) -> f(z)` the backend
calls with the framework's module (`import torch` -> torch), so nothing here imports a
framework. NumPy differentiates by hand, so it also has f' as an op `(module, z, out) -> f'(z)`.

A framework's op is where its deliberate choices live: see tensorflow's and autograd's leaky
ReLU below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bpcheck.reference.arith import FLOAT64, Arithmetic, real

Num = Any
#: (the framework's module, z) -> f(z), elementwise
Op = Callable[[Any, Any], Any]
#: (the framework's module, z, f(z)) -> f'(z), elementwise
DerivativeOp = Callable[[Any, Any, Any], Any]

LEAKY_SLOPE = 0.01
#: The frameworks with an op for every activation, each handed the module of that import name.
FRAMEWORKS = ("numpy", "torch", "jax", "tensorflow", "autograd")
#: Frameworks that take f' from the table instead of differentiating f.
BY_HAND = ("numpy",)


@dataclass(frozen=True)
class Kink:
    """A point where f is not differentiable, and f's derivatives just left and right of it."""

    at: float
    left: float
    right: float


@dataclass(frozen=True)
class Elementary:
    """f and f' as a framework may compute them directly (torch.sigmoid, autograd's 1/cosh^2),
    for the error model (reference/bounds.py): in float math, with the largest |f'| and |f''|
    anywhere, so a correct evaluation by either formula is bounded."""

    f: Callable[[float], float]
    df: Callable[[float], float]
    max_slope: float  # sup |f'|
    max_curvature: float  # sup |f''|


@dataclass(frozen=True)
class Activation:
    name: str
    f: Callable[[Num, Arithmetic], Num]  # (net, a) -> out
    derivative: Callable[[Num, Num, Arithmetic], Num]  # (net, out, a) -> dout/dnet; at a kink its left side
    ops: Mapping[str, Op]  # framework -> f
    derivative_ops: Mapping[str, DerivativeOp]  # framework in BY_HAND -> f'
    kinks: tuple[Kink, ...] = ()
    analytic: bool = True  # whether the complex step applies
    #: f and f' as one library call each (None: f is piecewise linear, computed alike everywhere)
    elementary: Elementary | None = None

    def __post_init__(self) -> None:
        if self.kinks and self.analytic:
            raise ValueError(f"{self.name}: a function with a kink is not analytic")


# --- sigmoid: 1 / (1 + e^-net), never exponentiating a positive number ----------------------


def _sigmoid(net: Num, a: Arithmetic) -> Num:
    if real(net) >= 0:
        return 1 / (1 + a.exp(-net))
    e = a.exp(net)
    return e / (1 + e)


def _numpy_sigmoid(np: Any, z: Any) -> Any:
    """1 / (1 + e) where z >= 0, else e / (1 + e), with e = exp(-|z|): each quotient computed once."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


SIGMOID = Activation(
    "sigmoid",
    _sigmoid,
    lambda net, out, a: out * (1 - out),  # from out, as the post does
    {
        "numpy": _numpy_sigmoid,
        "torch": lambda torch, z: torch.sigmoid(z),
        "jax": lambda jax, z: jax.nn.sigmoid(z),
        "tensorflow": lambda tf, z: tf.sigmoid(z),
        "autograd": lambda ag, z: ag.scipy.special.expit(z),
    },
    {"numpy": lambda np, z, out: out * (1 - out)},
    elementary=Elementary(
        lambda x: _sigmoid(x, FLOAT64),
        lambda x: _sigmoid(x, FLOAT64) * _sigmoid(-x, FLOAT64),
        max_slope=0.25,
        max_curvature=0.1,  # |s''| = |s'(1 - 2s)| <= 1/(6 sqrt 3) ~ 0.0962
    ),
)

TANH = Activation(
    "tanh",
    lambda net, a: a.tanh(net),
    lambda net, out, a: 1 - out * out,
    {
        "numpy": lambda np, z: np.tanh(z),
        "torch": lambda torch, z: torch.tanh(z),
        "jax": lambda jax, z: jax.numpy.tanh(z),
        "tensorflow": lambda tf, z: tf.tanh(z),
        "autograd": lambda ag, z: ag.numpy.tanh(z),
    },
    {"numpy": lambda np, z, out: 1 - out * out},
    elementary=Elementary(
        math.tanh,
        lambda x: 1 / math.cosh(x) ** 2 if abs(x) < 350 else 0.0,
        max_slope=1.0,
        max_curvature=0.77,  # |tanh''| = 2 |tanh| (1 - tanh^2) <= 4 / (3 sqrt 3) ~ 0.770
    ),
)


# --- relu and leaky ReLU: max(net, slope * net), kinked at 0 ---------------------------------


def _autograd_ramp(slope: float) -> Op:
    """z times a constant factor (1 where z > 0, else `slope`, in z's dtype): not anp.where or
    anp.maximum of z, whose gradients come back float64 from float32 inputs. The factor's
    where sees only constants, so autograd does not trace it."""
    return lambda ag, z: z * ag.numpy.where(z > 0, z.dtype.type(1), z.dtype.type(slope))


def _ramp(name: str, slope: float, ops: Mapping[str, Op]) -> Activation:
    """net where net > 0, else slope * net; the derivative at 0 is the left one, `slope`."""
    return Activation(
        name,
        lambda net, a: net if real(net) > 0 else net * a.num(slope),
        lambda net, out, a: a.num(1.0) if real(net) > 0 else a.num(slope),
        {
            "numpy": lambda np, z: np.where(z > 0, z, z * z.dtype.type(slope)),
            "autograd": _autograd_ramp(slope),
            **ops,
        },
        {"numpy": lambda np, z, out: np.where(z > 0, np.ones_like(z), np.ones_like(z) * z.dtype.type(slope))},
        kinks=(Kink(0.0, slope, 1.0),),
        analytic=False,
    )


RELU = _ramp(
    "relu",
    0.0,
    {
        "torch": lambda torch, z: torch.relu(z),
        "jax": lambda jax, z: jax.nn.relu(z),
        "tensorflow": lambda tf, z: tf.nn.relu(z),
    },
)

LEAKY_RELU = _ramp(
    "leaky_relu",
    LEAKY_SLOPE,
    {
        "torch": lambda torch, z: torch.nn.functional.leaky_relu(z, LEAKY_SLOPE),
        "jax": lambda jax, z: jax.nn.leaky_relu(z, LEAKY_SLOPE),
        # not tf.nn.leaky_relu: its slope is a float32 attribute (0.009999999776482582 in float64)
        "tensorflow": lambda tf, z: tf.where(z > 0, z, z * LEAKY_SLOPE),
    },
)

IDENTITY = Activation(
    "identity",
    lambda net, a: net,
    lambda net, out, a: a.num(1.0),
    dict.fromkeys(FRAMEWORKS, lambda module, z: z),
    {"numpy": lambda np, z, out: np.ones_like(z)},
)

TABLE: dict[str, Activation] = {act.name: act for act in (SIGMOID, TANH, RELU, LEAKY_RELU, IDENTITY)}
NAMES = tuple(TABLE)


# --- asking the table ----------------------------------------------------------------------


def get(name: str) -> Activation:
    if name not in TABLE:
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(NAMES)}")
    return TABLE[name]


def in_framework(framework: str, module: Any) -> Callable[[str, Any], Any]:
    """activate(kind, z) in one framework: the table's op for `kind`, handed `module`."""

    def activate(kind: str, z: Any) -> Any:
        return get(kind).ops[framework](module, z)

    return activate


def derivative_in_framework(framework: str, module: Any) -> Callable[[str, Any, Any], Any]:
    """derivative(kind, z, out) in a framework of BY_HAND."""

    def derivative(kind: str, z: Any, out: Any) -> Any:
        return get(kind).derivative_ops[framework](module, z, out)

    return derivative


def at_kink(name: str, z: Num) -> bool:
    """Whether `name` is not differentiable at z (exactly at one of its kinks)."""
    return any(real(z) == k.at for k in get(name).kinks)


def kink_distance(name: str, z: Num) -> float:
    """How far z is from the nearest kink of `name` (inf for one without kinks)."""
    return min((abs(float(real(z)) - k.at) for k in get(name).kinks), default=float("inf"))


def subdifferential(name: str, z: Num, a: Arithmetic = FLOAT64) -> tuple[Num, Num]:
    """(lo, hi): the derivatives `name` may be given at z (a number of type `a`). Both f'(z)
    where f is differentiable; at a kink every value between its one-sided derivatives."""
    act = get(name)
    for k in act.kinks:
        if real(z) == k.at:
            return a.num(min(k.left, k.right)), a.num(max(k.left, k.right))
    d = act.derivative(z, act.f(z, a), a)
    return d, d
