"""The report's pictures, drawn from a results document with matplotlib's Agg renderer (headless;
no pyplot, so no global state and no display). `pictures(doc, case)` says which of the four a
case gets (only those that say something for it), `figure(name, doc, case)` builds one as a
matplotlib Figure (what tests inspect), and `draw_all` returns each as PNG bytes.

- network: the case's network, each parameter before -> after one update (exact); the labels
  are placed along the edges where they fit without touching each other, else listed beside.
- training: E_total per training step and, below, each backend's signed distance from the exact
  E_total in ULPs per dtype (symlog), with the bound of the E_total@N record; only a case that
  has training curves (the main case).
- heatmap: ULPs over the bound of every value, quantity rows grouped by stage x backend-dtype
  columns, with its blanks told apart (not computed, no finite bound) and failing and
  ill-conditioned values marked.
- distance: each value's ULPs (a marker per backend) against its bound (a bar), log scale.

Every backend has its own colour and marker in every picture that shows backends: its declared
one (backends/declarations.py), and for a backend this process does not know (results from a
machine with other plug-ins) one no other backend of the document has (`styles`).

Every text that comes from the document (case, backend, quantity, config and neuron names, a
figure as the source prints it) goes through `plain`: a `$` in it would start matplotlib's
mathtext, and a name like `$\\badcmd$` would stop the whole report. LaTeX (text.usetex, which a
user's matplotlibrc may turn on) is off while drawing."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch, Rectangle
from matplotlib.transforms import Bbox, blended_transform_factory, offset_copy

from bpcheck import backends
from bpcheck.backends.declarations import Declaration, styled
from bpcheck.judge import FAILING
from bpcheck.reference.case import MAIN_CASE
from bpcheck.reference.quantities import STAGES, split_trajectory_name

PICTURES = ("network", "training", "heatmap", "distance")
TITLES = {
    "network": "The network, each parameter before -> after one update (exact)",
    "training": "E_total over the training steps, and each backend's distance from the exact E_total in ULPs",
    "heatmap": "ULPs / bound of every value, per backend-dtype and quantity",
    "distance": "Each value's distance from exact in ULPs against its bound",
}
#: What each picture shows and how to read it (the report's captions).
CAPTIONS = {
    "network": "Neurons in columns like the post's figures; each weight and bias before -> after one update under "
    "the case's rule, exact. Where the labels do not fit along the edges without touching, they are listed "
    "beside the network.",
    "training": "Top: E_total at each training step (log-spaced samples; float64 solid, float32 dotted, exact "
    "dashed). Below, one panel per dtype: each backend's E_total minus the exact E_total in ULPs of its dtype "
    "(signed, symlog scale: linear within +-1 ULP), where the curves above lie on top of one another; the "
    "legend says at how many drawn steps a backend is bit-identical to the first. The bar at the last step is "
    "the bound of the E_total@N value the report checks.",
    "heatmap": "Colour: ULPs to exact over the value's bound (allowed ULPs): 1 = at the bound, above 1 outside it "
    "(a failure, unless the error model's wider bound covers it, as for a training run that converges to an "
    "underflowing error); 0 = exactly the exact value. x: failing; o: ill-conditioned (within its bounds, "
    "but no correct digit can be expected in that dtype). Hatched: not computed (the backend was left out: "
    "slow without --slow, unavailable, or the rule or dtype was not run for it). Grey: no finite bound, so no "
    "ratio (an error instead of a value also shows grey, marked x). Rows named [1-4]: the worst of the "
    "examples of a batch; rows naming a range: the worst of that many quantities.",
    "distance": "Each value's distance from exact in ULPs of its dtype (a marker per backend, 0 ULPs at the left "
    "edge) against its bound: the grey bar reaches the allowed ULPs, | marks each bound in the row, hatched: "
    "no finite bound. Log scale; a ringed marker fails.",
}
#: A backend this process does not know, in `backend_style`: grey dots (`styles` gives each its own).
UNKNOWN_STYLE = ("#7f7f7f", ".")
#: At most this many value rows in the heatmap and the distance plot of the main case, and of
#: any other (quantities of a batch's examples share a row first, then neighbouring quantities
#: of a stage): the main case's values one by one, the others' in a smaller picture.
MAX_ROWS, OTHER_ROWS = 72, 48
#: The heatmap's classes of ULPs/bound: [0, 0.001), [0.001, 0.01), .. (0.5, 1], (1, 2], (2, 10], > 10.
RATIO_BOUNDS = (0.0, 1e-3, 1e-2, 0.1, 0.25, 0.5, float(np.nextafter(1.0, 2.0)), 2.0, 10.0)
RATIO_COLORS = ("#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f")
#: ULPs/bound beyond this (a value off a bound of 0) is stored as this in the heatmap's array.
RATIO_CLIP = 1e6
#: A network with more parameters, or a layer wider than this, gets no network picture.
NETWORK_LIMITS = (150, 12)


def no_tex() -> Any:
    """While drawing: no LaTeX, whatever the user's matplotlibrc says (mathtext stays on for the
    axes' own labels, such as a log scale's 10^k; `plain` escapes the document's texts)."""
    return rc_context({"text.usetex": False})


def plain(text: object) -> str:
    """`text` drawn as it is: each `$` escaped, so matplotlib never reads it as mathtext."""
    return str(text).replace("$", r"\$")


def _png(fig: Figure, palette: bool = False) -> bytes:
    """`fig` as PNG at 100 dpi; `palette`: in 256 colours (a third to a quarter of the bytes, in
    no more time: these pictures have a few dozen colours and their antialiasing)."""
    if not palette:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
        return buf.getvalue()
    from PIL import Image

    fig.set_dpi(100)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3])
    small = rgb.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    small.save(buf, format="png")
    return buf.getvalue()


def backend_style(backend: str) -> tuple[str, str]:
    """The colour and marker `backend` declares (backends/declarations.py): no two backends share one."""
    if backend not in backends.names():
        return UNKNOWN_STYLE
    declared = backends.declaration(backend)
    return declared.color, declared.marker


