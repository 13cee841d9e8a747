"""bench.png from a bench document (bpcheck/bench.py): bars for one forward + backward pass and
for the training run of the post's example, and log-log lines of seconds per step against width
and against batch size, one colour per backend, one line style per dtype. Agg, no pyplot."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from bpcheck.reporting.plots import COLORS, _png

STYLES = {"float64": "-", "float32": ":"}
PALETTE = ("#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")


def _colors(who: list[str]) -> dict[str, str]:
    extra = iter(PALETTE * 4)
    return {w: COLORS.get(w) or next(extra) for w in who}


def _who(r: dict[str, Any]) -> str:
    return r["backend"] if r["device"] == "cpu" else f"{r['backend']} ({r['device']})"


def _bars(ax: Any, recs: list[dict[str, Any]], who: list[str], dtypes: list[str], key: str, first: bool) -> None:
    """Grouped bars (a group per backend, a bar per dtype); `first`: the first call as a tick."""
    width = 0.8 / max(len(dtypes), 1)
    for k, dt in enumerate(dtypes):
        for i, w in enumerate(who):
            r = next((r for r in recs if _who(r) == w and r["dtype"] == dt), None)
            x = i - 0.4 + width * (k + 0.5)
            if r is not None and r.get(key) is not None:
                ax.bar(x, r[key], width * 0.9, color=_colors(who)[w], alpha=1.0 if dt == "float64" else 0.55)
                ax.annotate(dt.removeprefix("float"), (x, r[key]), ha="center", va="bottom", fontsize=7)
            if first and r is not None and r.get("first_seconds") is not None:
                ax.plot([x - width * 0.45, x + width * 0.45], [r["first_seconds"]] * 2, color="black", lw=1.5)
    ax.set_xticks(range(len(who)), who, rotation=30, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.grid(True, axis="y", which="both", alpha=0.3)


def _lines(ax: Any, recs: list[dict[str, Any]], who: list[str], dtypes: list[str], axis: str) -> None:
    colors = _colors(who)
    for w in who:
        for dt in dtypes:
            pts = [
                (r["size"], r["per_step"]) for r in recs if _who(r) == w and r["dtype"] == dt and r["status"] == "ok"
            ]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, STYLES.get(dt, "--"), marker="o", ms=3, color=colors[w], label=f"{w} {dt}")
    ax.set_xscale("log", base=2)
    sizes = sorted({r["size"] for r in recs})
    ax.set_xticks(sizes, [str(n) for n in sizes], fontsize=8)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_yscale("log")
    ax.set_xlabel(axis)
    ax.set_ylabel("seconds per training step")
    ax.grid(True, which="both", alpha=0.3)


def draw(doc: dict[str, Any]) -> bytes:
    recs, s = doc["measurements"], doc["settings"]
    who = list(dict.fromkeys(_who(r) for r in recs))
    dtypes = list(s["dtypes"])
    of = lambda m: [r for r in recs if r["measurement"] == m]  # noqa: E731
    fig = Figure(figsize=(13, 9))
    axes = fig.subplots(2, 2)
    _bars(axes[0][0], of("forward-backward"), who, dtypes, "seconds", first=False)
    axes[0][0].set_ylabel("seconds per call")
    axes[0][0].set_title("one forward + backward pass of the post's example", fontsize=10)
    _bars(axes[0][1], of("train"), who, dtypes, "seconds", first=True)
    axes[0][1].set_ylabel(f"seconds for {s['train_steps']:,} steps")
    axes[0][1].set_title(f"{s['train_steps']:,} training steps (bar: after compilation; tick: first call)", fontsize=10)
    _lines(axes[1][0], of("width"), who, dtypes, "width W")
    axes[1][0].set_title(f"W-W-W sigmoid network, 1 example, {s['scaling_steps']} steps per call", fontsize=10)
    _lines(axes[1][1], of("batch"), who, dtypes, "batch size B")
    axes[1][1].set_title("the post's 2-2-2 network, B examples", fontsize=10)
    axes[1][1].legend(fontsize=7, ncol=2)
    fig.suptitle(f"bpcheck bench: {doc['environment']['cpu']}, {doc['environment']['cpu_count']} CPUs", fontsize=11)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.92, bottom=0.07, hspace=0.35, wspace=0.22)
    return _png(fig)
