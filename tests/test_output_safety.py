"""Bad input, unsafe paths and faults (issue 12): whatever a command is given, it checks something
or says it did not, writes only where it may, and fails with one line.

Each test runs the commands in a folder of its own (tmp_path) and compares a snapshot of the
whole tmp tree before and after: nothing written outside the chosen output, no pre-existing file
changed, nothing half-written left behind. Diff's part is in tests/test_diff.py."""

from __future__ import annotations

import atexit
import dataclasses
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib
import pytest
from hypothesis import given as for_any
from hypothesis import settings
from hypothesis import strategies as st
from matplotlib import cbook
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bpcheck import backends
from bpcheck.backends.protocol import Unavailable
from bpcheck.cli import main
from bpcheck.reference import store
from bpcheck.reference.case import load_case
from bpcheck.reporting import bench_plot, output, plots, results
from bpcheck.reporting.output import MARKER, marker_text, slug

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["--backend", "reference", "--dtype", "float64", "--no-trajectories", "--jobs", "1"]
REPORT = [*QUICK, "--case", "mazur-2015", "--steps", "5", "--quiet"]


def _small_bench() -> Path:
    """The committed bench.json cut down to the reference backend in float64 (quick to draw)."""
    doc = json.loads((ROOT / "reports" / "bench" / "bench.json").read_text())
    keep = lambda r: r["backend"] == "reference" and r["dtype"] == "float64"  # noqa: E731
    doc["measurements"] = [r for r in doc["measurements"] if keep(r)]
    doc["settings"]["dtypes"], doc["unavailable"] = ["float64"], {}
    folder = Path(tempfile.mkdtemp(prefix="bpcheck-bench-"))
    atexit.register(shutil.rmtree, folder, True)
    (folder / "bench.json").write_text(json.dumps(doc))
    return folder / "bench.json"