def styles(names: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Colour and marker of each backend of `names`: its declared one; a backend this process
    does not know gets one that no other of `names` (and no known backend) has, given in the
    order of their names."""
    names = sorted(set(names))
    known = [backends.declaration(n) for n in backends.names()]
    out: dict[str, tuple[str, str]] = {}
    for n in names:
        if n in backends.names():
            out[n] = backend_style(n)
    taken = known + [Declaration(n, family=n, factory="", color=c, marker=m) for n, (c, m) in out.items()]
    for n in names:
        if n not in out:
            d = styled(Declaration(n, family=n, factory=""), taken)
            out[n] = (d.color, d.marker)
            taken.append(d)
    return out


# --- the document, per case --------------------------------------------------------------------


@dataclass
class _Index:
    """What every picture of a document reads: its records by case, and each backend's style."""

    records: list[Any]  # the document's list, to tell it from another
    count: int
    by_case: dict[str, list[dict[str, Any]]]
    looks: dict[str, tuple[str, str]]


_INDEX: list[_Index] = []  # the last document's


def _index(doc: dict[str, Any]) -> _Index:
    recs = doc["records"]
    if not _INDEX or _INDEX[0].records is not recs or _INDEX[0].count != len(recs):
        by: dict[str, list[dict[str, Any]]] = {}
        for r in recs:
            if "count" not in r:
                by.setdefault(r["case"], []).append(r)
        names = [r["backend"] for r in recs] + [c["backend"] for c in doc.get("curves", [])]
        _INDEX[:] = [_Index(recs, len(recs), by, styles(names))]
    return _INDEX[0]


def case_records(doc: dict[str, Any], case: str) -> list[dict[str, Any]]:
    """The case's records that stand for one value each (a wide case's counted passes,
    bpcheck/compact.py, stand for many and have no value: they are not drawn)."""
    return _index(doc).by_case.get(case, [])


def looks(doc: dict[str, Any], names: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Colour and marker of each backend of `names` (in their order), the same in every
    picture of `doc` (`styles` of all its backends)."""
    every = _index(doc).looks
    return {n: every[n] if n in every else styles([n])[n] for n in dict.fromkeys(names)}


def _curves(doc: dict[str, Any], case: str) -> list[dict[str, Any]]:
    return [c for c in doc.get("curves", []) if c["case"] == case and c.get("values") is not None]


def _drawable_network(doc: dict[str, Any], case: str) -> bool:
    info = doc.get("cases", {}).get(case)
    if not info or not info.get("labels"):
        return False
    params, widest = NETWORK_LIMITS
    return len(info.get("parameters", {})) <= params and max(map(len, info["labels"])) <= widest


def main_case(doc: dict[str, Any]) -> str | None:
    """The case the report shows first and in full: the post's example if present, else the first."""
    names = list(doc.get("cases", {}))
    return MAIN_CASE if MAIN_CASE in names else (names[0] if names else None)


def pictures(doc: dict[str, Any], case: str) -> list[str]:
    """The pictures that say something for `case`, in PICTURES' order: the network if it is
    small enough to read; the training curves if the document has them for it (the main
    case's); the heatmap if it has values; the distance plot for the main case, and for another
    only where a value is off by more than its allowed ULPs, fails or is ill-conditioned
    (elsewhere the heatmap already says that every value is inside its bound)."""
    recs = case_records(doc, case)
    remarkable = case == main_case(doc) or any(
        r["verdict"] in FAILING or r["verdict"] == "ill-conditioned" or (ulps_over_bound(r) or 0.0) > 1 for r in recs
    )
    say = {
        "network": _drawable_network(doc, case),
        "training": bool(_curves(doc, case)),
        "heatmap": bool(recs),
        "distance": bool(recs) and remarkable,
    }
    return [p for p in PICTURES if say[p]]


def ulps_over_bound(r: dict[str, Any]) -> float | None:
    """How much of its bound a value used: ULPs / allowed ULPs; 0 for a value equal to exact
    (whatever its bound); infinite for a value off a bound of 0 (an exact datum); None where
    there is no ratio (no value, no finite bound)."""
    if r["ulps"] is None or r["allowed_ulps"] is None or not math.isfinite(r["allowed_ulps"]):
        return None
    if r["ulps"] == 0:
        return 0.0
    return math.inf if r["allowed_ulps"] == 0 else float(r["ulps"]) / float(r["allowed_ulps"])


_EXAMPLE = re.compile(r"(.*)\[(\d+)\]")
_NEURON_PREFIXES = ("dnet_", "dout_", "delta_", "dE_", "net_", "out_")


def stage(name: str, info: dict[str, Any]) -> str:
    """The stage (reference/quantities.py's STAGES) of a quantity, read from its name and the
    case's neurons and parameters (the document has no layout object)."""
    if split_trajectory_name(name):
        return "trajectory"
    m = _EXAMPLE.fullmatch(name)
    base = m.group(1) if m else name
    if base.endswith("+"):
        return "update"
    if base.startswith(("net_", "out_")):
        return "forward"
    if base.startswith("E_") and "/" not in base:
        return "error"
    if base.startswith("dE_total/d") and base[len("dE_total/d") :] in info.get("parameters", {}):
        return "gradient"
    hidden = {n for layer in info.get("labels", [])[1:-1] for n in layer}
    for part in base.split("/"):
        for prefix in _NEURON_PREFIXES:
            if part.startswith(prefix) and part[len(prefix) :] in hidden:
                return "hidden-chain"
    return "output-chain"


@dataclass
class Row:
    """One row of the heatmap and the distance plot: one quantity (under one rule), or several
    that share it (a batch's examples; a run of neighbouring quantities of a stage)."""

    label: str
    stage: str
    keys: list[tuple[str, str]] = field(default_factory=list)  # (quantity, config)


def value_rows(doc: dict[str, Any], case: str) -> list[Row]:
    """The rows, grouped by stage in STAGES' order: a row per quantity and rule; where that is
    more than MAX_ROWS, a row per quantity of all examples (`net_h1[1-4]`); where that is more
    than MAX_ROWS for the main case, OTHER_ROWS for another, neighbouring quantities of a stage
    share rows (`first ... last (n)`)."""
    limit = MAX_ROWS if case == main_case(doc) else OTHER_ROWS
    info = doc.get("cases", {}).get(case, {})
    default = info.get("default_config")
    keys = list(dict.fromkeys((r["quantity"], r["config"]) for r in case_records(doc, case)))
    order = {s: k for k, s in enumerate(STAGES)}

    def named(q: str, c: str) -> str:
        return q if c == default else f"{q} ({c})"

    rows = [Row(named(q, c), stage(q, info), [(q, c)]) for q, c in keys]
    rows.sort(key=lambda r: order.get(r.stage, len(order)))  # stable: the layout's order within a stage
    if len(rows) <= MAX_ROWS:
        return rows
    families: dict[tuple[str, str, str], Row] = {}
    numbers: dict[tuple[str, str, str], list[int]] = {}
    for row in rows:
        ((q, c),) = row.keys
        m = _EXAMPLE.fullmatch(q)
        base = m.group(1) if m else q
        fam = families.setdefault((row.stage, base, c), Row(named(base, c), row.stage))
        fam.keys.append((q, c))
        if m:
            numbers.setdefault((row.stage, base, c), []).append(int(m.group(2)))
    for k, fam in families.items():
        if len(fam.keys) > 1 and k in numbers:
            base, c = k[1], k[2]
            fam.label = named(f"{base}[{min(numbers[k])}-{max(numbers[k])}]", c)
    rows = list(families.values())
    if len(rows) <= limit:
        return rows
    by_stage: dict[str, list[Row]] = {}
    for row in rows:
        by_stage.setdefault(row.stage, []).append(row)
    size = 1
    while sum(math.ceil(len(rs) / size) for rs in by_stage.values()) > limit:
        size += 1
    out = []
    for s, rs in by_stage.items():
        for first in range(0, len(rs), size):
            part = rs[first : first + size]
            keys_ = [key for r in part for key in r.keys]
            label = part[0].label if len(part) == 1 else f"{part[0].label} ... {part[-1].label} ({len(keys_)})"
            out.append(Row(label, s, keys_))
    return out


def columns(doc: dict[str, Any], case: str) -> list[tuple[str, str, str]]:
    """The case's cells (backend, dtype, device): float64 first, then float32, then any other
    dtype; backends in the document's order."""
    cells = list(dict.fromkeys((r["backend"], r["dtype"], r["device"]) for r in case_records(doc, case)))
    rank = {"float64": 0, "float32": 1}
    dtypes = list(dict.fromkeys(c[1] for c in cells))
    return sorted(cells, key=lambda c: (rank.get(c[1], 2 + dtypes.index(c[1])), cells.index(c)))


def _cell_name(cell: tuple[str, str, str]) -> str:
    backend, _, device = cell
    return backend if device == "cpu" else f"{backend} ({device})"


def _text_width(texts: Iterable[str], size: float, family: str = "sans-serif") -> float:
    """The widest of `texts` in inches at `size` points: the sum of its characters' widths as
    Agg draws each alone (measured once per character; kerning only narrows a text), for the
    margins of a picture, without laying out every text twice."""
    global _MEASURE
    if _MEASURE is None:
        from matplotlib.backends.backend_agg import RendererAgg

        _MEASURE = RendererAgg(10, 10, 72)  # 72 dpi: one pixel a point
    prop = FontProperties(size=size, family=family)
    widths = _CHAR_WIDTHS.setdefault((size, family), {})
    widest = 0.0
    for t in texts:
        for ch in set(t) - widths.keys():
            widths[ch] = float(_MEASURE.get_text_width_height_descent(ch, prop, ismath=False)[0])
        widest = max(widest, sum(widths[ch] for ch in t))
    return widest / 72


_CHAR_WIDTHS: dict[tuple[float, str], dict[str, float]] = {}
_MEASURE: Any = None


# --- network ---------------------------------------------------------------------------------


def _after(doc: dict[str, Any], case: str) -> dict[str, float]:
    """Each parameter's exact value after one update (the float64 records of the `p+` quantities)."""
    out: dict[str, float] = {}
    for r in case_records(doc, case):
        if r["dtype"] == "float64" and r["quantity"].endswith("+"):
            out.setdefault(r["quantity"][:-1], float(r["exact"]))
    return out


class _Placer:
    """Places texts where their boxes (as the renderer measures them, plus PAD pixels) touch no
    box placed or blocked before, inside the figure."""

    PAD = 3.0

    def __init__(self, fig: Figure):
        self.renderer = FigureCanvasAgg(fig).get_renderer()
        self.frame = fig.bbox
        self.taken: list[Bbox] = []
        self.edges: list[tuple[float, float, float, float]] = []  # segments no label may lie on but its own

    def box(self, artist: Any) -> Bbox:
        return artist.get_window_extent(self.renderer).padded(self.PAD)

    def block(self, artist: Any) -> None:
        self.taken.append(self.box(artist))

    def fits(self, b: Bbox) -> bool:
        f = self.frame
        inside = b.x0 >= f.x0 and b.y0 >= f.y0 and b.x1 <= f.x1 and b.y1 <= f.y1
        return inside and not any(b.overlaps(t) for t in self.taken)

    def edge(self, ax: Any, a: tuple[float, float], b: tuple[float, float]) -> int:
        """Notes the segment a-b (data coordinates of `ax`); its index."""
        (x0, y0), (x1, y1) = ax.transData.transform([a, b])
        self.edges.append((float(x0), float(y0), float(x1), float(y1)))
        return len(self.edges) - 1

    def crosses(self, b: Bbox, own: int | None) -> bool:
        """Whether an edge other than `own` passes through `b` (which edge a label belongs to
        would then be unclear)."""
        return any(k != own and _segment_hits(e, b) for k, e in enumerate(self.edges))

    def place_all(
        self, items: list[tuple[Any, list[tuple[float, float, float]], int | None]], budget: int = 20_000
    ) -> bool:
        """Moves each text of `items` (text, its (x, y, rotation) spots, the edge it labels) to
        one of its spots so that none touches another, anything placed before, or an edge other
        than its own: a depth-first search, the text with the fewest spots first, each text's
        spots in the order given. False (nothing moved) if none is found within `budget` tries."""
        spots: list[list[tuple[tuple[float, float, float], Bbox]]] = []
        for text, where, own in items:
            ok = []
            for x, y, angle in where:
                text.set_position((x, y))
                text.set_rotation(angle)
                b = self.box(text)
                if self.fits(b) and not self.crosses(b, own):
                    ok.append(((x, y, angle), b))
            if not ok:
                return False
            spots.append(ok)
        order = sorted(range(len(items)), key=lambda i: len(spots[i]))
        chosen: dict[int, tuple[tuple[float, float, float], Bbox]] = {}
        tries = [budget]

        def search(k: int) -> bool:
            if k == len(order):
                return True
            i = order[k]
            for spot, b in spots[i]:
                tries[0] -= 1
                if tries[0] < 0:
                    return False
                if not any(b.overlaps(other) for _, other in chosen.values()):
                    chosen[i] = (spot, b)
                    if search(k + 1):
                        return True
                    del chosen[i]
            return False

        if not search(0):
            return False
        for i, ((x, y, angle), b) in chosen.items():
            items[i][0].set_position((x, y))
            items[i][0].set_rotation(angle)
            self.taken.append(b)
        return True


def _segment_hits(seg: tuple[float, float, float, float], b: Bbox) -> bool:
    """Whether the segment (x0, y0, x1, y1) meets the box `b` (Liang-Barsky clipping)."""
    x0, y0, x1, y1 = seg
    dx, dy = x1 - x0, y1 - y0
    lo, hi = 0.0, 1.0
    for p, q in ((-dx, x0 - b.x0), (dx, b.x1 - x0), (-dy, y0 - b.y0), (dy, b.y1 - y0)):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                lo = max(lo, t)
            else:
                hi = min(hi, t)
            if lo > hi:
                return False
    return True


_DX, _DY, _R = 4.0, 2.2, 0.42  # column and row spacing, node radius (data units)
#: Where along an edge its label may sit: a level edge's middle first; a slanting edge (which may
#: cross others in the middle) nearer its ends first.
_LEVEL = (0.5, 0.38, 0.62, 0.3, 0.7, 0.44, 0.56, 0.24, 0.76)
_SLANT = (0.3, 0.7, 0.24, 0.76, 0.36, 0.64, 0.5, 0.42, 0.58, 0.18, 0.82)


def _network_geometry(
    info: dict[str, Any],
) -> tuple[dict[str, tuple[float, float]], dict[int, tuple[float, float]], float]:
    """Node positions, a bias node for each layer that has biases (by layer), and the lowest
    row's y: the bias nodes', or the neurons' in a network without biases."""
    pos: dict[str, tuple[float, float]] = {}
    for l, layer in enumerate(info["labels"]):
        for j, name in enumerate(layer):
            pos[name] = (l * _DX, ((len(layer) - 1) / 2 - j) * _DY)
    lowest = min(y for _, y in pos.values())
    has = [l for l, names in enumerate(info["biases"]) if names]
    bottom = lowest - 1.9 if has else lowest
    return pos, {l: (l * _DX + 1.3, bottom) for l in has}, bottom


def network_figure(doc: dict[str, Any], case: str) -> Figure:
    """The network with each parameter's label along its edge where every label fits without
    touching another label or a node, or lying on another edge; else the weights so and the
    biases listed beside; else (a wider network) the edges bare and every parameter listed."""
    info = doc["cases"][case]
    weights = [w for layer in info["weights"] for row in layer for w in row]
    biases = [b for names in info["biases"] for b in names]
    tries = [set(), set(biases)] if len(weights) + len(biases) <= 30 else []
    for listed in tries:
        fig = _network(doc, case, listed)
        if fig is not None:
            return fig
    fig = _network(doc, case, set(weights + biases))
    assert fig is not None
    return fig


def _network(doc: dict[str, Any], case: str, listed: set[str]) -> Figure | None:
    """The network picture with the parameters `listed` beside it and every other one on its
    edge; None where those do not all fit."""
    info = doc["cases"][case]
    labels, weights, biases = info["labels"], info["weights"], info["biases"]
    before, after = info["parameters"], _after(doc, case)
    pos, bias_nodes, bottom = _network_geometry(info)
    depth = len(labels)

    def text_of(p: str) -> str:
        new = after.get(p)
        return plain(f"{p} = {before[p]:.4g}" + ("" if new is None else f" -> {new:.8g}"))

    inputs = [f"{v:g}" for v in info["inputs"][0]] if info.get("inputs") else []
    targets = [f"target {v:g}" for v in info["targets"][0]] if info.get("targets") else []
    left_w, right_w = _text_width(inputs, 9), _text_width(targets, 9)
    tall = max(y for _, y in pos.values()) - bottom + 2.0
    scale = min(0.85, 8.5 / ((depth - 1) * _DX + 2.0), 7.0 / tall)  # inches per data unit: at most ~10 x 8 in
    x0 = -_R - 0.25 - (left_w + 0.15) / scale
    x1 = (depth - 1) * _DX + _R + 0.25 + (right_w + 0.15) / scale
    below = any(len(names) == 1 and names[0] not in listed for names in biases)  # a label under a bias node
    y0, y1 = bottom - (1.2 if below else 0.6), max(y for _, y in pos.values()) + _R + 0.2
    w_in, h_in = (x1 - x0) * scale, (y1 - y0) * scale
    title_in = 0.4
    listing = _parameter_lines(info, before, after, listed) if listed else None
    list_w, list_h = (listing.width, listing.height) if listing else (0.0, 0.0)
    width, height = w_in + list_w, title_in + max(h_in, list_h)
    fig = Figure(figsize=(width, height))
    title = f"{case}: eta = {info['learning_rate']:g}, rule {info['default_config']}"
    title += ", the first example of the batch" if len(info.get("inputs", [])) > 1 else ""
    fig.text(0.01, 1 - 0.1 / height, plain(title), fontsize=10, va="top", ha="left")
    ax = fig.add_axes((0, 1 - (title_in + h_in) / height, w_in / width, h_in / height))
    ax.set_axis_off()
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    placer = _Placer(fig)
    placer.block(fig.texts[0])
    edge_texts: list[tuple[str, tuple[float, float], tuple[float, float], int]] = []
    for l, layer in enumerate(weights):
        for j, row in enumerate(layer):
            for k, w in enumerate(row):
                a, b = pos[labels[l][k]], pos[labels[l + 1][j]]
                ax.plot([a[0], b[0]], [a[1], b[1]], color="#888888", lw=1, zorder=1)
                edge_texts.append((w, a, b, placer.edge(ax, a, b)))
    for l, names in enumerate(biases):
        if not names:
            continue
        bx, by = bias_nodes[l]
        ax.add_patch(Circle((bx, by), _R * 0.8, facecolor="#fff2cc", edgecolor="#333333", lw=1.2, zorder=2))
        ax.text(bx, by, "1", ha="center", va="center", fontsize=9, zorder=4)
        for j, b in enumerate(names):
            targets_ = labels[l + 1] if len(names) == 1 else [labels[l + 1][j]]
            for n in targets_:
                ax.plot([bx, pos[n][0]], [by, pos[n][1]], color="#d9b44a", lw=0.8, ls="--", zorder=1)
                own = placer.edge(ax, (bx, by), pos[n])
            if len(names) > 1:
                edge_texts.append((b, (bx, by), pos[labels[l + 1][j]], own))
    for l, layer in enumerate(labels):
        fill = "#cfe2f3" if l == 0 else "#d9ead3" if l < depth - 1 else "#f4cccc"
        for name in layer:
            x, y = pos[name]
            ax.add_patch(Circle((x, y), _R, facecolor=fill, edgecolor="#333333", lw=1.2, zorder=2))
            size = 11 if len(name) <= 3 else 9 if len(name) <= 5 else 7
            placer.block(ax.text(x, y, plain(name), ha="center", va="center", fontsize=size, zorder=4))
            placer.taken.append(_circle_box(ax, x, y, _R))
    for bx, by in bias_nodes.values():
        placer.taken.append(_circle_box(ax, bx, by, _R * 0.8))
    for k, i in enumerate(labels[0]):
        if inputs:
            placer.block(ax.text(pos[i][0] - _R - 0.12, pos[i][1], inputs[k], ha="right", va="center", fontsize=9))
    for k, o in enumerate(labels[-1]):
        if targets:
            placer.block(ax.text(pos[o][0] + _R + 0.12, pos[o][1], targets[k], ha="left", va="center", fontsize=9))
    if listing:
        listing.draw(fig, w_in, title_in)
        for t in fig.texts[1:]:
            placer.block(t)
    items: list[tuple[Any, list[tuple[float, float, float]], int | None]] = []
    for name, a, b, own in [e for e in edge_texts if e[0] not in listed]:
        # level text centred on the edge: its box is the text's own (a slanting text's box is far larger)
        t = ax.text(0, 0, text_of(name), fontsize=8, ha="center", va="center", zorder=3,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})  # fmt: skip
        fractions = _LEVEL if a[1] == b[1] else _SLANT
        items.append((t, [(a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), 0.0) for f in fractions], own))
    for l, names in enumerate(biases):
        if len(names) == 1 and names[0] not in listed:
            bx, by = bias_nodes[l]
            t = ax.text(0, 0, text_of(names[0]), ha="center", va="top", fontsize=8)
            items.append((t, [(bx, by - _R - d, 0.0) for d in (0.15, 0.45, 0.75, 1.05)], None))
    return fig if placer.place_all(items) else None


