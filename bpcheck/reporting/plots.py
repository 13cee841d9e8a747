"""The four pictures, drawn from a results document with matplotlib's Agg renderer (headless;
no pyplot, so no global state and no display). Each returns PNG bytes.

Every text that comes from the document (case, backend, quantity, config and neuron names, a
figure as the source prints it) goes through `plain`: a `$` in it would start matplotlib's
mathtext, and a name like `$\\badcmd$` would stop the whole report. LaTeX (text.usetex, which a
user's matplotlibrc may turn on) is off while drawing."""

from __future__ import annotations

import io
import math
from typing import Any

from matplotlib import rc_context
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from bpcheck import backends
from bpcheck.judge import FAILING
from bpcheck.reference.quantities import split_trajectory_name

PICTURES = ("network", "training", "heatmap", "distance")
TITLES = {
    "network": "The network, each weight before -> after one update (exact)",
    "training": "E_total over the training steps, per backend (log scale)",
    "heatmap": "ULP distance to exact, per backend x quantity",
    "distance": "Distance of E_total from exact versus training step",
}
#: A backend this process does not know (results from a machine with other plug-ins): grey dots.
UNKNOWN_STYLE = ("#7f7f7f", ".")


def no_tex() -> Any:
    """While drawing: no LaTeX, whatever the user's matplotlibrc says (mathtext stays on for the
    axes' own labels, such as a log scale's 10^k; `plain` escapes the document's texts)."""
    return rc_context({"text.usetex": False})


def plain(text: object) -> str:
    """`text` drawn as it is: each `$` escaped, so matplotlib never reads it as mathtext."""
    return str(text).replace("$", r"\$")


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def backend_style(backend: str) -> tuple[str, str]:
    """The colour and marker `backend` declares (backends/declarations.py): no two backends share one."""
    if backend not in backends.names():
        return UNKNOWN_STYLE
    declared = backends.declaration(backend)
    return declared.color, declared.marker


def _after(doc: dict[str, Any], case: str) -> dict[str, float]:
    """Each parameter's exact value after one update (the float64 records of the `p+` quantities)."""
    out: dict[str, float] = {}
    for r in doc["records"]:
        if r["case"] == case and r["dtype"] == "float64" and r["quantity"].endswith("+"):
            out.setdefault(r["quantity"][:-1], float(r["exact"]))
    return out


