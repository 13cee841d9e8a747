"""bench.png from a bench document (bpcheck/bench.py): bars for one forward + backward pass and
for a training step of the post's example, and log-log lines of seconds per step against width
and against batch size, in each backend's declared colour and marker (hollow markers and hatched
bars on an accelerator), one line style per dtype, one legend for the figure. Agg, no pyplot."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullLocator

from bpcheck.reporting.plots import _png, backend_style, no_tex, plain

STYLES = {"float64": "-", "float32": ":"}


def _who(r: dict[str, Any]) -> str:
    """The backend (and device) as drawn: `plain` text."""
    return plain(r["backend"] if r["device"] == "cpu" else f"{r['backend']} ({r['device']})")


def _looks(recs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Line keywords per backend and device (`_who`): the backend's colour and marker, hollow on
    an accelerator."""
    out = {}
    for r in recs:
        color, marker = backend_style(r["backend"])
        out[_who(r)] = {"color": color, "marker": marker, "mfc": color if r["device"] == "cpu" else "white"}
    return out


def _bars(
    ax: Any, recs: list[dict[str, Any]], who: list[str], dtypes: list[str], key: str, first: bool, steps: int = 0
) -> None:
    """Grouped bars (a group per backend, a bar per dtype); `first`: the first call as a tick,
    and † over a bar measured over other than `steps` steps."""
    width, looks = 0.8 / max(len(dtypes), 1), _looks(recs)
    for k, dt in enumerate(dtypes):
        for i, w in enumerate(who):
            r = next((r for r in recs if _who(r) == w and r["dtype"] == dt), None)
            x = i - 0.4 + width * (k + 0.5)
            if r is not None and r.get(key) is not None:
                hatch, alpha = None if r["device"] == "cpu" else "//", 1.0 if dt == "float64" else 0.55
                ax.bar(x, r[key], width * 0.9, color=looks[w]["color"], hatch=hatch, alpha=alpha)
                fewer = "†" if first and r.get("steps") != steps else ""
                ax.annotate(plain(dt.removeprefix("float") + fewer), (x, r[key]), ha="center", va="bottom", fontsize=7)
            if first and r is not None and r.get("first_per_step") is not None:
                ax.plot([x - width * 0.45, x + width * 0.45], [r["first_per_step"]] * 2, color="black", lw=1.5)
    ax.set_xticks(range(len(who)), who, rotation=30, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_axisbelow(True)  # the grid behind the bars
    ax.grid(True, axis="y", which="both", alpha=0.3)


def _lines(ax: Any, recs: list[dict[str, Any]], who: list[str], dtypes: list[str], axis: str) -> None:
    looks = _looks(recs)
    for w in who:
        for dt in dtypes:
            pts = [
                (r["size"], r["per_step"]) for r in recs if _who(r) == w and r["dtype"] == dt and r["status"] == "ok"
            ]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, STYLES.get(dt, "--"), ms=4, lw=1.2, alpha=0.9, **looks[w])
    ax.set_xscale("log", base=2)
    sizes = sorted({r["size"] for r in recs})
    ax.set_xticks(sizes, [str(n) for n in sizes], fontsize=8)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_yscale("log")
    ax.set_xlabel(axis)
    ax.set_ylabel("seconds per training step")
    ax.grid(True, which="both", alpha=0.3)


def draw(doc: dict[str, Any]) -> bytes:
    with no_tex():
        return _draw(doc)


def _draw(doc: dict[str, Any]) -> bytes:
    recs, s = doc["measurements"], doc["settings"]
    who = list(dict.fromkeys(_who(r) for r in recs))
    dtypes = list(s["dtypes"])
    of = lambda m: [r for r in recs if r["measurement"] == m]  # noqa: E731
    fig = Figure(figsize=(13, 10.5))
    axes = fig.subplots(2, 2)
    _bars(axes[0][0], of("forward-backward"), who, dtypes, "seconds", first=False)
    axes[0][0].set_ylabel("seconds per call")
    axes[0][0].set_title("one forward + backward pass of the post's example", fontsize=10)
    _bars(axes[0][1], of("train"), who, dtypes, "per_step", first=True, steps=s["train_steps"])
    axes[0][1].set_ylabel("seconds per training step")
    axes[0][1].set_title(
        f"training the post's example, {s['train_steps']:,} steps a call († fewer)\n"
        "bar: after compilation; tick: first call",
        fontsize=10,
    )
    _lines(axes[1][0], of("width"), who, dtypes, "width W")
    axes[1][0].set_title("W-W-W sigmoid network, 1 example: (t(1 + k) - t(1)) / k", fontsize=10)
    _lines(axes[1][1], of("batch"), who, dtypes, "batch size B")
    axes[1][1].set_title("the post's 2-2-2 network, B examples: (t(1 + k) - t(1)) / k", fontsize=10)
    looks = _looks(recs)
    handles = [Line2D([], [], ms=6, lw=2, label=w, **looks[w]) for w in who]
    handles += [Line2D([], [], color="black", ls=STYLES.get(dt, "--"), lw=1.5, label=plain(dt)) for dt in dtypes]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=9, frameon=False)
    env = doc["environment"]
    fig.suptitle(plain(f"bpcheck bench: {env['cpu']}, {env['cpu_count']} CPUs"), fontsize=11)
    rows = -(-len(handles) // 6)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.92, bottom=0.06 + 0.025 * rows, hspace=0.4, wspace=0.22)
    return _png(fig)