BENCH_JSON = _small_bench()  # `bench --render` draws it in well under a second


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under `root` with its type, mode and (for a file) content digest."""
    out: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(folder) / name
            st_ = os.lstat(p)
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if stat.S_ISREG(st_.st_mode) else None
            out[str(p.relative_to(root))] = (stat.S_IFMT(st_.st_mode), stat.S_IMODE(st_.st_mode), digest)
    return out


def bp(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str, start: str = "bpcheck: error: ") -> None:
    assert err.count("\n") == 1 and err.startswith(start) and "Traceback" not in err, err


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    """The caller's folder, tmp/home/work, holding a user's file and the outputs of a previous
    run, report and bench (marked as theirs, so a command that wrongly went ahead could write).
    The pictures are stand-ins here (drawing them is test_the_pictures_draw_any_name_as_text's
    part), so that writing a report or bench.png takes no time."""
    monkeypatch.setattr(plots, "draw_all", lambda doc, case: {p: b"\x89PNG picture" for p in plots.PICTURES})
    monkeypatch.setattr(bench_plot, "draw", lambda doc: b"\x89PNG picture")
    home = tmp_path / "home"
    here = home / "work"
    here.mkdir(parents=True)
    (here / "notes.txt").write_text("the user's own notes\n")
    previous = {
        "reports/run-mazur-2015": ("run", {"results.json": "[]\n", "table.txt": "previous\n"}),
        "reports/report": ("report", {"results.json": "previous\n", "report.md": "previous\n"}),
        "reports/bench": ("bench", {"bench.json": "previous\n"}),
    }
    for folder, (kind, files) in previous.items():
        (here / folder).mkdir(parents=True)
        for name, text in {**files, MARKER: marker_text(kind)}.items():
            (here / folder / name).write_text(text)
    cache = store.cache_root()  # the exact values stay where they are, outside the snapshot
    monkeypatch.setenv("BPCHECK_ORACLE_CACHE", "off" if cache is None else str(cache.parent))
    monkeypatch.chdir(here)
    monkeypatch.setenv("HOME", str(home))
    return here


# 1. A run or verify that checked nothing is not a pass.


class Declines:
    """A backend that does no case at all (NotImplementedError everywhere)."""

    name = "declines"

    def devices(self) -> list[str]:
        return ["cpu"]

    def forward(self, *args: object) -> dict[str, float]:
        raise NotImplementedError("no case")

    gradients = step = forward

    def train(self, *args: object) -> object:
        raise NotImplementedError("no case")


def absent() -> object:
    raise Unavailable("not installed here (a test's)")


@pytest.fixture
def only_unavailable(monkeypatch):
    """A machine where every registered backend is unavailable."""
    backends.register("absent-for-test", "tests.test_output_safety:absent")
    monkeypatch.setattr(backends, "names", lambda: ["absent-for-test"])
    yield
    backends.unregister("absent-for-test")


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "--backend", "tests.test_output_safety:Declines", "--case", "mazur-2015", "--no-trajectories"],
        ["verify", "--backend", "tests.test_output_safety:Declines", "--case", "mazur-2015,xor-h3", "--json"],
        ["verify", "--backend", "tests.test_output_safety:Declines", "--case", "xor-h3", "--dtype", "float32"],
    ],
)
def test_verify_that_checked_nothing_exits_1_and_says_so(capsys, work, argv):
    before = snapshot(work.parent)
    code, out, err = bp(capsys, *argv)
    assert code == 1, (out, err)
    one_line(err, "bpcheck: nothing checked: ")
    assert snapshot(work.parent) == before


@pytest.mark.parametrize(
    "argv", [["run", *QUICK[2:]], ["run", "--json", *QUICK[2:]], ["report", "--force", *REPORT[2:]]]
)
def test_run_or_report_on_a_machine_with_no_backend_checks_nothing_exits_1_and_writes_nothing(
    capsys, work, only_unavailable, argv
):
    before = snapshot(work.parent)
    code, out, err = bp(capsys, *argv)
    assert code == 1, (out, err)
    one_line(err, "bpcheck: nothing checked: ")
    assert snapshot(work.parent) == before


def test_verify_with_an_empty_dtype_does_not_pass(capsys, work):
    before = snapshot(work.parent)
    code, out, err = bp(capsys, "verify", "--backend", "numpy", "--dtype", "")
    assert code != 0 and out == ""
    one_line(err)
    assert snapshot(work.parent) == before


# 2 and 9. An empty selection is exit 2 "nothing selected", runs nothing and writes nothing.

EMPTY = ["", ",", " , ", ",,"]
SELECTIONS = [
    ["run", "--backend", "{}"],
    ["run", "--dtype", "{}"],
    ["run", "--backend", "reference", "--backend", "{}"],  # an empty value is wrong whatever else is given
    ["run", "--dtype", "float64,float32", "--dtype", "{}"],
    ["run", "--dtype", "{}", "--out", "reports/run-mazur-2015"],
    ["report", "--force", "--case", "{}"],
    ["report", "--force", "--backend", "{}"],
    ["report", "--force", "--dtype", "{}"],
    ["bench", "--quick", "--backend", "{}"],
    ["bench", "--quick", "--dtype", "{}"],
    ["bench", "--quick", "--backend", "{}", "--backend", "reference"],
    ["verify", "--backend", "numpy", "--dtype", "{}"],
    ["verify", "--backend", "numpy", "--case", "{}"],
    ["verify", "--list", "--case", "{}"],
    ["oracles", "--case", "{}"],
    ["explain", "w5+", "--backend", "{}"],
    ["explain", "w5+", "--dtype", "{}"],
]


@pytest.mark.parametrize("empty", EMPTY, ids=repr)
@pytest.mark.parametrize("argv", SELECTIONS, ids=" ".join)
def test_an_empty_selection_is_exit_2_and_overwrites_nothing(capsys, work, argv, empty):
    before = snapshot(work.parent)
    code, out, err = bp(capsys, *(a.format(empty) for a in argv))
    assert code == 2 and out == "", out
    one_line(err)
    assert "nothing selected" in err and "max()" not in err, err
    assert snapshot(work.parent) == before


# 3. Paths made from a name are slugs: no traversal, NUL or overlong names, no collisions.

NAMES = [
    "../../../../escaped",
    "../x",
    "/abs/path",
    "a/b",
    "a\\b",
    "a\0b",
    "x" * 5000,
    "",
    ".",
    "..",
    ".hidden",
    "-rf",
    "a b",
    "é",
    "\ud800",
    "line\nbreak",
    "$\\badcmd$",
    "x-1a2b3c4d",
]
SLUG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")


@pytest.mark.parametrize("name", NAMES, ids=repr)
def test_a_slug_is_a_safe_file_name_for_any_name(name):
    s = slug(name)
    assert SLUG.fullmatch(s) and s not in (".", ".."), s
    assert slug(name) == s


def test_a_plain_name_is_its_own_slug_and_no_two_names_share_one():
    assert slug("mazur-2015") == "mazur-2015" and slug("xor-h3.v2") == "xor-h3.v2"
    tricky = [*NAMES, "a-b", "a?b", "a_b", "x", "X", slug("a/b"), slug("../x"), slug("x" * 5000), "x" * 64, "x" * 65]
    slugs = [slug(n) for n in tricky]
    assert len(set(slugs)) == len(set(tricky)), [(n[:20], s) for n, s in zip(tricky, slugs)]


@settings(max_examples=200)
@for_any(st.text())
def test_any_text_gives_a_safe_slug(name):
    s = slug(name)
    assert SLUG.fullmatch(s) and s not in (".", "..")
    assert (s == name) or re.search(r"-[0-9a-f]{8}$", s)


@settings(max_examples=200)
@for_any(st.text(), st.text())
def test_two_texts_never_share_a_slug(a, b):
    assert (slug(a) == slug(b)) == (a == b)


@pytest.mark.parametrize("name", ["../../../../escaped", "../run-x", "a\0b", "x" * 5000, "..", "/etc/x"], ids=repr)
def test_run_writes_a_case_with_any_name_under_reports(capsys, work, monkeypatch, name):
    """The default output folder is reports/run-<slug>, whatever the case's name (the case file's
    own name rules aside: the case is handed over with that name as it is)."""
    case = dataclasses.replace(load_case("mazur-2015"), name=name)
    monkeypatch.setattr("bpcheck.commands.run.load_case", lambda _: case)
    before = snapshot(work.parent)
    code, out, err = bp(capsys, "run", *QUICK)
    assert code == 0, err
    new = {p for p in snapshot(work.parent).keys() - before.keys()}
    folder = f"work/reports/run-{slug(name)}"
    assert new == {folder, *(f"{folder}/{f}" for f in ("results.json", "table.txt", MARKER))}, new
    assert all(v == snapshot(work.parent)[k] for k, v in before.items())


# 4. --force replaces only a report's directory; run and bench write only into their own.


@pytest.fixture
def checkout(work) -> Path:
    """A folder that looks like a checkout of the project."""
    folder = work / "checkout"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    return folder


USERS = ["mine", ".", "..", "~", "~/", "checkout", "checkout/.git", "/", "notes.txt", "reports/run-mazur-2015"]


@pytest.mark.parametrize("given", USERS)
def test_report_force_refuses_a_directory_no_report_wrote(capsys, work, checkout, given):
    (work / "mine").mkdir()
    (work / "mine" / "data.csv").write_text("1,2\n")
    before, root = snapshot(work.parent), sorted(os.listdir("/"))
    code, out, err = bp(capsys, "report", "--out", given, "--force", *REPORT)
    assert code == 2, err
    one_line(err)
    assert snapshot(work.parent) == before and sorted(os.listdir("/")) == root


def test_report_force_replaces_a_report_it_wrote_and_marks_every_report(capsys, work):
    assert bp(capsys, "report", "--out", "new", *REPORT)[0] == 0
    assert (work / "new" / MARKER).read_text().startswith("bpcheck report\n")
    (work / "new" / "stale.txt").write_text("from before")
    code, _, err = bp(capsys, "report", "--out", "new", "--force", *REPORT)
    assert code == 0, err
    assert not (work / "new" / "stale.txt").exists() and (work / "new" / MARKER).exists()
    assert not [p for p in work.iterdir() if p.name.startswith(".")]  # no .new.old-* or .tmp-* left


def test_report_force_does_not_pull_the_current_directory_away(capsys, work, monkeypatch):
    inside = work / "reports" / "report" / "sub"
    inside.mkdir()
    monkeypatch.chdir(inside)
    before = snapshot(work.parent)
    for given in ("..", str(work / "reports" / "report")):
        code, _, err = bp(capsys, "report", "--out", given, "--force", *REPORT)
        assert code == 2 and "current directory" in err, err
        one_line(err)
    assert snapshot(work.parent) == before


def test_report_without_force_keeps_an_existing_report(capsys, work):
    before = snapshot(work.parent)
    code, _, err = bp(capsys, "report", "--out", "reports/report", *REPORT)
    assert code == 2 and "--force" in err
    one_line(err)
    assert snapshot(work.parent) == before


@pytest.mark.parametrize(
    "files",
    [
        {"results.json": '{"mine": 1}\n'},
        {"table.txt": "my table\n"},
        {"results.json": "[]\n", "table.txt": "x\n", "other.txt": "x\n"},
        {"something.else": "x\n"},
        {MARKER: marker_text("report"), "results.json": "{}\n"},  # a report's, not a run's
    ],
)
def test_run_out_does_not_clobber_files_it_did_not_write(capsys, work, files):
    (work / "theirs").mkdir()
    for name, text in files.items():
        (work / "theirs" / name).write_text(text)
    before = snapshot(work.parent)
    code, out, err = bp(capsys, "run", "--out", "theirs", *QUICK)
    assert code == 2, err
    one_line(err)
    assert snapshot(work.parent) == before


@pytest.mark.parametrize("given", [".", "~", "..", "/", "checkout", "notes.txt"])
def test_run_and_bench_refuse_the_current_home_checkout_and_root_folders(capsys, work, checkout, given):
    before, root = snapshot(work.parent), sorted(os.listdir("/"))
    for argv in (["run", "--out", given, *QUICK], ["bench", "--render", str(BENCH_JSON), "--out", given]):
        code, out, err = bp(capsys, *argv)
        assert code == 2 and out == "", (argv, err)
        one_line(err)
    assert snapshot(work.parent) == before and sorted(os.listdir("/")) == root


def test_run_writes_into_a_new_an_empty_or_its_own_folder(capsys, work):
    (work / "empty").mkdir()
    for given in ("new/deeper", "empty", "reports/run-mazur-2015"):
        code, _, err = bp(capsys, "run", "--out", given, *QUICK)
        assert code == 0, err
        written = sorted(os.listdir(work / given))
        assert written == sorted([MARKER, "results.json", "table.txt"]), written
        assert json.loads((work / given / "results.json").read_text())
    legacy = work / "old-run"  # what an earlier version wrote, without the marker
    legacy.mkdir()
    (legacy / "results.json").write_text("[]\n")
    (legacy / "table.txt").write_text("old\n")
    assert bp(capsys, "run", "--out", "old-run", *QUICK)[0] == 0 and (legacy / MARKER).exists()


@pytest.mark.parametrize("files", [{"bench.png": b"my picture"}, {"bench.md": b"# mine"}, {"x.txt": b"x"}])
def test_bench_out_does_not_clobber_files_it_did_not_write(capsys, work, files):
    (work / "theirs").mkdir()
    for name, data in files.items():
        (work / "theirs" / name).write_bytes(data)
    before = snapshot(work.parent)
    for argv in (["--render", str(BENCH_JSON)], ["--quick", "--backend", "reference", "--dtype", "float64"]):
        code, out, err = bp(capsys, "bench", *argv, "--out", "theirs")
        assert code == 2 and out == "", err
        one_line(err)
    assert snapshot(work.parent) == before


def test_bench_writes_its_own_folder(capsys, work):
    code, out, err = bp(capsys, "bench", "--render", str(BENCH_JSON), "--out", "reports/bench")
    assert code == 0, err
    assert sorted(os.listdir(work / "reports" / "bench")) == sorted([MARKER, "bench.json", "bench.md", "bench.png"])


# 8. An output folder that cannot be written: one line, exit 2, nothing half-written.

BAD_OUTS = [
    "notes.txt",  # a file
    "notes.txt/sub",  # under a file
    "notes.txt/a/b",
    "new\0name",  # NUL
    "x" * 300,  # a name too long
    "/".join(["y" * 250] * 20),  # a path too long
    "",  # empty
]


@pytest.mark.parametrize("given", BAD_OUTS, ids=lambda g: repr(g[:30]))
@pytest.mark.parametrize(
    "argv",
    [["run", *QUICK], ["report", *REPORT], ["report", "--force", *REPORT], ["bench", "--render", str(BENCH_JSON)]],
    ids=lambda a: " ".join(a[:2]),
)
def test_an_output_folder_that_cannot_be_written_is_one_line(capsys, work, argv, given):
    before = snapshot(work.parent)
    code, out, err = bp(capsys, *argv, "--out", given)
    assert code == 2 and out == "", err
    one_line(err)
    assert snapshot(work.parent) == before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/sys and /proc are Linux's")
@pytest.mark.parametrize("given", ["/sys/bpcheck-test-out", "/proc/bpcheck-test-out/x", "/proc/self/bpcheck"])
@pytest.mark.parametrize(
    "argv", [["run", *QUICK], ["report", *REPORT], ["bench", "--render", str(BENCH_JSON)]], ids=lambda a: a[0]
)
def test_a_folder_no_one_may_write_is_one_line(capsys, work, argv, given):
    """Read-only even for root (a read-only folder of tmp is writable by root)."""
    before = snapshot(work.parent)
    code, out, err = bp(capsys, *argv, "--out", given)
    assert code == 2 and out == "", err
    one_line(err)
    assert snapshot(work.parent) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into a read-only folder")
@pytest.mark.parametrize("argv", [["run", *QUICK], ["report", *REPORT], ["bench", "--render", str(BENCH_JSON)]])
def test_a_read_only_folder_is_one_line(capsys, work, argv):
    (work / "ro").mkdir()
    (work / "ro").chmod(0o555)
    try:
        before = snapshot(work.parent)
        for given in ("ro/out", "ro"):
            code, out, err = bp(capsys, *argv, "--out", given)
            assert code == 2, err
            one_line(err)
        assert snapshot(work.parent) == before
    finally:
        (work / "ro").chmod(0o755)


def test_a_failed_write_leaves_nothing_behind(capsys, work, monkeypatch):
    """A disk that fills up while the files are written: the previous output stays as it was."""
    real = os.replace

    def full(src, dst):
        if Path(dst).name in ("table.txt", "report.md", "bench.md"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(src, dst)

    monkeypatch.setattr(output.os, "replace", full)
    before = snapshot(work.parent)
    for argv in (
        ["run", "--out", "reports/run-mazur-2015", *QUICK],
        ["run", "--out", "fresh/run", *QUICK],
        ["bench", "--render", str(BENCH_JSON), "--out", "reports/bench"],
    ):
        code, out, err = bp(capsys, *argv)
        assert code == 2 and "No space left on device" in err, err
        one_line(err)
        assert snapshot(work.parent) == before


# 10. Texts drawn in the pictures are never mathtext.

NASTY = ["$\\badcmd$", "$x$", "a$b$c", "$^$", "\\$$", "$\\frac{1}{$", "$$", "%_#&{}$^", "$\\", "\\$"]


@pytest.fixture(scope="module")
def small_doc() -> dict:
    """A small report's document, cut to a few values and curve points (quick to draw)."""
    from tests.test_report import small_report

    doc = results.load(small_report())
    doc["records"] = [r for r in doc["records"] if r["quantity"] in ("E_total", "w5+", "w1+", "dE_total/dw5")]
    for c in doc["curves"]:
        for k in ("steps", "values", "exact", "ulps"):
            c[k] = c[k][::20]
    return doc