def network(doc: dict[str, Any], case: str) -> bytes:
    """Neurons in columns like the post's figures; on each edge its weight before -> after."""
    info = doc["cases"][case]
    labels, weights, biases = info["labels"], info["weights"], info["biases"]
    before, after = info["parameters"], _after(doc, case)
    fig = Figure(figsize=(10, 6.2))
    ax = fig.add_subplot()
    ax.set_axis_off()
    depth = len(labels)
    pos: dict[str, tuple[float, float]] = {}
    for l, layer in enumerate(labels):
        for j, name in enumerate(layer):
            pos[name] = (l * 4.0, ((len(layer) - 1) / 2 - j) * 2.2)

    def label(p: str) -> str:
        new = after.get(p)
        return plain(f"{p} = {before[p]:.4g}" + ("" if new is None else f" -> {new:.8g}"))

    for l, layer in enumerate(weights):
        for j, row in enumerate(layer):
            for k, w in enumerate(row):
                (x0, y0), (x1, y1) = pos[labels[l][k]], pos[labels[l + 1][j]]
                ax.plot([x0, x1], [y0, y1], color="#888888", lw=1, zorder=1)
                t = 0.5 if y1 == y0 else 0.3 if y1 < y0 else 0.7  # crossing edges: labels apart
                x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
                ax.text(x, y, label(w), fontsize=8, ha="center", va="center", rotation=angle, zorder=3,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})  # fmt: skip
    bottom = min(y for _, y in pos.values()) - 1.8
    for l, names in enumerate(biases):
        for j, b in enumerate(names):
            bx, by = l * 4.0 + 1.3, bottom
            ax.add_patch(_circle(bx, by, "#fff2cc"))
            ax.text(bx, by, "1", ha="center", va="center", fontsize=9, zorder=4)
            ax.text(bx, by - 0.6, label(b), ha="center", va="top", fontsize=8)
            targets = labels[l + 1] if len(names) == 1 else [labels[l + 1][j]]
            for n in targets:
                ax.plot([bx, pos[n][0]], [by, pos[n][1]], color="#d9b44a", lw=0.8, ls="--", zorder=1)
    for l, layer in enumerate(labels):
        fill = "#cfe2f3" if l == 0 else "#d9ead3" if l < depth - 1 else "#f4cccc"
        for name in layer:
            x, y = pos[name]
            ax.add_patch(_circle(x, y, fill))
            ax.text(x, y, plain(name), ha="center", va="center", fontsize=11, zorder=4)
    for k, i in enumerate(labels[0]):
        if info["inputs"]:
            ax.text(pos[i][0] - 0.55, pos[i][1], f"{info['inputs'][0][k]:g}", ha="right", va="center", fontsize=9)
    for k, o in enumerate(labels[-1]):
        if info["targets"]:
            target = info["targets"][0][k]
            ax.text(pos[o][0] + 0.55, pos[o][1], f"target {target:g}", ha="left", va="center", fontsize=9)
    ax.set_xlim(-1.6, (depth - 1) * 4.0 + 1.9)
    ax.set_ylim(bottom - 1.0, max(y for _, y in pos.values()) + 0.7)
    ax.set_aspect("equal")
    ax.set_title(plain(f"{case}: eta = {info['learning_rate']:g}, rule {info['default_config']}"), fontsize=10)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.94, bottom=0.01)
    return _png(fig)


def _circle(x: float, y: float, color: str) -> Any:
    from matplotlib.patches import Circle

    return Circle((x, y), 0.42, facecolor=color, edgecolor="#333333", lw=1.2, zorder=2)


def _curves(doc: dict[str, Any], case: str) -> list[dict[str, Any]]:
    return [c for c in doc.get("curves", []) if c["case"] == case]


def _closing(doc: dict[str, Any], case: str, config: str) -> list[tuple[int, float, str]]:
    """(step, value, label) of the case's published E_total@N figures under `config`, at the
    step whose forward pass reads them (after `updates` updates: step updates + 1)."""
    out = []
    for f in doc["cases"][case]["published"]:
        split = split_trajectory_name(f["quantity"])
        if split and split[0] == "E_total" and f["config"] == config and f["updates"] is not None:
            out.append((f["updates"] + 1, float(f["value"]), plain(f"the post: {f['quantity']} = {f['value']}")))
    return out


