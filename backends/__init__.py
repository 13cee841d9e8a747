"""Backends by name, built from their declarations (backends/declarations.py). Frameworks are
imported only when their backend is first asked for, so `import backends` needs NumPy alone,
and a missing framework shows as `unavailable: <reason>`.

Where a backend declares itself: importing a backend module imports its framework, yet the
scheduler, the slow/fast split and the plots read declarations in a process that must not
import every framework. So each family of bundled backends declares them in a module of its
own that imports no framework, `<family>_family.py` beside its backend modules (names,
factories, pip extra, accelerator, cost hints, settings reader, colour and marker), and the
backend modules compute. (Rejected: a lazy framework import in every backend module, which
would rewrite them all; reading declarations out of the backend modules with `ast`, too clever.)

A new bundled backend: its backend module and one Declaration in its family's module (a new
family: a new `<family>_family.py`, one entry in FAMILIES; any module with DECLARATIONS that
imports no framework will do, the backend module itself if it imports none). Other packages
declare backends under the entry-point group `bpcheck.backends` (name = "package.module:Factory");
such a backend, and one given to register() by name and factory, gets the defaults, or the
Declaration its factory carries as a `declaration` attribute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache

from bpcheck.backends import (
    autograd_family,
    faults,
    jax_family,
    numpy_family,
    reference_family,
    tensorflow_family,
    torch_family,
)
from bpcheck.backends.declarations import Declaration, resolve, styled
from bpcheck.backends.protocol import Backend, Training, Unavailable

__all__ = [
    "Backend",
    "Declaration",
    "Training",
    "Unavailable",
    "bundled",
    "declaration",
    "declared",
    "factory_path",
    "get",
    "load",
    "names",
    "register",
    "status",
    "unregister",
]

#: The modules declaring the bundled backends; their DECLARATIONS in this order are the matrix's.
FAMILIES = (reference_family, numpy_family, torch_family, jax_family, tensorflow_family, autograd_family)
_BUNDLED: tuple[Declaration, ...] = tuple(d for family in FAMILIES for d in family.DECLARATIONS)

_REGISTRY: dict[str, Declaration] = {d.name: d for d in _BUNDLED}
_LOADED: dict[str, Backend | Unavailable] = {}
#: Registered by name and factory: whether the factory carries a declaration is read when first asked.
_UNREAD: set[str] = set()


def register(entry: str | Declaration, factory: str | Callable[[], Backend] | None = None) -> None:
    """Adds or replaces a backend: a Declaration, or a name and a factory ("module:attribute"
    or a callable) with the defaults. Its colour and marker are made distinct from the others'."""
    if isinstance(entry, Declaration):
        decl = entry
        _UNREAD.discard(decl.name)
    elif factory is None:
        raise TypeError("register(name, factory) or register(declaration)")
    else:
        decl = Declaration(entry, family=entry, factory=factory)
        _UNREAD.add(entry)
    _put(decl)
    _LOADED.pop(decl.name, None)


def _put(decl: Declaration) -> None:
    _REGISTRY[decl.name] = styled(decl, (d for n, d in _REGISTRY.items() if n != decl.name))


def unregister(name: str) -> None:
    """Forgets a backend registered at run time (e.g. the implementation `bpcheck verify` checks)."""
    _REGISTRY.pop(name, None)
    _LOADED.pop(name, None)
    _UNREAD.discard(name)


def factory_path(name: str) -> str | None:
    """The "module:attribute" a backend is registered with, if it was registered by path."""
    decl = _REGISTRY.get(name)
    return decl.factory if decl is not None and isinstance(decl.factory, str) else None


@cache
def _discover() -> None:
    """Once, on first use: the backends other packages declare under the entry-point group
    `bpcheck.backends` (name = "package.module:Factory"). A name already registered wins."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="bpcheck.backends"):
        if ep.name not in _REGISTRY:
            register(ep.name, ep.value)


def names() -> list[str]:
    _discover()
    return list(_REGISTRY)


def bundled() -> list[str]:
    """The bundled backends, in the matrix's order."""
    return [d.name for d in _BUNDLED]


def _known(name: str) -> Declaration:
    _discover()
    if name not in _REGISTRY:
        raise KeyError(f"unknown backend {name!r}; valid: {', '.join(names())}")
    return _REGISTRY[name]


def declaration(name: str) -> Declaration:
    """What the backend `name` declares; KeyError for an unknown name. A backend registered by
    name and factory: the factory's own `declaration` attribute if it has one (the first ask
    imports a factory given by path), else the defaults; with a colour and marker of its own."""
    decl = _known(name)
    if name in _UNREAD:
        _UNREAD.discard(name)
        own = _carried(decl.factory)
        if own is not None:
            _put(replace(own, name=name, factory=decl.factory))
    return _REGISTRY[name]


def declared(name: str) -> Declaration:
    """declaration(name), or the defaults for a name the registry does not know: a backend
    object handed to the engine as it is (bpcheck.verify_backend, the pytest plugin)."""
    return declaration(name) if name in names() else Declaration(name, family=name, factory="")


def _carried(factory: str | Callable[[], Backend]) -> Declaration | None:
    try:
        found = resolve(factory) if isinstance(factory, str) else factory
        own = getattr(found, "declaration", None)
    except BaseException as err:  # a factory that cannot load keeps the defaults; status() says why it cannot
        if faults.genuine(err):
            raise
        return None
    return own if isinstance(own, Declaration) else None


def _load(decl: Declaration) -> Backend | Unavailable:
    """The backend, or why not: anything its framework's import or its factory raises (a
    RuntimeError of mismatched versions, an OSError of a missing shared library, a SyntaxError,
    even SystemExit) makes it unavailable with the reason; only a real Ctrl-C goes on."""
    try:
        factory = resolve(decl.factory) if isinstance(decl.factory, str) else decl.factory
        return factory()
    except ImportError as err:
        missing = getattr(err, "name", None) or str(err)
        detail = faults.describe(err).partition(": ")[2]
        return Unavailable(f"{missing} is not installed" + (f" ({detail})" if detail else ""))
    except Unavailable as err:
        return err
    except BaseException as err:
        if faults.genuine(err):
            raise
        return Unavailable(faults.describe(err))


def get(name: str) -> Backend:
    """The backend called `name`, loaded once per process; raises KeyError for an unknown name,
    Unavailable if its framework cannot be loaded."""
    decl = _known(name)
    if name not in _LOADED:
        _LOADED[name] = _load(decl)
    loaded = _LOADED[name]
    if isinstance(loaded, Unavailable):
        raise loaded
    return loaded


def load(backend: Declaration | str) -> Backend:
    """get() from a Declaration, for a worker process given its parent's (pickled): a name this
    process does not know, or knows by another factory (a test's, a plug-in registered at run
    time), is registered first. Raises Unavailable as get() does."""
    if isinstance(backend, Declaration):
        known = _REGISTRY.get(backend.name)
        if known is None or known.factory != backend.factory:
            register(backend)
        backend = backend.name
    return get(backend)


def status(name: str) -> str:
    """'available' or 'unavailable: <reason>'."""
    try:
        get(name)
        return "available"
    except Unavailable as err:
        return f"unavailable: {err}"


def installed(decl: Declaration) -> dict[str, str | None]:
    """Each distribution the backend needs, with its installed version or None: read from the
    package metadata, importing no framework."""
    from importlib import metadata

    out: dict[str, str | None] = {}
    for dist in decl.distributions:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out
