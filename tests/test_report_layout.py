"""report.html at a phone's width (390 px) and a desktop's (1,400 px) in headless Chromium:
the page never scrolls sideways (wide tables scroll inside their own box), the viewport is set,
and `code` spans are rendered, not shown with their backticks. Skipped where Chromium is missing."""

from __future__ import annotations

import copy
import html
import json
import re
import subprocess
from pathlib import Path

import pytest

from bpcheck.reporting import render, results
from tests.test_browser import CHROMIUM
from tests.test_report import small_report

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (./bpcheck.sh setup-browser)")

#: A page holding the report in an iframe `WIDTH` px wide (headless Chromium's window is at least
#: 500 px wide; the frame is the viewport the report sees), measured after load: the frame's
#: width, the report's scrolling width, its widest table's, and its rendered code spans.
FRAME = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="f" style="width:WIDTHpx;height:1200px;border:0" srcdoc="SRCDOC"></iframe>
<script>
document.getElementById('f').addEventListener('load', function () {
  var d = this.contentDocument, w = this.contentWindow;
  var tables = Array.prototype.slice.call(d.querySelectorAll('table'));
  var out = document.createElement('pre');
  out.id = '__layout';
  out.textContent = JSON.stringify({
    inner: w.innerWidth, page: d.documentElement.scrollWidth,
    widest_table: Math.max.apply(null, tables.map(function (t) { return t.scrollWidth; })),
    code: d.querySelectorAll('p code').length});
  document.body.appendChild(out);
});
</script></body></html>"""


def wide_page(tmp: Path) -> str:
    """report.html of the small report with nine backends: "every value" tables wider than a phone or a desktop."""
    src = small_report()
    doc = results.load(src)
    wide = copy.deepcopy(doc)
    for k in range(7):
        wide["records"] += [{**r, "backend": f"plugin-backend-{k}"} for r in doc["records"]]
    pngs = {p.stem: p.read_bytes() for p in src.glob("*.png")}
    return render.page(wide, pngs)


def measure(report: str, width: int, tmp: Path) -> dict:
    page = tmp / f"frame-{width}.html"
    page.write_text(FRAME.replace("WIDTH", str(width)).replace("SRCDOC", html.escape(report)), encoding="utf-8")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    cmd += ["--no-first-run", f"--user-data-dir={tmp / f'profile-{width}'}", "--virtual-time-budget=5000"]
    cmd += ["--window-size=1600,1300", "--hide-scrollbars", f"--screenshot={tmp / f'shot-{width}.png'}"]
    done = subprocess.run([*cmd, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=90)
    found = re.search(r'<pre id="__layout">([^<]*)</pre>', done.stdout)
    assert found, f"the page did not finish loading (rc {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"'))


@pytest.mark.parametrize("width", [390, 1400])
def test_the_page_fits_the_window_and_wide_tables_scroll_in_their_box(width, tmp_path):
    report = wide_page(tmp_path)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in report
    found = measure(report, width, tmp_path)
    assert found["inner"] == width, found  # the window really is that wide
    assert found["widest_table"] > width, found  # the case this test is about: a table wider than the window
    assert found["page"] <= found["inner"], f"the page scrolls sideways at {width} px: {found}"
    assert found["code"] > 0, "no <code> span rendered"


def test_code_spans_lose_their_backticks():
    assert render._inline("`post`: the figure") == "<code>post</code>: the figure"
    assert render._inline("a ` b") == "a ` b"  # an unpaired backtick stays as written
    assert render._inline("<`x`>") == "&lt;<code>x</code>&gt;"
