"""The activation table (reference/activations.py): f, f' and the kinks agree with each other,
every framework has every op and computes f with it, and an unknown name is an error everywhere."""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np
import pytest

from bpcheck.reference import activations, arith, mlp
from bpcheck.reference.activations import LEAKY_SLOPE, NAMES, at_kink, kink_distance, subdifferential
from bpcheck.reference.case import CaseError, load_case

#: Backend module -> the framework whose ops it calls.
BACKEND_MODULES = {
    "numpy_backend": "numpy",
    "torch_backend": "torch",
    "torch_func_backend": "torch",
    "jax_backend": "jax",
    "tensorflow_backend": "tensorflow",
    "autograd_backend": "autograd",
}
POINTS = [-1.5, -0.25, 0.0, 0.25, 1.5]
UNKNOWN = "unknown activation 'swish'; valid: " + ", ".join(NAMES)


def _backend_module(name: str) -> Any:
    pytest.importorskip(BACKEND_MODULES[name])
    return importlib.import_module(f"bpcheck.backends.{name}")


def _array(framework: str, values: list[float]) -> Any:
    """values as a float64 array of `framework` (autograd's are NumPy's)."""
    if framework == "torch":
        import torch

        return torch.tensor(values, dtype=torch.float64)
    if framework == "jax":
        import jax.numpy as jnp

        return jnp.asarray(values, jnp.float64)
    if framework == "tensorflow":
        import tensorflow as tf

        return tf.constant(values, tf.float64)
    return np.array(values, np.float64)


def _activate(module: Any) -> Any:
    """The activate(kind, z) a backend module computes with (the functional ones' Ops')."""
    return module.OPS.activate if hasattr(module, "OPS") else module.activate


def test_the_table_the_case_loader_and_every_framework_agree(tmp_path):
    assert mlp.ACTIVATIONS == NAMES == tuple(activations.TABLE)
    assert set(BACKEND_MODULES.values()) == set(activations.FRAMEWORKS)
    for name, act in activations.TABLE.items():
        assert act.name == name
        assert set(act.ops) == set(activations.FRAMEWORKS), name
        assert set(act.derivative_ops) == set(activations.BY_HAND), name
        assert act.analytic == (not act.kinks), name
    text = load_case("deep-mixed").path.read_text()
    listed = 'activations = ["tanh", "relu", "leaky_relu", "sigmoid"]'
    for name in NAMES:
        path = tmp_path / f"{name}.toml"
        path.write_text(text.replace(listed, f'activation = "{name}"'))
        assert load_case(str(path)).spec.activations == (name,) * 4
    path.write_text(text.replace(listed, 'activation = "swish"'))
    with pytest.raises(CaseError, match=f"expected one of {', '.join(NAMES)}, got 'swish'"):
        load_case(str(path))


def _one_sided(name: str, z: str) -> tuple[float, float, float]:
    """(f(z) - f(z - h)) / h and (f(z + h) - f(z)) / h at 60 digits, h = 1e-25, and f'(z)."""
    a, act = arith.exact(), activations.get(name)
    with a.context():
        zz, h = a.parse(z), a.parse("1e-25")
        f = act.f(zz, a)
        return float((f - act.f(zz - h, a)) / h), float((act.f(zz + h, a) - f) / h), float(act.derivative(zz, f, a))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("z", ["-1.5", "-0.25", "0.25", "1.5"])
def test_the_derivative_is_the_functions_away_from_the_kinks(name, z):
    left, right, d = _one_sided(name, z)
    assert math.isclose(left, d, rel_tol=1e-15) and math.isclose(right, d, rel_tol=1e-15), (left, right, d)


@pytest.mark.parametrize("name", [n for n in NAMES if activations.get(n).kinks])
def test_the_one_sided_derivatives_at_each_kink(name):
    for k in activations.get(name).kinks:
        left, right, d = _one_sided(name, repr(k.at))
        assert (left, right) == (k.left, k.right)
        assert d == k.left  # the reference's f' at the kink: relu'(0) = 0, leaky'(0) = slope


def test_at_kink_and_the_distance_to_it():
    assert at_kink("relu", 0.0) and at_kink("relu", -0.0) and at_kink("leaky_relu", arith.float32().num(0.0))
    a = arith.exact()
    with a.context():
        assert at_kink("relu", a.num(0.0)) and not at_kink("relu", a.parse("1e-40"))
    assert not at_kink("relu", 5e-324) and not at_kink("sigmoid", 0.0) and not at_kink("identity", 0.0)
    assert kink_distance("leaky_relu", -0.25) == 0.25 and kink_distance("tanh", 0.0) == math.inf


def test_subdifferential():
    assert subdifferential("relu", 0.0) == (0.0, 1.0)
    assert subdifferential("leaky_relu", 0.0) == (LEAKY_SLOPE, 1.0)
    assert subdifferential("relu", -2.0) == (0.0, 0.0) and subdifferential("relu", 1e-300) == (1.0, 1.0)
    assert subdifferential("leaky_relu", -1e-300) == (LEAKY_SLOPE, LEAKY_SLOPE)
    assert subdifferential("tanh", 0.5) == (1 - math.tanh(0.5) ** 2,) * 2
    lo, hi = subdifferential("leaky_relu", 0.0, arith.float32())
    assert (type(lo).__name__, float(lo), float(hi)) == ("float32", float(arith.round_to("float32", 0.01)), 1.0)


@pytest.mark.parametrize("ask", [activations.get, lambda n: at_kink(n, 0.0), lambda n: subdifferential(n, 0.0)])
def test_the_table_refuses_an_unknown_name(ask):
    with pytest.raises(ValueError, match=UNKNOWN):
        ask("swish")


def test_the_reference_refuses_an_unknown_name():
    with pytest.raises(ValueError, match=UNKNOWN):
        mlp.activate("swish", 0.5, arith.FLOAT64)
    with pytest.raises(ValueError, match=UNKNOWN):
        mlp.derivative("swish", 0.5, 0.5, arith.FLOAT64)


@pytest.mark.parametrize("module_name", BACKEND_MODULES)
def test_each_backend_computes_every_activation_and_refuses_an_unknown_one(module_name):
    """Every framework's op is f (to a few ULPs; at the kink too); an unknown name is a
    ValueError, never the identity."""
    module, framework = _backend_module(module_name), BACKEND_MODULES[module_name]
    activate, z = _activate(module), _array(framework, POINTS)
    for name in NAMES:
        got = np.asarray(activate(name, z)).tolist()
        want = [activations.get(name).f(p, arith.FLOAT64) for p in POINTS]
        assert all(math.isclose(g, w, rel_tol=1e-15) for g, w in zip(got, want)), (name, got, want)
    with pytest.raises(ValueError, match=UNKNOWN):
        activate("swish", z)


def test_numpy_differentiates_every_activation_by_hand():
    from bpcheck.backends import numpy_backend

    z = np.array(POINTS)
    for name in NAMES:
        out = numpy_backend.activate(name, z)
        got = numpy_backend.derivative(name, z, out).tolist()
        want = [activations.get(name).derivative(p, o, arith.FLOAT64) for p, o in zip(POINTS, out.tolist())]
        assert got == want, name
    with pytest.raises(ValueError, match=UNKNOWN):
        numpy_backend.derivative("swish", z, z)