@pytest.mark.parametrize("name", NASTY)
def test_plain_text_is_drawn_as_it_is(name):
    text = plots.plain(name)
    assert not cbook.is_math_text(text) and text.replace(r"\$", "$") == name  # what matplotlib draws
    fig = Figure(figsize=(2, 1))
    fig.text(0, 0, text)
    fig.suptitle(text)
    FigureCanvasAgg(fig).draw()


def test_the_pictures_draw_any_name_as_text(small_doc, monkeypatch):
    """Case, backend, quantity, config and neuron names with `$` and backslashes, and a user's
    matplotlibrc that asks for LaTeX: the four pictures and bench.png are still drawn."""
    case, backend, quantity, config, neuron = NASTY[:5]
    monkeypatch.setitem(matplotlib.rcParams, "text.usetex", True)
    doc = json.loads(json.dumps(small_doc))
    info = doc["cases"].pop(next(iter(doc["cases"])))
    info["default_config"] = config
    info["labels"] = [[f"{n}{neuron}" for n in layer] for layer in info["labels"]]
    for f in info["published"]:
        f.update(config=config, quantity=f["quantity"] + quantity)
    doc["cases"][case] = info
    for r in doc["records"] + doc["curves"]:
        r.update(case=case, backend=r["backend"] + backend, config=config)
    for r in doc["records"]:
        r["quantity"] += quantity
    pictures = plots.draw_all(doc, case)
    assert set(pictures) == set(plots.PICTURES)
    assert all(p.startswith(b"\x89PNG") for p in pictures.values())
    bench = json.loads(BENCH_JSON.read_text())
    bench["environment"]["cpu"] = case
    bench["settings"]["dtypes"] = [config]
    for r in bench["measurements"]:
        r.update(backend=r["backend"] + backend, dtype=config)
    assert bench_plot.draw(bench).startswith(b"\x89PNG")


