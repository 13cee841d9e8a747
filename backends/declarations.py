"""What a backend declares about itself, readable without importing its framework: the registry
(backends/__init__.py) is built from these, and the scheduler, the slow/fast split, the
environment record and the plots read them instead of tables of their own."""

from __future__ import annotations

import colorsys
import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from bpcheck.backends.protocol import Backend, Unavailable


@dataclass(frozen=True)
class Declaration:
    """One backend. Picklable (a worker process gets its parent's) when `factory` is a path, as
    every bundled and entry-point backend's is. The cost hints are rough seconds for the post's
    network in float64 on this project's 2-core machine (`bpcheck bench`, 2026-11-27,
    reports/bench/bench.json); they decide only how work is shared and which checks are slow."""

    name: str
    #: the backends sharing a framework (and its settings): "torch" for torch, torch-func, torch-compile
    family: str
    #: "module:attribute" of a zero-argument factory; a callable only for in-process registrations
    factory: str | Callable[[], Backend]
    #: the pip extra that installs the framework (`pip install 'backprop-crosscheck[torch]'`)
    extra: str | None = None
    #: distributions whose versions the environment record keeps
    distributions: tuple[str, ...] = ()
    #: the device besides "cpu" it can use ("cuda", "gpu"): a matrix column even where absent
    accelerator: str | None = None
    #: why every check of it is slow (then it runs only under `pytest -m slow`), or None
    slow_reason: str | None = None
    #: seconds per training step, eager Python loops included
    step_seconds: float = 1e-4
    #: seconds to import the framework in a fresh process
    import_seconds: float = 1.0
    #: seconds per case and dtype for one step's checks, compilation included
    network_seconds: float = 0.5
    #: whether every training run compiles anew (costing about network_seconds each)
    compiles_per_run: bool = False
    #: "module:function" returning the framework's precision and thread settings, imported when asked
    settings: str | None = None
    #: plot colour and matplotlib marker; "" (or one another backend has): one no other has, on registration
    color: str = ""
    marker: str = ""

    def read_settings(self) -> dict[str, Any]:
        """The framework's settings now (call once the backend has loaded them)."""
        return dict(resolve(self.settings)()) if self.settings else {}


def resolve(path: str) -> Any:
    """The object a "module:attribute" path names, importing the module; Unavailable if the
    module has no such attribute (ImportError if the module cannot be imported)."""
    module, _, attr = path.partition(":")
    found = getattr(importlib.import_module(module), attr, None)
    if found is None:
        raise Unavailable(f"{module} has no {attr}")
    return found


#: Given, in order, to backends that declare no colour or marker of their own (after these, colours
#: spread round the hue circle and markers are numerals).
SPARE_COLORS = ("#e377c2", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#dbdb8d")
SPARE_MARKERS = (">", "*", "h", "p", "H", "8", "x", "+", "1", "2", "3", "4")


def styled(decl: Declaration, others: Iterable[Declaration]) -> Declaration:
    """`decl` with a colour and a marker none of `others` has: its own where free, else the first spare."""
    others = list(others)
    colors, markers = {d.color for d in others}, {d.marker for d in others}
    color = decl.color if decl.color and decl.color not in colors else _free(_colors(), colors)
    marker = decl.marker if decl.marker and decl.marker not in markers else _free(_markers(), markers)
    return replace(decl, color=color, marker=marker)


def _free(candidates: Iterator[str], taken: set[str]) -> str:
    return next(c for c in candidates if c not in taken)


def _colors() -> Iterator[str]:
    yield from SPARE_COLORS
    k = 0
    while True:  # golden-ratio steps round the hue circle: distinct, and far apart for the first few
        k += 1
        r, g, b = colorsys.hsv_to_rgb(k * 0.618034 % 1.0, 0.7, 0.75)
        yield f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _markers() -> Iterator[str]:
    yield from SPARE_MARKERS
    k = 0
    while True:
        k += 1
        yield f"${k}$"  # mathtext: a numeral as the marker