def _circle_box(ax: Any, x: float, y: float, r: float) -> Bbox:
    (px0, py0), (px1, py1) = ax.transData.transform([(x - r, y - r), (x + r, y + r)])
    return Bbox.from_extents(px0, py0, px1, py1)


@dataclass
class _Listing:
    """The parameters listed beside a wide network: a line each (name, edge, before -> after),
    in columns of at most `per_col` lines; width and height in inches."""

    lines: list[str]
    per_col: int
    col_w: float
    SIZE = 7.5
    SPACING = 1.25

    @property
    def columns(self) -> int:
        return math.ceil(len(self.lines) / self.per_col)

    HEAD = "each parameter: edge, before -> after one update (exact)"

    @property
    def width(self) -> float:
        return max(self.columns * self.col_w, _text_width([self.HEAD], 8) + 0.2) + 0.1

    @property
    def height(self) -> float:
        return 0.35 + self.per_col * self.SIZE * self.SPACING / 72 + 0.15

    def draw(self, fig: Figure, left: float, top: float) -> None:
        """Into `fig`, `left` inches from its left edge and `top` from its top."""
        w, h = fig.get_figwidth(), fig.get_figheight()
        fig.text(left / w, 1 - top / h, self.HEAD, fontsize=8, va="top", style="italic")
        for c in range(self.columns):
            chunk = self.lines[c * self.per_col : (c + 1) * self.per_col]
            fig.text((left + c * self.col_w) / w, 1 - (top + 0.3) / h, "\n".join(chunk), fontsize=self.SIZE,
                     family="monospace", va="top", ha="left", linespacing=self.SPACING)  # fmt: skip