def test_bench_render_of_a_document_with_no_measurements_is_one_line(capsys, work):
    doc = json.loads(BENCH_JSON.read_text())
    for broken in ({**doc, "measurements": []}, {**doc, "measurements": [{"backend": "x"}]}):
        (work / "b.json").write_text(json.dumps(broken))
        before = snapshot(work.parent)
        code, out, err = bp(capsys, "bench", "--render", "b.json", "--out", "drawn")
        assert code == 2 and out == "", err
        one_line(err)
        assert snapshot(work.parent) == before


# Minor: file modes follow the umask; a stdout that cannot be written is one line.


@pytest.mark.parametrize(
    ("mask", "file_mode", "dir_mode", "report"), [(0o027, 0o640, 0o750, True), (0o002, 0o644, 0o755, False)]
)
def test_written_files_are_0644_less_the_umask(capsys, work, mask, file_mode, dir_mode, report):
    old = os.umask(mask)
    try:
        assert bp(capsys, "run", "--out", "run-out", *QUICK)[0] == 0
        assert not report or bp(capsys, "report", "--out", "report-out", *REPORT)[0] == 0
    finally:
        os.umask(old)
    for folder in ("run-out", "report-out")[: 1 + report]:
        assert stat.S_IMODE(os.stat(work / folder).st_mode) == dir_mode, folder
        for p in (work / folder).iterdir():
            assert stat.S_IMODE(p.stat().st_mode) == file_mode, p


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("argv", [["cases"], ["verify", "--list", "--json"]])
def test_a_full_stdout_is_one_line_and_a_nonzero_exit(argv):
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "bpcheck.cli", *argv], stdout=full, stderr=subprocess.PIPE, text=True, timeout=120
        )
    assert proc.returncode != 0
    one_line(proc.stderr)
    assert "Exception ignored" not in proc.stderr


