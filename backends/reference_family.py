"""The `reference` backend declares itself here (backends/reference_backend.py computes)."""

from __future__ import annotations

from bpcheck.backends.declarations import Declaration

DECLARATIONS = (
    Declaration(
        name="reference",
        family="reference",
        factory="bpcheck.backends.reference_backend:ReferenceBackend",
        step_seconds=2e-5,
        import_seconds=0.0,
        network_seconds=0.05,
        color="#444444",
        marker="o",
    ),
)