def _parameter_lines(
    info: dict[str, Any], before: dict[str, Any], after: dict[str, float], listed: set[str]
) -> _Listing:
    """The listing of the parameters `listed`, in the layout's order."""
    labels, rows = info["labels"], []
    for l, layer in enumerate(info["weights"]):
        for j, row in enumerate(layer):
            for k, w in enumerate(row):
                rows.append((w, f"{labels[l][k]} -> {labels[l + 1][j]}"))
    for l, names in enumerate(info["biases"]):
        for j, b in enumerate(names):
            rows.append((b, "1 -> " + (",".join(labels[l + 1]) if len(names) == 1 else labels[l + 1][j])))
    rows = [r for r in rows if r[0] in listed]
    wn, we = max(len(r[0]) for r in rows), max(len(r[1]) for r in rows)
    lines = [
        plain(f"{p:<{wn}}  {edge:<{we}}  {before[p]:.4g}" + (f" -> {after[p]:.8g}" if p in after else ""))
        for p, edge in rows
    ]
    per_col = max(24, math.ceil(len(lines) / 2))
    return _Listing(lines, per_col, _text_width(lines, _Listing.SIZE, "monospace") + 0.3)


# --- training --------------------------------------------------------------------------------


def _closing(doc: dict[str, Any], case: str, config: str) -> list[tuple[int, float, str]]:
    """(step, value, label) of the case's published E_total@N figures under `config`, at the
    step whose forward pass reads them (after `updates` updates: step updates + 1)."""
    out = []
    for f in doc["cases"].get(case, {}).get("published", []):
        split = split_trajectory_name(f["quantity"])
        if split and split[0] == "E_total" and f["config"] == config and f["updates"] is not None:
            out.append((f["updates"] + 1, float(f["value"]), plain(f"the post: {f['quantity']} = {f['value']}")))
    return out


