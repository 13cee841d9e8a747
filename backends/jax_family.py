"""The JAX family declares itself here, without importing JAX: `jax` (eager) and `jax-jit`
(backends/jax_backend.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bpcheck.backends.declarations import Declaration

JAX = Declaration(
    name="jax",
    family="jax",
    factory="bpcheck.backends.jax_backend:JaxBackend",
    extra="jax",
    distributions=("jax", "jaxlib"),
    accelerator="gpu",
    # one step's checks: every chain piece an eager jax.grad (~0.7 s per network and dtype with JAX's cache
    # cold, ~0.25 s warm: ~8 s for the bundled cases in both dtypes warm, so they stay out of the default run)
    slow_reason="eager JAX dispatches op by op and traces every chain piece anew (~0.7 s per network and dtype)",
    step_seconds=1e-3,
    import_seconds=0.7,
    network_seconds=0.7,
    settings="bpcheck.backends.jax_family:settings",
    color="#2ca02c",
    marker="D",
)
DECLARATIONS = (
    JAX,
    # trains in one compiled lax.scan: its cost is the compilations, ~0.1 s each with JAX's cache cold (the
    # post's checks in both dtypes, 8 compilations: 1.27 s cold, 0.67 s warm, import included; 2026-12-08)
    replace(
        JAX,
        name="jax-jit",
        factory="bpcheck.backends.jax_backend:JaxJitBackend",
        slow_reason=None,
        step_seconds=1e-7,
        network_seconds=0.15,
        compiles_per_run=True,
        color="#bcbd22",
        marker="d",
    ),
)


def settings() -> dict[str, Any]:
    import jax

    return {
        "enable_x64": bool(getattr(jax.config, "jax_enable_x64", None)),
        "default_matmul_precision": getattr(jax.config, "jax_default_matmul_precision", None),
        "jax_devices": [str(d) for d in jax.devices()],
    }
