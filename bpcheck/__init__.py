"""backprop-crosscheck: check autograd frameworks against a hand-written backprop, value by value.

The Python API (bpcheck/api.py): `load_case`, `crosscheck`, `verify_values`, `verify_backend`.
They are imported on first use, so `import bpcheck` (and the command line) stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_case", "crosscheck", "verify_values", "verify_backend"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from bpcheck import api

        return getattr(api, name)
    raise AttributeError(f"module 'bpcheck' has no attribute {name!r}")