def signed_ulps(c: dict[str, Any]) -> list[float]:
    """A curve's distance from exact in ULPs of its dtype, negative where below exact; NaN (a
    gap) at a step whose value or distance is null (an overflow)."""
    out = []
    for v, e, u in zip(c["values"], c["exact"], c["ulps"]):
        if v is None or u is None:
            out.append(math.nan)
            continue
        try:
            below = Decimal(repr(float(v))) < Decimal(e)
        except (InvalidOperation, ValueError):
            below = False
        out.append(-float(u) if below else float(u))
    return out


def _gaps(values: list[Any]) -> list[float]:
    """Curve values as floats, a null one (an overflow) as NaN: a gap in the line."""
    return [math.nan if v is None else float(v) for v in values]


def _who(c: dict[str, Any]) -> str:
    return c["backend"] if c["device"] == "cpu" else f"{c['backend']} ({c['device']})"


def training_figure(doc: dict[str, Any], case: str) -> Figure:
    known = {n: k for k, n in enumerate(backends.names())}
    curves = sorted(_curves(doc, case), key=lambda c: known.get(c["backend"], len(known)))  # reference first
    look = looks(doc, (c["backend"] for c in curves))
    dtypes = list(dict.fromkeys(c["dtype"] for c in curves))
    config = curves[0]["config"]
    heights = [3.0] + [2.2] * len(dtypes)
    fig = Figure(figsize=(9, sum(heights) + 0.9))
    grid = fig.add_gridspec(len(heights), 1, height_ratios=heights, hspace=0.12)
    top = fig.add_subplot(grid[0])
    last = max(c["steps"][-1] for c in curves)
    every = max(1, len(curves[0]["steps"]) // 12)
    for k, c in enumerate(curves):
        color, marker = look[c["backend"]]
        ls = "-" if c["dtype"] == "float64" else ":"
        top.plot(c["steps"], _gaps(c["values"]), ls, color=color, marker=marker, markevery=(k % every, every), ms=4,
                 lw=1.1, alpha=0.85, gid=f"backend:{c['backend']}")  # fmt: skip
    top.plot(curves[0]["steps"], [float(x) for x in curves[0]["exact"]], "--", color="black", lw=0.8)
    for step, value, text in [x for x in _closing(doc, case, config) if x[0] <= last]:
        top.plot([step], [value], "o", ms=10, mfc="none", mec="#e377c2", mew=2)
        top.annotate(text, (step, value), xytext=(-15, 30), textcoords="offset points", ha="right", fontsize=8)
    top.set_xscale("log")
    top.set_yscale("log")
    top.set_ylabel("E_total")
    top.grid(True, which="major", alpha=0.3)
    top.tick_params(labelbottom=False)
    top.set_title(plain(f"{case}, rule {config}: E_total per training step, and its distance from exact"), fontsize=10)
    bounds = _trajectory_bounds(doc, case, config)
    for k, dt in enumerate(dtypes):
        ax = fig.add_subplot(grid[k + 1], sharex=top)
        mine = [c for c in curves if c["dtype"] == dt]
        first = signed_ulps(mine[0])
        peak = 1.0
        for j, c in enumerate(mine):
            color, marker = look[c["backend"]]
            d = signed_ulps(c)
            same = sum(a == b for a, b in zip(d, first))  # NaN (a gap) is never the same
            label = plain(_who(c) + ("" if j == 0 else f" (= {_who(mine[0])} at {same}/{len(d)})"))
            ax.plot(c["steps"], d, color=color, lw=0.6, alpha=0.5, gid=f"backend:{c['backend']}")
            ax.plot(c["steps"], d, ls="none", color=color, marker=marker, ms=3.5, mfc="none", mew=0.9,
                    markevery=(j % 2, 2), label=label, gid=f"backend:{c['backend']}")  # fmt: skip
            peak = max(peak, max((abs(x) for x in d if math.isfinite(x)), default=0.0))
        for step, allowed in bounds.get(dt, []):
            if step <= last * 1.01:
                label = f"bound of E_total@{step - 1}: +-{allowed:g} ULPs"
                ax.errorbar([step], [0], yerr=[[allowed], [allowed]], fmt="none", ecolor="#555555", elinewidth=3,
                            capsize=5, alpha=0.6, gid="bound", label=label)  # fmt: skip
                peak = max(peak, allowed)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(-peak * 2, peak * 2)
        ax.set_ylabel(plain(f"ULPs ({dt})"))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", ncol=2, handlelength=1.5)
        ax.tick_params(labelbottom=k == len(dtypes) - 1)
        ax.text(0.99, 0.04, plain(f"{dt}: E_total - exact"), transform=ax.transAxes, ha="right", fontsize=8)
    fig.axes[-1].set_xlabel("training step (E_total in its forward pass), log scale")
    handles = [Line2D([], [], color="black", ls=s, label=plain(dt)) for dt, s in (("float64", "-"), ("float32", ":"))]
    handles.append(Line2D([], [], color="black", ls="--", lw=0.8, label="exact"))
    handles += [Line2D([], [], color=look[b][0], marker=look[b][1], ls="none", label=plain(b)) for b in look]
    top.legend(handles=handles, fontsize=7, ncol=2, loc="upper right")
    h = sum(heights) + 0.9
    fig.subplots_adjust(left=0.09, right=0.98, top=1 - 0.35 / h, bottom=0.55 / h)
    return fig


def _trajectory_bounds(doc: dict[str, Any], case: str, config: str) -> dict[str, list[tuple[int, float]]]:
    """Per dtype: (step, allowed ULPs) of the case's E_total@N records under `config`, at the
    step whose forward pass computes it (N + 1)."""
    out: dict[str, dict[int, float]] = {}
    for r in case_records(doc, case):
        split = split_trajectory_name(r["quantity"])
        if split and split[0] == "E_total" and r["config"] == config and r["allowed_ulps"] is not None:
            if math.isfinite(r["allowed_ulps"]):
                steps = out.setdefault(r["dtype"], {})
                steps[split[1] + 1] = max(steps.get(split[1] + 1, 0.0), float(r["allowed_ulps"]))
    return {dt: sorted(v.items()) for dt, v in out.items()}


def _row_labels(ax: Any, names: list[str]) -> None:
    """`names` left of the rows 0, 1, .. of `ax`: texts, not ticks (a tick costs ten times more)."""
    at = offset_copy(blended_transform_factory(ax.transAxes, ax.transData), fig=ax.figure, x=-3, units="points")
    for i, name in enumerate(names):
        ax.text(0, i, name, transform=at, fontsize=7.5, ha="right", va="center", gid="row")


# --- heatmap ---------------------------------------------------------------------------------


@dataclass
class Grid:
    """The heatmap's cells: `ratio` (NaN where none), and where a cell is not computed, has no
    ratio, fails, or is ill-conditioned."""

    ratio: np.ndarray
    computed: np.ndarray
    failing: np.ndarray
    ill: np.ndarray


def grid(doc: dict[str, Any], case: str, rows: list[Row], cols: list[tuple[str, str, str]]) -> Grid:
    """Each row x column: the largest ULPs/bound of its values (clipped at RATIO_CLIP)."""
    at_row = {key: i for i, row in enumerate(rows) for key in row.keys}
    at_col = {c: j for j, c in enumerate(cols)}
    shape = (len(rows), len(cols))
    ratio = np.full(shape, np.nan)
    computed, failing, ill = (np.zeros(shape, bool) for _ in range(3))
    for r in case_records(doc, case):
        i, j = at_row[(r["quantity"], r["config"])], at_col[(r["backend"], r["dtype"], r["device"])]
        computed[i, j] = True
        failing[i, j] |= r["verdict"] in FAILING
        ill[i, j] |= r["verdict"] == "ill-conditioned"
        x = ulps_over_bound(r)
        if x is not None:
            x = min(x, RATIO_CLIP)
            ratio[i, j] = x if np.isnan(ratio[i, j]) else max(ratio[i, j], x)
    return Grid(ratio, computed, failing, ill)


def ratio_colors() -> tuple[ListedColormap, BoundaryNorm]:
    cmap = ListedColormap(RATIO_COLORS)
    return cmap, BoundaryNorm(RATIO_BOUNDS, cmap.N, extend="max")


_NOT_COMPUTED = "not computed (slow, unavailable, not run)"


def heatmap_figure(doc: dict[str, Any], case: str) -> Figure:
    rows, cols = value_rows(doc, case), columns(doc, case)
    g = grid(doc, case, rows, cols)
    look = looks(doc, (c[0] for c in cols))
    names = [plain(r.label) for r in rows]
    heads = [plain(_cell_name(c)) for c in cols]
    row_h = 0.15
    head_w = _text_width(heads, 7.5) + 0.08
    col_w = max(0.36, min(head_w, 0.8) / 2 if head_w > 0.36 else 0.36)
    stagger = head_w > col_w
    left = _text_width(names, 7.5) + 0.25
    right = _text_width(STAGES, 8) + 0.3
    top_in = 0.45 + 0.2 + (0.36 if stagger else 0.2) + 0.25
    bottom_in = 1.0
    grid_w, grid_h = max(len(cols), 1) * col_w, max(len(rows), 1) * row_h
    bar_w = 3.2  # the colour bar's width; the legend of the blanks beside it
    width = max(left + grid_w + right, left + bar_w + 0.3 + _text_width([_NOT_COMPUTED], 7) + 0.5)
    height = top_in + grid_h + bottom_in
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((left / width, bottom_in / height, grid_w / width, grid_h / height))
    cmap, norm = ratio_colors()
    ax.add_patch(Rectangle((-0.5, -0.5), len(cols), len(rows), facecolor="white", edgecolor="#bbbbbb", hatch="////",
                           lw=0, zorder=0))  # fmt: skip
    no_ratio = np.ma.masked_where(~(g.computed & np.isnan(g.ratio)), np.ones(g.ratio.shape))
    ax.imshow(no_ratio, cmap=ListedColormap(["#bdbdbd"]), vmin=0, vmax=1, aspect="auto", interpolation="nearest",
              zorder=1, gid="no-ratio")  # fmt: skip
    shown = np.ma.masked_invalid(g.ratio)
    im = ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest", interpolation_stage="rgba",
                   zorder=2, gid="ulps-over-bound")  # fmt: skip
    fi, fj = np.nonzero(g.failing)
    ax.scatter(fj, fi, marker="x", s=22, c="black", linewidths=1.3, zorder=4, gid="failing")
    ii, ij = np.nonzero(g.ill & ~g.failing)
    ax.scatter(ij, ii, marker="o", s=12, facecolors="none", edgecolors="black", linewidths=0.8, zorder=4, gid="ill")
    ax.set_xlim(-0.5, len(cols) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    _row_labels(ax, names)
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)
    # stages: a white line between them, the name on the right
    starts = [i for i in range(len(rows)) if i == 0 or rows[i].stage != rows[i - 1].stage]
    on_right = blended_transform_factory(ax.transAxes, ax.transData)
    for k, i in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(rows)
        if i:
            ax.axhline(i - 0.5, color="white", lw=2.5, zorder=3)
        ax.text(1.0 + 0.12 / grid_w, (i + end - 1) / 2, rows[i].stage, transform=on_right, fontsize=8,
                va="center", ha="left", color="#333333")  # fmt: skip
    # columns: each backend's marker and name, horizontal (staggered if wide), dtypes above
    over = ax.get_xaxis_transform()
    dtypes = list(dict.fromkeys(c[1] for c in cols))
    for j, c in enumerate(cols):
        if j and c[1] != cols[j - 1][1]:
            ax.axvline(j - 0.5, color="white", lw=3, zorder=3)
        lift = 14 + (10 if stagger and j % 2 else 0)
        ax.text(j, 1.0, heads[j], transform=offset_copy(over, fig=fig, y=lift, units="points"), fontsize=7.5,
                ha="center", va="bottom", gid=f"column:{j}")  # fmt: skip
    marks = offset_copy(over, fig=fig, y=6, units="points")
    for backend, (color, marker) in look.items():  # one artist per backend: its marker over each of its columns
        js = [j for j, c in enumerate(cols) if c[0] == backend]
        ax.scatter(js, [1.0] * len(js), transform=marks, marker=marker, s=26, c=color, clip_on=False,
                   gid=f"backend:{backend}", zorder=5)  # fmt: skip
    for dt in dtypes:
        js = [j for j, c in enumerate(cols) if c[1] == dt]
        lift = 14 + (20 if stagger else 10) + 4
        ax.text((js[0] + js[-1]) / 2, 1.0, plain(dt), transform=offset_copy(over, fig=fig, y=lift, units="points"),
                fontsize=8.5, fontweight="bold", ha="center", va="bottom")  # fmt: skip
    fig.text(0.01, 1 - 0.08 / height, plain(f"{case}: ULPs / bound (1 = at the bound)"), fontsize=10, va="top")
    cax = fig.add_axes((left / width, 0.55 / height, bar_w / width, 0.13 / height))
    cb = fig.colorbar(im, cax=cax, orientation="horizontal", spacing="uniform", extend="max")
    cb.set_ticks(RATIO_BOUNDS, labels=["0", "0.001", "0.01", "0.1", "0.25", "0.5", "1", "2", "10"], fontsize=7)
    cb.set_label("ULPs / bound", fontsize=7.5, labelpad=1)
    legend = [
        Patch(facecolor="white", edgecolor="#bbbbbb", hatch="////", label=_NOT_COMPUTED),
        Patch(facecolor="#bdbdbd", label="no finite bound / no value"),
        Line2D([], [], marker="x", color="black", ls="none", label="failing"),
        Line2D([], [], marker="o", mfc="none", color="black", ls="none", label="ill-conditioned"),
    ]
    at = ((left + bar_w + 0.3) / width, (bottom_in - 0.12) / height)
    fig.legend(handles=legend, loc="upper left", bbox_to_anchor=at, fontsize=7, frameon=False, borderaxespad=0,
               labelspacing=0.3)  # fmt: skip
    return fig


