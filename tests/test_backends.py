"""The registry: lazy imports, unavailable frameworks as a reason, and JAX's float32 trap."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from bpcheck import backends
from bpcheck.backends.protocol import METHODS, Backend
from bpcheck.cost import slow_reason
from bpcheck.reference.activations import LEAKY_SLOPE
from bpcheck.reference.case import load_case
from bpcheck.reference.oracle import rounded_parameters

ROOT = Path(__file__).resolve().parents[1]
CASE = load_case("mazur-2015")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_import_backends_needs_numpy_alone():
    """With every framework made unimportable, `import backends` works and each shows a reason.
    (Blocked by an import hook, not sys.modules['torch'] = None: SciPy, which autograd loads,
    takes a None there for an imported torch and fails with AttributeError.)"""
    proc = _python(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in ('torch', 'jax', 'tensorflow', 'autograd'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from bpcheck import backends\n"
        "assert 'torch' not in sys.modules\n"
        "for n in backends.names(): print(n, '=', backends.status(n))"
    )
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" = ") for line in proc.stdout.splitlines())
    assert lines["reference"] == lines["numpy"] == "available"
    assert lines["torch"].startswith("unavailable: torch is not installed")
    assert lines["jax"].startswith("unavailable: jax is not installed")


def test_importing_the_registry_imports_no_framework():
    proc = _python("import sys; from bpcheck import backends; print('torch' in sys.modules, 'jax' in sys.modules)")
    assert proc.stdout.split() == ["False", "False"], proc.stderr


def test_unknown_backend_is_a_key_error_listing_the_valid_names():
    with pytest.raises(KeyError, match="valid: reference, numpy, torch, .*jax-jit, tensorflow, autograd"):
        backends.get("mxnet")


def test_a_factory_that_does_not_exist_is_unavailable_with_the_reason():
    backends.register("ghost", "bpcheck.backends.numpy_backend:NoSuchBackend")
    try:
        assert backends.status("ghost") == "unavailable: bpcheck.backends.numpy_backend has no NoSuchBackend"
    finally:
        backends.unregister("ghost")


@pytest.mark.parametrize("name", ["torch", "torch-func", "jax-jit", "tensorflow"])
def test_an_absent_accelerator_is_a_column_with_a_reason(name):
    """The matrix shows torch-float64-cuda / jax-float64-gpu as skipped, saying why."""
    if backends.status(name) != "available":
        pytest.skip(f"{name} {backends.status(name)}")
    b = backends.get(name)
    assert b.accelerator in ("cuda", "gpu")
    if b.accelerator not in b.devices():
        assert b.accelerator_missing().startswith(f"no {'CUDA device' if b.accelerator == 'cuda' else 'GPU'} here")


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[pytest.mark.slow] if slow_reason(n, None) else []) for n in backends.bundled()]
)
def test_bundled_backends_implement_the_protocol(name):
    if backends.status(name) != "available":
        pytest.skip(f"{name} {backends.status(name)}")
    b = backends.get(name)
    assert isinstance(b, Backend) and all(callable(getattr(b, m)) for m in METHODS)


@pytest.mark.xdist_group("jax-jit")  # with its backend's tests: one import of the framework
def test_jax_refuses_float64_when_x64_is_off():
    """JAX without jax_enable_x64 would silently compute in float32: the backend says so."""
    jax = pytest.importorskip("jax")
    if backends.status("jax-jit") != "available":
        pytest.skip(backends.status("jax-jit"))
    b = backends.get("jax-jit")
    from bpcheck.backends.protocol import DtypeError

    assert b.forward(CASE, CASE.parameters, "float64", "cpu")["E_total"] > 0
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(DtypeError, match="jax_enable_x64 is off"):
            b.forward(CASE, {**CASE.parameters, "w1": 0.25}, "float64", "cpu")
        assert b.forward(CASE, CASE.parameters, "float32", "cpu")["E_total"] > 0
    finally:
        jax.config.update("jax_enable_x64", True)


@pytest.mark.parametrize(
    "name, config",
    [
        pytest.param(n, c, marks=[pytest.mark.slow] if slow_reason("jax", None) else [])
        for n, c in [("mazur-2015", "output-first"), ("deep-mixed", "output-first"), ("xor-h2", "plain")]
    ],
)
def test_eager_jax_trains_with_the_numbers_of_its_eager_steps(name, config):
    """Eager jax traces its training step once and runs it op by op, output-first through a custom
    VJP: its losses and parameters are bit for bit those of functional.update run eagerly each step."""
    if backends.status("jax") != "available":
        pytest.skip(backends.status("jax"))
    import jax

    from bpcheck.backends import functional, jax_backend
    from bpcheck.backends.base import named_parameters

    case, b = load_case(name), backends.get("jax")
    rule = case.configs[config]
    output_first = rule.update_order == "output-first"
    for dtype in ("float64", "float32"):
        params = rounded_parameters(case, dtype)
        trained = b.train(case, params, rule, 3, dtype, "cpu")
        *arrays, mask = b._arrays(case, params, dtype)
        x, t, w, bias, eta = jax.device_put(arrays, jax.devices("cpu")[0])
        state, losses = (w, bias), []
        for _ in range(3):
            step = (jax_backend.OPS, case.spec, state, x, t, eta, output_first, rule.update_biases, mask)
            state, e_total = functional.update(*step)
            losses.append(float(e_total))
        assert trained.losses == losses
        assert trained.params == named_parameters(case, *state, jax_backend._tolist)


@pytest.mark.xdist_group("tensorflow")  # with its backend's tests: one import of the framework
def test_tensorflow_runs_with_tf32_off_and_an_exact_leaky_relu_slope():
    """TF32 is switched off at load; tf.nn.leaky_relu keeps its slope as a float32 attribute
    (so in float64 it is 0.009999999776482582): the backend's leaky ReLU uses 0.01 itself."""
    if backends.status("tensorflow") != "available":
        pytest.skip(backends.status("tensorflow"))
    import tensorflow as tf

    from bpcheck.backends import tensorflow_backend as tfb

    backends.get("tensorflow")
    assert not tf.config.experimental.tensor_float_32_execution_enabled()
    z = tf.constant([-1.0], tf.float64)
    assert float(tfb.activate("leaky_relu", z)[0]) == -0.01
    assert float(tf.nn.leaky_relu(z, 0.01)[0]) == float(tf.constant(-0.01, tf.float32))  # the quirk


@pytest.mark.xdist_group("autograd")  # with its backend's tests: one import of the framework
def test_autograd_refuses_float64_leaking_into_float32(monkeypatch):
    """anp.where's gradient is float64 whatever its input: a float32 step that used it would
    be computed partly in float64. The dtype check sees every array, so it says so."""
    if backends.status("autograd") != "available":
        pytest.skip(backends.status("autograd"))
    import autograd.numpy as anp

    from bpcheck.backends import autograd_backend as agb
    from bpcheck.backends.protocol import DtypeError

    b, case = backends.get("autograd"), load_case("deep-mixed")
    params = rounded_parameters(case, "float32")
    assert b.gradients(case, params, "float32", "cpu")["dE_total/dw1"] != 0
    where = lambda kind, z: anp.where(z > 0, z, z * LEAKY_SLOPE)
    monkeypatch.setattr(agb, "OPS", dataclasses.replace(agb.OPS, activate=where))
    with pytest.raises(DtypeError, match="float32 but the framework computed in float32\\+float64"):
        b.gradients(case, {**params, "w1": 0.25}, "float32", "cpu")
