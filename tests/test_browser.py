"""report.html in a real browser: headless Chromium (Debian's `chromium`, installed by
`./bpcheck.sh setup-browser` as root; CI runs that step) loads it from file://, with no
console errors and every <img> decoded (naturalWidth > 0), and leaves a screenshot in
reports/browser-test/. Skipped, with the reason, where Chromium is missing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_report import small_report

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "reports" / "browser-test"
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (./bpcheck.sh setup-browser, as root, installs it)"
)

#: Put into a copy of the page, first thing in <head>: collects errors and console.error calls,
#: and on load writes what it found into the DOM, which --dump-dom then prints.
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  __errors.push(e.message || ('failed to load ' + String(e.target && (e.target.src || e.target.href)).slice(0, 60)));
}, true);
var __oe = console.error;
console.error = function () {
  __errors.push(Array.prototype.join.call(arguments, ' '));
  __oe.apply(console, arguments);
};
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
    .map(function (i) { return i.alt; });
  var out = document.createElement('pre');
  out.id = '__check';
  out.textContent = JSON.stringify({images: imgs.length, bad: bad, errors: __errors});
  document.body.appendChild(out);
});
</script>"""


def load(page: Path, tmp: Path, screenshot: Path | None = None) -> tuple[dict, list[str]]:
    """(what the probe found, the browser's console lines) for `page` loaded via file://."""
    probed = tmp / f"probed-{page.name}"
    probed.write_text(page.read_text().replace("<head>", "<head>\n" + PROBE, 1))
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    cmd += ["--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp / 'profile'}"]
    cmd += ["--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--window-size=1400,2400"]
    cmd += [f"--screenshot={screenshot}"] if screenshot else []
    done = subprocess.run([*cmd, "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=90)
    found = re.search(r'<pre id="__check">([^<]*)</pre>', done.stdout)
    assert found, f"the page did not finish loading (rc {done.returncode}): {done.stderr[-2000:]}"
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return json.loads(found.group(1).replace("&quot;", '"')), console


def test_report_renders_with_every_image_and_no_console_errors(tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "report.png"
    shot.unlink(missing_ok=True)
    found, console = load(small_report() / "report.html", tmp_path, shot)
    assert found["images"] == 4 and found["bad"] == [], found
    assert found["errors"] == [] and console == [], (found, console)
    assert shot.exists() and shot.stat().st_size > 10_000, "no screenshot"


def test_the_probe_sees_a_broken_image(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head></head><body><img alt="x" src="data:image/png;base64,AAAA"></body></html>'
    )
    found, _ = load(page, tmp_path)
    assert found["bad"] == ["x"]