# --- distance --------------------------------------------------------------------------------


def distance_figure(doc: dict[str, Any], case: str) -> Figure:
    """Per dtype a panel: a row per value row (as the heatmap's), a grey bar up to each row's
    bound, and each backend's values as its markers, ULPs on a log scale."""
    rows = value_rows(doc, case)
    recs = case_records(doc, case)
    at_row = {key: i for i, row in enumerate(rows) for key in row.keys}
    dtypes = [dt for dt in ("float64", "float32") if any(r["dtype"] == dt for r in recs)]
    dtypes += list(dict.fromkeys(r["dtype"] for r in recs if r["dtype"] not in dtypes))
    who = list(dict.fromkeys(r["backend"] for r in recs))
    look = looks(doc, who)
    names = [plain(r.label) for r in rows]
    left = _text_width(names, 7.5) + 0.25
    panel_w, row_h = 3.4, 0.15
    top_in, bottom_in = 0.75 + 0.18 * math.ceil((len(who) + 3) / 6), 0.45
    width = left + panel_w * len(dtypes) + 0.25 * len(dtypes)
    height = top_in + len(rows) * row_h + bottom_in
    fig = Figure(figsize=(width, height))
    drawn = [float(r["ulps"]) for r in recs if r["ulps"]]
    bounds_ = [float(r["allowed_ulps"]) for r in recs if r["allowed_ulps"] and math.isfinite(r["allowed_ulps"])]
    zero = max(10.0 ** (math.floor(math.log10(min(drawn + bounds_, default=1.0))) - 1), 1e-4)
    # the axis reaches the largest value and bound, but not a bound a million times above every
    # value (a vanishing exact value's): such a bar runs off the edge, its | drawn there as >
    reach = max(drawn + [1.0])
    right = 10.0 ** math.ceil(math.log10(max([reach] + [b for b in bounds_ if b <= 1e6 * reach])) + 0.3)
    offsets = {b: (k - (len(who) - 1) / 2) * min(0.7 / max(len(who), 1), 0.16) for k, b in enumerate(who)}
    for k, dt in enumerate(dtypes):
        ax = fig.add_axes(((left + k * (panel_w + 0.25)) / width, bottom_in / height, panel_w / width,
                           len(rows) * row_h / height))  # fmt: skip
        mine = [r for r in recs if r["dtype"] == dt]
        bounds: dict[int, set[float]] = {}
        for r in mine:
            a = r["allowed_ulps"]
            bounds.setdefault(at_row[(r["quantity"], r["config"])], set()).add(math.inf if a is None else float(a))
        finite = [
            (i, max(b for b in bs if math.isfinite(b))) for i, bs in bounds.items() if any(map(math.isfinite, bs))
        ]
        bars = ax.barh([i for i, _ in finite], [min(max(b, zero), right) - zero / 2 for _, b in finite],
                       left=zero / 2, height=0.8, color="#e3e3e3", zorder=1)  # fmt: skip
        for p in bars.patches:
            p.set_gid("bound")
        ticks = [(max(b, zero), i) for i, bs in bounds.items() for b in bs if math.isfinite(b)]
        inside = [(x, i) for x, i in ticks if x < right]
        ax.scatter([x for x, _ in inside], [i for _, i in inside], marker="|", s=55, c="#555555", linewidths=1.2,
                   zorder=2, gid="bound")  # fmt: skip
        beyond = sorted({i for x, i in ticks if x >= right})
        if beyond:
            ax.scatter([right] * len(beyond), beyond, marker=">", s=20, c="#555555", zorder=2, clip_on=False,
                       gid="bound")  # fmt: skip
        endless = [i for i, bs in bounds.items() if math.inf in bs]
        if endless:
            ax.barh(endless, [right - zero / 2] * len(endless), left=zero / 2, height=0.8, facecolor="none",
                    edgecolor="#aaaaaa", hatch="///", lw=0, zorder=1, gid="bound-infinite")  # fmt: skip
        for b in who:
            pts = [
                (r, at_row[(r["quantity"], r["config"])]) for r in mine if r["backend"] == b and r["ulps"] is not None
            ]
            if not pts:
                continue
            color, marker = look[b]
            xs = [max(float(r["ulps"]), zero) if r["ulps"] else zero for r, _ in pts]
            ys = [i + offsets[b] for _, i in pts]
            ax.scatter(xs, ys, marker=marker, s=14, c=color, linewidths=0.6, zorder=3, gid=f"backend:{b}",
                       label=plain(b))  # fmt: skip
            bad = [(x, y) for (r, _), x, y in zip(pts, xs, ys) if r["verdict"] in FAILING]
            if bad:
                bx, by = [x for x, _ in bad], [y for _, y in bad]
                ax.scatter(bx, by, marker="o", s=70, facecolors="none", edgecolors="black", linewidths=1.2, zorder=4,
                           gid="failing")  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlim(zero / 2, right)
        first, last = math.ceil(math.log10(zero)) + 1, round(math.log10(right))
        decades = list(range(first, last + 1, max(1, math.ceil((last - first + 1) / 7))))
        ax.set_xticks([zero] + [10.0**d for d in decades], ["0"] + [f"{10.0**d:g}" for d in decades])
        ax.minorticks_off()
        ax.set_ylim(len(rows) - 0.5, -0.5)
        starts = [i for i in range(len(rows)) if i and rows[i].stage != rows[i - 1].stage]
        for i in starts:
            ax.axhline(i - 0.5, color="#999999", lw=0.6)
        ax.set_yticks([])
        if k == 0:
            _row_labels(ax, names)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(True, axis="x", alpha=0.3)
        ax.set_title(plain(f"{dt}: ULPs to exact (0 at the left edge)"), fontsize=8.5)
        ax.axvline(zero, color="#bbbbbb", lw=0.6, ls=":")
    handles: list[Any] = [Line2D([], [], marker=look[b][1], color=look[b][0], ls="none", label=plain(b)) for b in who]
    handles += [
        Patch(facecolor="#e3e3e3", label="up to the bound"),
        Line2D([], [], marker="|", color="#555555", ls="none", ms=9, label="bound"),
        Line2D([], [], marker="o", mfc="none", color="black", ls="none", ms=8, label="failing"),
    ]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(left / width, 1 - 0.35 / height), fontsize=7,
               ncol=6, frameon=False, handletextpad=0.3, columnspacing=1.0)  # fmt: skip
    fig.text(0.01, 1 - 0.08 / height, plain(f"{case}: each value's ULPs to exact against its bound"), fontsize=10,
             va="top")  # fmt: skip
    return fig


FIGURES = {
    "network": network_figure,
    "training": training_figure,
    "heatmap": heatmap_figure,
    "distance": distance_figure,
}


def figure(name: str, doc: dict[str, Any], case: str) -> Figure:
    """One picture as a matplotlib Figure (draw it inside `no_tex()`)."""
    return FIGURES[name](doc, case)


def draw_all(doc: dict[str, Any], case: str) -> dict[str, bytes]:
    """The pictures that say something for `case` (`pictures`), as PNG bytes."""
    with no_tex():
        return {name: _png(figure(name, doc, case), palette=True) for name in pictures(doc, case)}
