"""The side-by-side table: a row per quantity, per backend its value and ULPs to exact, the
post's figure and its verdict."""

from __future__ import annotations

from collections import defaultdict

from bpcheck.matrix import Record


def render(records: list[Record]) -> str:
    """One block per (case, dtype, device)."""
    blocks: dict[tuple[str, str, str], list[Record]] = defaultdict(list)
    for r in records:
        blocks[(r.case, r.dtype, r.device)].append(r)
    return "\n\n".join(_block(key, rs) for key, rs in blocks.items())


def _block(key: tuple[str, str, str], records: list[Record]) -> str:
    case, dtype, device = key
    names = list(dict.fromkeys(r.backend for r in records))
    rows: dict[tuple[str, str], dict[str, Record]] = defaultdict(dict)
    for r in records:
        rows[(r.quantity, r.config)][r.backend] = r
    header = ["quantity", "config", "exact", "post"] + [f"{b} (ULPs)" for b in names] + ["post verdict"]
    lines = [header]
    for (quantity, config), by_backend in rows.items():
        any_r = next(iter(by_backend.values()))
        cells = [_cell(by_backend.get(b)) for b in names]
        lines.append([quantity, config, _num(any_r.exact), any_r.published or "", *cells, _post_verdict(by_backend)])
    widths = [max(len(line[k]) for line in lines) for k in range(len(header))]
    text = ["  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    failed = sum(1 for r in records if r.failed)
    ill = sum(1 for r in records if r.verdict == "ill-conditioned")
    title = f"{case}  {dtype}  {device}: {len(records)} values, {failed} failing"
    title += f", {ill} ill-conditioned (no digit can be expected in {dtype})" if ill else ""
    errors = sorted({f"  {r.backend}: {r.error}" for r in records if r.error})
    return "\n".join([title, *text, *(["errors:", *errors] if errors else [])])


def _num(s: str) -> str:
    return format(float(s), ".12g")


def _cell(r: Record | None) -> str:
    if r is None:
        return "-"
    if r.value is None or r.ulps is None:  # no value (an error, NaN, inf), or an exact value beyond the dtype's range
        shown = "error" if r.value is None else f"{r.value:.12g}"
        return shown + (" ILL" if r.verdict == "ill-conditioned" else " FAIL" if r.failed else "")
    over = r.allowed_ulps is not None and r.ulps > r.allowed_ulps  # the exact check, whatever the figure's
    mark = " ILL" if r.verdict == "ill-conditioned" else " FAIL" if over and not r.kink else ""
    mark += " kink" if r.kink else ""
    return f"{r.value:.12g} ({r.ulps:g})" + mark


def _post_verdict(by_backend: dict[str, Record]) -> str:
    published = [r for r in by_backend.values() if r.published is not None]
    if not published:
        return ""
    bad = [r.backend for r in published if r.verdict != "reproduced"]
    return "not reproduced by " + ", ".join(bad) if bad else "reproduced"