# 15. bpcheck.sh installs nothing unasked and runs bpcheck in the caller's folder.


@pytest.fixture
def script(tmp_path) -> dict:
    """A copy of the checkout's bpcheck.sh and .ci/run beside a .venv that is set up already (its
    stamp), whose bpcheck is this Python's and whose python records where it ran; a PATH with
    only the tools the script needs, a fake `id` (root) and a fake `apt-get` that records its calls."""
    box = tmp_path / "checkout"
    (box / ".venv" / "bin").mkdir(parents=True)
    (box / ".ci").mkdir()
    for name in ("bpcheck.sh", "pyproject.toml", "constraints.txt", ".ci/run"):
        shutil.copy2(ROOT / name, box / name)
    digest = hashlib.sha256((box / "pyproject.toml").read_bytes() + (box / "constraints.txt").read_bytes())
    (box / ".venv" / f".installed-{digest.hexdigest()[:16]}").touch()
    log = tmp_path / "calls.log"
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = {
        box / ".venv/bin/bpcheck": f'#!/bin/sh\nexec "{sys.executable}" -m bpcheck.cli "$@"\n',
        box / ".venv/bin/python": f'#!/bin/sh\necho "python in $(pwd): $*" >> "{log}"\n',
        tools / "apt-get": f'#!/bin/sh\necho "apt-get $*" >> "{log}"\nexit "${{APT_EXIT:-0}}"\n',
        tools / "id": '#!/bin/sh\necho "${FAKE_UID:-0}"\n',
    }
    for path, text in fake.items():
        path.write_text(text)
        path.chmod(0o755)
    for tool in ("bash", "cat", "sha256sum", "cut", "dirname", "rm", "touch", "sh"):
        found = shutil.which(tool)
        if found is None:
            pytest.skip(f"no {tool}")
        (tools / tool).symlink_to(found)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cache = store.cache_root()
    env = {
        "PATH": str(tools),
        "HOME": str(tmp_path),
        "BPCHECK_ORACLE_CACHE": "off" if cache is None else str(cache.parent),
    }
    env |= {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TMPDIR")}
    return {"box": box, "log": log, "tools": tools, "cwd": elsewhere, "env": env}


def sh(script: dict, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(script["tools"] / "bash"), str(script["box"] / "bpcheck.sh"), *args],
        cwd=script["cwd"],
        env={**script["env"], **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def calls(script: dict) -> list[str]:
    return script["log"].read_text().splitlines() if script["log"].exists() else []


@pytest.mark.parametrize("args", [[], ["--help"], ["cases"]])
def test_bpcheck_sh_never_runs_apt_get_unasked(script, args):
    done = sh(script, *args)  # as "root", with no chromium on PATH
    assert done.returncode == 0, done.stderr
    assert calls(script) == [] and "chromium" not in done.stderr, (calls(script), done.stderr)


def test_bpcheck_sh_setup_browser_is_the_step_that_installs_chromium(script):
    done = sh(script, "setup-browser")
    assert done.returncode == 0, done.stderr
    assert calls(script) == ["apt-get update -qq", "apt-get install -y -qq chromium"]
    script["log"].unlink()
    failed = sh(script, "setup-browser", APT_EXIT="100")
    assert failed.returncode != 0 and "could not install chromium" in failed.stderr
    assert sh(script, "cases").returncode == 0 and calls(script) == ["apt-get update -qq"]  # no retry
    script["log"].unlink()
    user = sh(script, "setup-browser", FAKE_UID="1000")
    assert user.returncode != 0 and "root" in user.stderr and calls(script) == []
    (script["tools"] / "chromium").write_text("#!/bin/sh\n")
    (script["tools"] / "chromium").chmod(0o755)
    present = sh(script, "setup-browser")
    assert present.returncode == 0 and calls(script) == []


def test_bpcheck_sh_resolves_relative_paths_in_the_callers_folder(script):
    cwd = script["cwd"]
    (cwd / "cases").mkdir()
    shutil.copy(ROOT / "reference" / "cases" / "xor-h3.toml", cwd / "cases" / "mine.toml")
    done = sh(script, "run", "--case", "cases/mine.toml", "--out", "out", *QUICK)
    assert done.returncode == 0, done.stderr
    assert (cwd / "out" / "results.json").exists() and not (script["box"] / "out").exists()
    listed = sh(script, "verify", "--list", "--case", "cases/mine.toml")
    assert listed.returncode == 0 and "xor-h3" in listed.stdout, listed.stderr
    assert sh(script, "test", "-q").returncode == 0  # the tests still run in the checkout
    assert calls(script) == [f"python in {script['box']}: -m pytest -n auto -q"]


def test_ci_installs_the_browser_first_and_only_warns_when_it_cannot(script):
    """.ci/run against a bpcheck.sh that records its steps and fails setup-browser."""
    steps = script["box"] / "bpcheck.sh"
    steps.write_text(f'#!/bin/sh\necho "$*" >> "{script["log"]}"\n[ "$1" != setup-browser ]\n')
    done = subprocess.run(
        [str(script["tools"] / "bash"), str(script["box"] / ".ci" / "run")],
        env=script["env"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert calls(script) == ["setup-browser", "test", "test-slow"] and "warning" in done.stderr
