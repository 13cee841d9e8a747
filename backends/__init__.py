"""Backends by name. Frameworks are imported only when their backend is first asked for, so
`import backends` needs NumPy alone, and a missing framework shows as `unavailable: <reason>`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from bpcheck.backends.protocol import Backend, Training

__all__ = ["Backend", "Training", "Unavailable", "factory_path", "get", "names", "register", "status"]

#: name -> "module:attribute" of a zero-argument factory, or the factory itself.
_REGISTRY: dict[str, str | Callable[[], Backend]] = {
    "reference": "bpcheck.backends.reference_backend:ReferenceBackend",
    "numpy": "bpcheck.backends.numpy_backend:NumpyBackend",
    "torch": "bpcheck.backends.torch_backend:TorchBackend",
    "torch-func": "bpcheck.backends.torch_func_backend:TorchFuncBackend",
    "torch-compile": "bpcheck.backends.torch_compile_backend:TorchCompileBackend",
    "jax": "bpcheck.backends.jax_backend:JaxBackend",
    "jax-jit": "bpcheck.backends.jax_backend:JaxJitBackend",
    "tensorflow": "bpcheck.backends.tensorflow_backend:TensorflowBackend",
    "autograd": "bpcheck.backends.autograd_backend:AutogradBackend",
}
_LOADED: dict[str, Backend | Unavailable] = {}


class Unavailable(Exception):
    """A backend whose framework cannot be loaded here; str() is the reason."""


def register(name: str, factory: str | Callable[[], Backend]) -> None:
    _REGISTRY[name] = factory
    _LOADED.pop(name, None)


def factory_path(name: str) -> str | None:
    """The "module:attribute" a backend is registered with, if it was registered by path."""
    factory = _REGISTRY.get(name)
    return factory if isinstance(factory, str) else None


@cache
def _discover() -> None:
    """Once, on first use: the backends other packages declare under the entry-point group
    `bpcheck.backends` (name = "package.module:Factory"). A name already registered wins."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="bpcheck.backends"):
        _REGISTRY.setdefault(ep.name, ep.value)


def names() -> list[str]:
    _discover()
    return list(_REGISTRY)


def _load(name: str) -> Backend | Unavailable:
    factory = _REGISTRY[name]
    try:
        if isinstance(factory, str):
            module, _, attr = factory.partition(":")
            found = getattr(importlib.import_module(module), attr, None)
            if found is None:
                return Unavailable(f"{module} has no {attr}")
            factory = found
        return factory()  # type: ignore[operator]
    except ImportError as err:
        missing = getattr(err, "name", None) or str(err)
        return Unavailable(f"{missing} is not installed ({err})")
    except Unavailable as err:
        return err


def get(name: str) -> Backend:
    """The backend called `name`; raises KeyError for an unknown name, Unavailable if its
    framework cannot be loaded."""
    _discover()
    if name not in _REGISTRY:
        raise KeyError(f"unknown backend {name!r}; valid: {', '.join(names())}")
    if name not in _LOADED:
        _LOADED[name] = _load(name)
    loaded = _LOADED[name]
    if isinstance(loaded, Unavailable):
        raise loaded
    return loaded


def status(name: str) -> str:
    """'available' or 'unavailable: <reason>'."""
    try:
        get(name)
        return "available"
    except Unavailable as err:
        return f"unavailable: {err}"
