"""The `autograd` backend (HIPS autograd) declares itself here, without importing autograd
(backends/autograd_backend.py computes)."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from bpcheck.backends.declarations import Declaration

DECLARATIONS = (
    Declaration(
        name="autograd",
        family="autograd",
        factory="bpcheck.backends.autograd_backend:AutogradBackend",
        extra="autograd",
        distributions=("autograd",),
        step_seconds=7.3e-4,
        import_seconds=1.0,
        network_seconds=0.1,
        settings="bpcheck.backends.autograd_family:settings",
        color="#17becf",
        marker="X",
    ),
)


def settings() -> dict[str, Any]:
    return {"version": metadata.version("autograd")}
