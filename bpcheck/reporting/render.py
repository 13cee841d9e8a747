"""Markdown and self-contained HTML from a report's blocks (bpcheck/reporting/model.py)."""

from __future__ import annotations

import base64
import html
from typing import Any

from bpcheck.reporting.model import Block, Heading, Image, Para, Table, blocks

STYLE = """
*, *::before, *::after { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
p, h1, h2, h3, figcaption { overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; margin: 1em 0; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
th { background: #f0f0f0; position: sticky; top: 0; }
td.bad { background: #f8d7da; color: #842029; font-weight: bold; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-style: italic; color: #555; }
code { background: #f4f4f4; padding: 0 3px; }
"""


def markdown(doc: dict[str, Any], images: dict[str, str] | None = None) -> str:
    """report.md; `images` maps a picture's name to its file name (pictures left out when None)."""
    out = [_md(b, images) for b in blocks(doc)]
    return "\n\n".join(x for x in out if x) + "\n"


def _md(b: Block, images: dict[str, str] | None) -> str:
    if isinstance(b, Heading):
        return "#" * b.level + " " + b.text
    if isinstance(b, Para):
        return b.text
    if isinstance(b, Image):
        return f"![{b.caption}]({images[b.name]})\n\n*{b.caption}*" if images else ""
    esc = lambda s: s.replace("|", "\\|")
    cell = lambda i, j, s: f"**{esc(s)}**" if (i, j) in b.bad else esc(s)
    lines = ["| " + " | ".join(esc(h) for h in b.header) + " |", "|" + "---|" * len(b.header)]
    lines += ["| " + " | ".join(cell(i, j, s) for j, s in enumerate(row)) + " |" for i, row in enumerate(b.rows)]
    return "\n".join(lines)


def page(doc: dict[str, Any], pngs: dict[str, bytes]) -> str:
    """report.html: one file, pictures as data: URIs, no scripts, no external URLs."""
    body = "\n".join(_html(b, pngs) for b in blocks(doc))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>backprop-crosscheck report</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _html(b: Block, pngs: dict[str, bytes]) -> str:
    e = html.escape
    if isinstance(b, Heading):
        return f"<h{b.level}>{_inline(b.text)}</h{b.level}>"
    if isinstance(b, Para):
        return f"<p>{_inline(b.text)}</p>"
    if isinstance(b, Image):
        if b.name not in pngs:
            return ""
        data = base64.b64encode(pngs[b.name]).decode()
        return (
            f'<figure id="{b.name}"><img src="data:image/png;base64,{data}" alt="{e(b.caption)}">'
            f"<figcaption>{e(b.caption)}</figcaption></figure>"
        )
    assert isinstance(b, Table)
    head = "".join(f"<th>{e(h)}</th>" for h in b.header)
    rows = [
        "<tr>" + "".join(f"<td{' class=bad' if (i, j) in b.bad else ''}>{e(s)}</td>" for j, s in enumerate(r)) + "</tr>"
        for i, r in enumerate(b.rows)
    ]
    table = f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>"
    return f'<div class="scroll">{table}</div>'  # a wide table scrolls in its own box, not the page


def _inline(text: str) -> str:
    """Escaped text with Markdown's `code` spans as <code> (the only inline markup the blocks use)."""
    parts = html.escape(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code span, the text as it is
        return html.escape(text)
    return "".join(f"<code>{p}</code>" if k % 2 else p for k, p in enumerate(parts))
