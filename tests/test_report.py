"""`bpcheck report`: the three files and four pictures, JSON first, atomic, --force, progress."""

from __future__ import annotations

import atexit
import io
import json
import re
import shutil
import tempfile
from functools import cache
from pathlib import Path

import pytest

from bpcheck.cli import main
from bpcheck.reporting import output, results
from bpcheck.reporting.plots import PICTURES

#: A quick report: the post's example, two backends, float64, no 10,000-step values, 200-step curves.
SMALL = ["--case", "mazur-2015", "--backend", "reference,numpy", "--dtype", "float64"]
SMALL += ["--no-trajectories", "--steps", "200", "--jobs", "1", "--quiet"]


@cache
def small_report() -> Path:
    """One small report per test session (shared with tests/test_browser.py)."""
    root = Path(tempfile.mkdtemp(prefix="bpcheck-report-"))
    atexit.register(shutil.rmtree, root, True)
    out = root / "report"
    assert main(["report", "--out", str(out), *SMALL]) == 0
    return out


def test_writes_three_files_and_four_pictures():
    out = small_report()
    names = {p.name for p in out.iterdir()}
    assert {"results.json", "report.md", "report.html"} <= names
    assert {f"{p}.png" for p in PICTURES} <= names
    assert not [n for n in names if n.startswith(".") and n != output.MARKER]  # no temporary files left


def test_results_json_has_records_environment_and_curves():
    doc = results.load(small_report())
    assert {r["backend"] for r in doc["records"]} == {"reference", "numpy"}
    env = doc["environment"]
    for key in ("python", "os", "cpu", "versions", "blas", "git_commit", "timestamp", "backends"):
        assert key in env, key
    assert env["versions"]["numpy"]
    curves = doc["curves"]
    assert {(c["backend"], c["dtype"]) for c in curves} == {("reference", "float64"), ("numpy", "float64")}
    assert all(c["steps"][-1] == 200 and len(c["values"]) == len(c["steps"]) for c in curves)


def test_markdown_and_html_render_the_json():
    out = small_report()
    doc = results.load(out)
    md, page = (out / "report.md").read_text(), (out / "report.html").read_text()
    for r in doc["records"][:5]:
        assert r["quantity"] in md and r["quantity"] in page
    assert all(f"({p}.png)" in md for p in PICTURES)
    assert page.count('src="data:image/png;base64,') == len(PICTURES)
    assert not re.search(r"(?:src|href)=\"(?!data:)", page), "an external reference in report.html"
    assert "http" not in page and "<script" not in page


def test_existing_directory_needs_force(capsys, tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "keep").write_text("previous")
    assert main(["report", "--out", str(out), *SMALL]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "keep").read_text() == "previous"


def test_interrupted_write_leaves_previous_report(tmp_path, monkeypatch):
    out = tmp_path / "r"
    output.write_directory(out, {"results.json": "old"})

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(output.os, "replace", interrupted)  # killed just before the rename
        with pytest.raises(KeyboardInterrupt):
            output.write_directory(out, {"results.json": "new", "report.md": "new"}, force=True)
    assert (out / "results.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r"]
    output.write_directory(out, {"results.json": "new"}, force=True)
    assert (out / "results.json").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


class _Tty(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(("tty", "quiet", "shown"), [(True, False, True), (True, True, False), (False, False, False)])
def test_progress_only_on_a_terminal(tty, quiet, shown):
    stream = _Tty(tty)
    p = output.Progress(3, quiet, stream)
    p.tick("a")
    p.close()
    assert ("1/3" in stream.getvalue()) is shown


def test_json_round_trips():
    text = (small_report() / "results.json").read_text()
    assert results.dumps(json.loads(text)) == text
