"""The side-by-side table of `bpcheck run`: one block per case, dtype and device, a row per
quantity with the exact value once, per backend its distance from exact in ULPs (marked where it
fails, is ill-conditioned or sits at a kink), then the source's printed figure and its verdict.

Drawn with rich to the terminal's width ($COLUMNS, the terminal's, or 80 when not a terminal;
or `width`): when every backend's column does not fit, the backends are split over as few tables
as it takes, each repeating the quantity and the exact value. `wide=True` gives every backend's
value in full beside its ULPs, in one table as wide as it takes.
"""

from __future__ import annotations

import io
import textwrap
from collections import defaultdict

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bpcheck.judge import NOT_FINITE, Record, count, from_printed_text

#: Marks beside a distance in ULPs, and the style each is drawn in on a terminal.
MARKS = {"fail": ("FAIL", "bold red"), "ill-conditioned": ("ILL", "yellow"), "kink": ("kink", "cyan")}
LEGEND = (
    "FAIL: over its bound; ILL: ill-conditioned (no correct digit expected); kink: at a kink; "
    "-: not run (slow, see below); printed figure reproduced by every backend: \u2713, not by some: \u2717"
)

Rows = dict[tuple[str, str], dict[str, Record]]  # (quantity, config) -> backend -> record


def render(records: list[Record], width: int | None = None, wide: bool = False, color: bool = False) -> str:
    """The table as text, `width` columns at most (None: stdout's width); ANSI colours if `color`."""
    blocks: dict[tuple[str, str, str], list[Record]] = defaultdict(list)
    for r in records:
        blocks[(r.case, r.dtype, r.device)].append(r)
    out = io.StringIO()
    width = width or Console().width  # stdout's: $COLUMNS, the terminal's width, or 80 when not a terminal
    console = Console(
        file=out, width=100_000 if wide else width, force_terminal=color, no_color=not color, highlight=False
    )
    for k, (key, rs) in enumerate(blocks.items()):
        if k:
            console.print()
        _block(console, key, rs, wide)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


def wrapped(text: str, width: int | None = None) -> str:
    """Lines of prose folded to `width` (None: stdout's width, as the table)."""
    width = width or Console().width
    return "\n".join(textwrap.fill(line, width, subsequent_indent="  ") if line else "" for line in text.split("\n"))


def _block(console: Console, key: tuple[str, str, str], records: list[Record], wide: bool) -> None:
    case, dtype, device = key
    names = list(dict.fromkeys(r.backend for r in records))
    rows: Rows = defaultdict(dict)
    for r in records:
        rows[(r.quantity, r.config)][r.backend] = r
    configs = list(dict.fromkeys(c for _, c in rows))
    failed = sum(1 for r in records if r.failed)
    ill = sum(1 for r in records if r.verdict == "ill-conditioned")
    total = sum(count(r) for r in records)  # a wide case's passes are counted, not recorded (bpcheck/compact.py)
    title = f"{case}  {dtype}  {device}: {len(rows)} quantities x {len(names)} backends = {total} values, "
    title += f"{failed} failing" + (f", {ill} ill-conditioned" if ill else "")
    console.print(Text(title, style="bold red" if failed else "bold"))
    ordered = [k for config in configs for k in rows if k[1] == config]  # each rule's rows together
    cells = {k: {b: _cell(rows[k].get(b), wide) for b in names} for k in ordered}
    labelled = len(configs) > 1
    split = False  # long backend names on two lines, only where one line would need another table
    chunks = [names] if wide else _chunks(console.width, names, ordered, rows, cells, labelled, split)
    if len(chunks) > 1:
        split = True
        chunks = _chunks(console.width, names, ordered, rows, cells, labelled, split)
    for part, chunk in enumerate(chunks):
        last = part == len(chunks) - 1
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
        table.add_column("quantity", no_wrap=True)
        table.add_column("exact", no_wrap=True)
        for b in chunk:
            table.add_column(_header(b) if split else b, justify="right", no_wrap=True)
        if last:
            table.add_column("printed", no_wrap=True)
        for k, (quantity, config) in enumerate(ordered):
            if labelled and (k == 0 or ordered[k - 1][1] != config):
                table.add_row(Text(f"under {config}:", style="italic"))
            r = next(iter(rows[(quantity, config)].values()))
            tail = [_printed(rows[(quantity, config)])] if last else []
            exact = _num(r.exact, wide) if r.exact else ""
            table.add_row(quantity, exact, *(cells[(quantity, config)][b] for b in chunk), *tail)
        console.print(table)
    head = "value (ULPs from exact)" if wide else "backend columns: ULPs from exact"
    console.print(Text(f"{head}; {LEGEND}", style="dim"))
    unreproduced = [
        f"  {q} [{c}]: {_printed(rows[(q, c)], why=True).plain}" for q, c in ordered if _missed(rows[(q, c)])
    ]
    if unreproduced:
        console.print(Text("\n".join(["printed figures not reproduced:", *unreproduced]), style="red"))
    derived = [(q, c, _derived(rows[(q, c)])) for q, c in ordered]
    if any(d for _, _, d in derived):
        lines = [f"{q} [{c}]: {d}" for q, c, d in derived if d]
        head = "printed figures that follow from the source's own printed figures (reproduced-from-printed):"
        head = textwrap.fill(head, console.width, break_on_hyphens=False)
        body = [
            textwrap.fill(x, console.width, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False)
            for x in lines
        ]
        console.print(Text("\n".join([head, *body])), soft_wrap=True)
    errors = sorted({f"  {r.backend}: {r.error}" for r in records if r.error and r.failed})  # not an ILL overflow
    if errors:
        console.print(Text("\n".join(["errors:", *errors]), style="red"))