def training(doc: dict[str, Any], case: str) -> bytes:
    fig = Figure(figsize=(9, 5))
    ax = fig.add_subplot()
    curves = _curves(doc, case)
    for c in curves:
        if c["values"] is None:
            continue
        style = "-" if c["dtype"] == "float64" else ":"
        label = plain(f"{c['backend']} {c['dtype']}" + ("" if c["device"] == "cpu" else f" {c['device']}"))
        ax.plot(c["steps"], c["values"], style, color=backend_style(c["backend"])[0], lw=1.4, label=label, alpha=0.85)
    if curves:
        c = curves[0]
        ax.plot(c["steps"], [float(x) for x in c["exact"]], "--", color="black", lw=0.8, label="exact")
    config = curves[0]["config"] if curves else ""
    last = max((c["steps"][-1] for c in curves), default=0)
    for step, value, text in [x for x in _closing(doc, case, config) if x[0] <= last]:
        ax.plot([step], [value], "o", ms=10, mfc="none", mec="#ff7f0e", mew=2, label=text)
        ax.annotate(text, (step, value), xytext=(-20, 45), textcoords="offset points", ha="right", fontsize=9)
    ax.set_yscale("log")
    ax.set_xlabel("training step (E_total in its forward pass)")
    ax.set_ylabel("E_total")
    ax.set_title(plain(f"{case}, rule {config}"), fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.subplots_adjust(left=0.09, right=0.98, top=0.93, bottom=0.1)
    return _png(fig)


def heatmap(doc: dict[str, Any], case: str) -> bytes:
    recs = [r for r in doc["records"] if r["case"] == case]
    default = doc["cases"][case]["default_config"]
    cols = list(dict.fromkeys((r["quantity"], r["config"]) for r in recs))
    rows = list(dict.fromkeys((r["backend"], r["dtype"], r["device"]) for r in recs))
    grid = [[math.nan] * len(cols) for _ in rows]
    bad: list[tuple[int, int]] = []
    ci = {q: k for k, q in enumerate(cols)}
    for r in recs:
        i, j = rows.index((r["backend"], r["dtype"], r["device"])), ci[(r["quantity"], r["config"])]
        grid[i][j] = max(r["ulps"], 0.01) if r["ulps"] is not None else math.nan
        if r["verdict"] in FAILING:
            bad.append((i, j))
    names = [plain(q if c == default else f"{q} [{c}]") for q, c in cols]
    rlabels = [plain("-".join(x for x in r if x != "cpu")) for r in rows]
    # margins in inches from the label lengths (tight_layout would cost a whole extra draw)
    below, left = 0.3 + 0.055 * max(map(len, names), default=1), 0.3 + 0.07 * max(map(len, rlabels), default=1)
    width, height = max(8.0, 0.2 * len(cols) + left + 1.6), max(0.8 + 0.42 * len(rows), 1.8) + below
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=left / width, right=1 - 1.4 / width, bottom=below / height, top=1 - 0.45 / height)
    ax = fig.add_subplot()
    top = max([v for row in grid for v in row if not math.isnan(v)], default=1.0)
    im = ax.imshow(grid, aspect="auto", cmap="viridis", norm=LogNorm(vmin=0.01, vmax=max(top, 1.0)))
    for i, j in bad:
        ax.text(j, i, "x", ha="center", va="center", color="red", fontsize=10, fontweight="bold")
    ax.set_xticks(range(len(cols)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), rlabels, fontsize=8)
    fig.colorbar(im, ax=ax, label="ULPs to exact (0 shown as 0.01)", fraction=0.03, pad=0.01)
    ax.set_title(plain(f"{case}: x marks a value outside its bound"), fontsize=10)
    return _png(fig)


def distance(doc: dict[str, Any], case: str) -> bytes:
    curves = _curves(doc, case)
    dtypes = list(dict.fromkeys(c["dtype"] for c in curves)) or ["float64"]
    fig = Figure(figsize=(9, 3.4 * len(dtypes)))
    for k, dt in enumerate(dtypes):
        ax = fig.add_subplot(len(dtypes), 1, k + 1)
        for c in curves:
            if c["dtype"] != dt or c["ulps"] is None:
                continue
            label = plain(c["backend"] + ("" if c["device"] == "cpu" else f" {c['device']}"))
            ax.plot(c["steps"], c["ulps"], color=backend_style(c["backend"])[0], lw=1.3, label=label, alpha=0.85)
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(bottom=0)
        ax.set_ylabel(plain(f"ULPs ({dt})"))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
        ax.set_title(plain(f"{case}: |E_total - exact| in ULPs of {dt}"), fontsize=10)
    fig.axes[-1].set_xlabel("training step")
    height = 3.4 * len(dtypes)
    fig.subplots_adjust(left=0.09, right=0.98, top=1 - 0.35 / height, bottom=0.55 / height, hspace=0.3)
    return _png(fig)


def draw_all(doc: dict[str, Any], case: str) -> dict[str, bytes]:
    with no_tex():
        return {name: globals()[name](doc, case) for name in PICTURES}
