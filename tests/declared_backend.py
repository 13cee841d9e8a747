"""A backend that exists only here, declared by one Declaration (tests/test_declarations.py):
the NumPy backend under another name, with cost hints, an accelerator and a settings reader."""

from __future__ import annotations

from typing import Any

from bpcheck.backends.declarations import Declaration
from bpcheck.backends.numpy_backend import NumpyBackend

DECLARATION = Declaration(
    name="declared",
    family="numpy",
    factory="tests.declared_backend:DeclaredBackend",
    accelerator="tpu",
    step_seconds=0.01,
    import_seconds=3.0,
    network_seconds=2.0,
    compiles_per_run=True,
    settings="tests.declared_backend:settings",
    color="#1f77b4",  # numpy's: taken, so it gets one of its own
)


class DeclaredBackend(NumpyBackend):
    name = "declared"
    declaration = DECLARATION


def settings() -> dict[str, Any]:
    return {"answer": 42}