def _chunks(
    width: int,
    names: list[str],
    ordered: list[tuple[str, str]],
    rows: Rows,
    cells: dict,
    labelled: bool,
    split: bool,
) -> list[list[str]]:
    """The backends in as few groups as fit `width` (each group's table repeats the quantity and
    the exact value; the last one adds the printed figure and the verdict)."""

    def col(texts: list[str]) -> int:
        return max((len(line) for t in texts for line in t.split("\n")), default=0) + 3  # padding, rule

    first = lambda k: next(iter(rows[k].values()))  # noqa: E731
    labels = [f"under {c}:" for _, c in ordered] if labelled else []
    fixed = col(["quantity", *(q for q, _ in ordered), *labels]) + col(
        ["exact", *(_num(first(k).exact, False) if first(k).exact else "" for k in ordered)]
    )
    tail = col(["printed", *(_printed(rows[k]).plain for k in ordered)])
    widths = {b: col([_header(b) if split else b, *(cells[k][b].plain for k in ordered)]) for b in names}
    width += 3  # the first column has no rule before it
    chunks: list[list[str]] = [[]]
    used = fixed
    for b in names:
        if chunks[-1] and used + widths[b] > width:
            chunks.append([])
            used = fixed
        chunks[-1].append(b)
        used += widths[b]
    if used + tail > width and len(chunks[-1]) > 1:
        chunks.append([chunks[-1].pop()])
    return chunks


def _header(name: str) -> str:
    """A backend's name over a narrow column: a long name on two lines, after a hyphen or halved."""
    if len(name) <= 7:
        return name
    if "-" in name:
        return name.replace("-", "-\n", 1)
    half = (len(name) + 1) // 2
    return f"{name[:half]}-\n{name[half:]}"


def _num(s: str, wide: bool) -> str:
    return format(float(s), ".15g" if wide else ".10g")


def _mark(r: Record) -> tuple[str, str] | None:
    over = r.allowed_ulps is not None and r.ulps is not None and r.ulps > r.allowed_ulps
    if r.verdict == "ill-conditioned":
        return MARKS["ill-conditioned"]
    if r.kink:
        return MARKS["kink"]
    if over or r.verdict == "fail":
        return MARKS["fail"]
    return None


def _cell(r: Record | None, wide: bool) -> Text:
    if r is None:
        return Text("-")
    if count(r) > 1:  # a wide case's passes, counted (bpcheck/compact.py)
        return Text(f"{count(r):,} pass")
    if r.value is None or r.ulps is None:  # no value (an error, NaN, inf), or an exact value beyond the dtype's range
        shown = "error" if r.value is None else f"{r.value:.15g}"
        if r.value is None and (r.error or "").startswith(NOT_FINITE):
            shown = (r.error or "").removeprefix(NOT_FINITE)  # nan, inf, -inf
        if r.verdict == "ill-conditioned":  # an overflow no value can be checked against (reason: in the JSON)
            return Text(f"{MARKS['ill-conditioned'][0]} {shown}", style=MARKS["ill-conditioned"][1])
        return Text(shown, style="bold red")
    distance = f"{r.ulps:.3g}"
    text = f"{r.value:.15g} ({distance})" if wide else distance
    mark = _mark(r)
    return Text(f"{mark[0]} {text}", style=mark[1]) if mark else Text(text)


def _missed(by_backend: dict[str, Record]) -> list[str]:
    """The backends whose value does not reproduce the printed figure."""
    return [r.backend for r in by_backend.values() if r.published is not None and r.failed]


def _derived(by_backend: dict[str, Record]) -> str:
    """'out_h1 = 0.6011, out_h2 = 0.5474': what a reproduced-from-printed figure follows from."""
    r = next((r for r in by_backend.values() if r.from_printed), None)
    return "" if r is None else f"{r.published} from {from_printed_text(r.from_printed or {}, r.config)}"


def _printed(by_backend: dict[str, Record], why: bool = False) -> Text:
    """The printed figure, marked reproduced (\u2713) or not (\u2717); with `why`, by which backends not,
    and each verdict other than plain `reproduced` named."""
    published = [r for r in by_backend.values() if r.published is not None]
    if not published:
        return Text("")
    figure, missed = published[0].published or "", _missed(by_backend)
    if missed:
        return Text(f"{figure} \u2717" + (f" not reproduced by {', '.join(missed)}" if why else ""), style="bold red")
    other = sorted({r.verdict for r in published} - {"reproduced"})
    return Text(f"{figure} \u2713" + (f" ({', '.join(other)})" if other else ""), style="green")
