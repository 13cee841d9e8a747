"""The `numpy` backend declares itself here (backends/numpy_backend.py computes)."""

from __future__ import annotations

from typing import Any

from bpcheck.backends.declarations import Declaration

DECLARATIONS = (
    Declaration(
        name="numpy",
        family="numpy",
        factory="bpcheck.backends.numpy_backend:NumpyBackend",
        distributions=("numpy",),
        step_seconds=2.5e-5,
        import_seconds=0.1,
        network_seconds=0.1,
        settings="bpcheck.backends.numpy_family:settings",
        color="#1f77b4",
        marker="s",
    ),
)


def settings() -> dict[str, Any]:
    import numpy as np

    return {"version": np.__version__}
