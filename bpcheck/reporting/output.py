"""Writing output safely: a report directory as a whole, another command's files into a
directory of its own, and the progress bar.

Every directory bpcheck writes holds a marker file, MARKER, whose first line names the command
("bpcheck report"). Only a directory with the marker is ever replaced (`report --force`) or
written into when it already holds files (`run`, `bench`): a directory of the user's, the
current directory, the home directory or the checkout is refused with one line, and nothing is
left behind. Any failure to write (a file in the way, a read-only folder, a full disk) is an
OutputError, one line, after removing what was written."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from bpcheck.reference.store import DIRECTORY_MODE, file_mode, umask

#: The file that says a directory is bpcheck's to rewrite.
MARKER = ".bpcheck-report"
_WHAT = {
    "report": "`bpcheck report --force` may replace it whole",
    "run": "`bpcheck run` rewrites results.json and table.txt in it",
    "bench": "`bpcheck bench` rewrites bench.json, bench.md and bench.png in it",
}


class OutputError(Exception):
    """An output path that cannot, or must not, be written; str() is one line."""


class Exists(OutputError):
    """The report directory exists and --force was not given."""


def shown(path: str | os.PathLike[str]) -> str:
    """A path for a one-line message: repr() where it has control characters, the middle cut
    out where it is very long."""
    text = os.fspath(path)
    if not text.isprintable():
        text = repr(text)
    return text if len(text) <= 160 else f"{text[:70]}...{text[-70:]} ({len(text)} characters)"


def out_path(given: str | os.PathLike[str]) -> Path:
    """The absolute path of an --out argument, ~ expanded; OutputError for one that no file
    system takes (empty, a NUL character)."""
    text = os.fspath(given)
    if not text.strip():
        raise OutputError("--out is empty")
    if "\0" in text:
        raise OutputError(f"{shown(text)}: a path cannot contain a NUL character")
    return Path(os.path.abspath(os.path.expanduser(text)))


def slug(name: str, limit: int = 64) -> str:
    """A file name made from `name` (e.g. a case's, for reports/run-NAME), safe for any string:
    only [A-Za-z0-9._-], no leading dot or dash, at most `limit` characters. Where that is not
    `name` itself, it ends in `-` and 8 hex digits of the name's SHA-256, so two names do not
    share one; a name kept as it is never ends so."""
    kept = re.sub(r"[^A-Za-z0-9._-]+", "-", name).lstrip(".-")
    if kept == name and 0 < len(kept) <= limit and not re.search(r"-[0-9a-f]{8}$", kept):
        return kept
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{kept[: limit - 9] or 'case'}-{digest}"


def marker_text(kind: str) -> str:
    what = _WHAT.get(kind, "bpcheck rewrites it")
    return f"bpcheck {kind}\nThis directory was written by `bpcheck {kind}`; {what}.\n"


def written_by(folder: Path) -> str | None:
    """The command whose marker `folder` holds ("report", "run", "bench"), or None: no marker
    (a regular file whose first line is `bpcheck <command>`)."""
    try:
        if not stat.S_ISREG(os.lstat(folder / MARKER).st_mode):
            return None
        with open(folder / MARKER, encoding="utf-8") as f:
            first = f.readline(200).split()
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return first[1] if len(first) == 2 and first[0] == "bpcheck" else None


def marked(folder: Path, kind: str) -> bool:
    """Whether `folder` holds the marker of `bpcheck <kind>`."""
    return written_by(folder) == kind


def _not_ours(out: Path, kind: str) -> str:
    other = written_by(out)
    if other is not None:
        return f"{shown(out)} was written by bpcheck {other}, not bpcheck {kind}"
    return f"{shown(out)} exists and holds files bpcheck {kind} did not write (it has no {MARKER})"


def _probe(folder: Path) -> None:
    """Make (and remove again) a temporary directory in `folder`, and the directories above it
    that are missing: OutputError now, before the work, where writing there would fail after it."""
    made: list[Path] = []
    try:
        made = _make_directories(folder)
        os.rmdir(tempfile.mkdtemp(dir=folder, prefix=".bpcheck-probe-"))
    except OSError as err:
        raise OutputError(f"cannot write in {shown(folder)}: {err.strerror or err}") from None
    finally:
        _undo(made)


def _stat(out: Path) -> os.stat_result | None:
    """out's status, or None where it does not exist; OutputError where it cannot be known."""
    try:
        return os.stat(out)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise OutputError(f"{shown(out)}: part of the path is a file, not a directory") from None
    except OSError as err:
        raise OutputError(f"{shown(out)}: {err.strerror or err}") from None


def _holds_cwd(out: Path) -> bool:
    try:
        here, there = os.path.realpath(os.getcwd()), os.path.realpath(out)
    except OSError:
        return False
    return here == there or here.startswith(there.rstrip(os.sep) + os.sep)


def check_replace(out: Path, kind: str = "report", force: bool = False) -> str:
    """How `bpcheck <kind>` may write its directory `out` ("new": it does not exist; "empty":
    an empty directory, written into; "replace": with `force`, a directory a previous
    `bpcheck <kind>` wrote, not holding the current directory), after checking that it can be
    written; OutputError otherwise."""
    st = _stat(out)
    how = "new"
    if st is not None:
        if not stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{shown(out)} exists and is not a directory; choose another --out")
        if not _listing(out):
            how = "empty"
        elif not marked(out, kind):
            raise OutputError(f"{_not_ours(out, kind)}, so even --force will not replace it; choose another --out")
        elif not force:
            raise Exists(f"{shown(out)} exists; use --force to replace it, or --out DIR")
        elif _holds_cwd(out):
            raise OutputError(f"{shown(out)} is or holds the current directory; run elsewhere or choose another --out")
        else:
            how = "replace"
    _probe(out if how == "empty" else out.parent)
    return how


def check_into(out: Path, kind: str, legacy: Callable[[Path], bool] | None = None) -> None:
    """OutputError unless `bpcheck <kind>` may write its files into `out`: it does not exist, is
    an empty directory, holds the marker of `bpcheck <kind>`, or (`legacy`) what an older version
    wrote there, before directories had the marker; and it can be written."""
    st = _stat(out)
    if st is not None:
        if not stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{shown(out)} exists and is not a directory; choose another --out")
        if _listing(out) and not marked(out, kind) and not (legacy is not None and legacy(out)):
            raise OutputError(f"{_not_ours(out, kind)}; choose another --out (a new or empty directory)")
    _probe(out)


def _listing(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError as err:
        raise OutputError(f"{shown(folder)}: {err.strerror or err}") from None


def _make_directories(folder: Path) -> list[Path]:
    """mkdir -p, returning the directories made (outermost first), to undo on failure."""
    missing = []
    while not os.path.lexists(folder):
        missing.append(folder)
        folder = folder.parent
    for d in reversed(missing):
        os.mkdir(d, DIRECTORY_MODE)
    return list(reversed(missing))


def _undo(made: list[Path]) -> None:
    for d in reversed(made):
        try:
            os.rmdir(d)
        except OSError:
            pass


def _write(path: Path, content: str | bytes, fd: int | None = None) -> None:
    """A new file (or the open descriptor `fd` of one), mode FILE_MODE under the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666) if fd is None else fd
    with os.fdopen(fd, "wb") as f:
        f.write(content.encode() if isinstance(content, str) else content)
        f.flush()
        os.fchmod(f.fileno(), file_mode())
        os.fsync(f.fileno())


def _failed(out: Path, err: OSError) -> OutputError:
    return OutputError(f"cannot write {shown(out)}: {err.strerror or err}")


def write_directory(out: Path, files: Mapping[str, str | bytes], force: bool = False, kind: str = "report") -> None:
    """Write `files` and the marker into a temporary sibling directory, then rename it into
    place. An interruption before the rename leaves the previous report intact; with `force`,
    a directory a previous `bpcheck <kind>` wrote (check_replace) is renamed aside first and
    removed after (between those two renames, a kill leaves it as `.NAME.old-*` beside `out`).
    An existing empty directory is written into (write_files). Failure to write is an
    OutputError, with nothing left behind."""
    out = Path(os.path.abspath(out))
    if check_replace(out, kind, force) == "empty":
        write_files(out, files, kind)
        return
    made: list[Path] = []
    tmp: Path | None = None
    aside: Path | None = None
    try:
        made = _make_directories(out.parent)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name[:40]}.tmp-"))
        for name, content in {**files, MARKER: marker_text(kind)}.items():
            _write(tmp / name, content)
        tmp.chmod(DIRECTORY_MODE & ~umask())
        if os.path.lexists(out):
            aside = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name[:40]}.old-"))
            os.replace(out, aside / "old")
            try:
                os.replace(tmp, out)
            except BaseException:
                os.replace(aside / "old", out)
                raise
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException as err:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if aside is not None and not (aside / "old").exists():
            shutil.rmtree(aside, ignore_errors=True)
        _undo(made)
        if isinstance(err, OSError):
            raise _failed(out, err) from None
        raise


def write_files(
    out: Path, files: Mapping[str, str | bytes], kind: str, legacy: Callable[[Path], bool] | None = None
) -> None:
    """Write `files` and the marker into the directory `out` (made if missing; check_into says
    where it may be): each into a temporary file first, then all renamed into place, the files
    they replace kept (hard links) until the last rename, so a failure changes none of them.
    Failure to write is an OutputError, with nothing left behind."""
    out = Path(os.path.abspath(out))
    check_into(out, kind, legacy)
    made: list[Path] = []
    temps: dict[str, str] = {}
    kept: dict[str, str | None] = {}  # name -> a link to the file it replaces (None: there was none)
    replaced: list[str] = []
    try:
        made = _make_directories(out)
        for name, content in {**files, MARKER: marker_text(kind)}.items():
            fd, temps[name] = tempfile.mkstemp(dir=out, prefix=f".{name}.")
            _write(Path(temps[name]), content, fd)
        for name, tmp in temps.items():
            kept[name] = _keep(out / name)
            os.replace(tmp, out / name)
            replaced.append(name)
    except BaseException as err:
        for name in replaced:  # back as they were
            link = kept.pop(name)
            try:
                if link is None:
                    (out / name).unlink(missing_ok=True)
                else:
                    os.replace(link, out / name)
            except OSError:
                pass
        for leftover in [*temps.values(), *(link for link in kept.values() if link is not None)]:
            Path(leftover).unlink(missing_ok=True)
        _undo(made)
        if isinstance(err, OSError):
            raise _failed(out, err) from None
        raise
    for link in kept.values():
        if link is not None:
            Path(link).unlink(missing_ok=True)


def _keep(path: Path) -> str | None:
    """A hard link to `path` beside it (a copy where links are not supported), or None: no file."""
    if not os.path.lexists(path):
        return None
    fd, link = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.kept-")
    os.close(fd)
    os.unlink(link)
    try:
        os.link(path, link, follow_symlinks=False)
    except OSError:
        shutil.copy2(path, link, follow_symlinks=False)
    return link


def legacy_run(folder: Path) -> bool:
    """A directory an older `bpcheck run` wrote: results.json (a JSON list) and table.txt only."""
    try:
        names = set(os.listdir(folder))
        if not names or not names <= {"results.json", "table.txt"} or "results.json" not in names:
            return False
        with open(folder / "results.json", encoding="utf-8") as f:
            return isinstance(json.load(f), list)
    except (OSError, ValueError):
        return False


class Progress:
    """Progress on stderr. On a terminal, `[#####.....] 3/12 label  1:05 left`, redrawn in place.
    Elsewhere (a CI log, a pipe), plain lines `bpcheck: 3/12 label, 1:05 left`, only once the work
    has taken QUIET_FOR seconds and then at most one every LINE_EVERY seconds, so a quick command
    prints none. Nothing when quiet. The time left is elapsed / done * remaining, once one unit is done."""

    #: Plain lines start only after this many seconds (a command that quick needs no progress).
    QUIET_FOR = 2.0
    #: And come at most this often.
    LINE_EVERY = 10.0

    def __init__(
        self,
        total: int,
        quiet: bool = False,
        stream: TextIO | None = None,
        width: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.enabled = not quiet
        self.total, self.done, self.width = max(total, 1), 0, width
        self.clock, self.started = clock, clock()
        self.last_line: float | None = None  # when the last plain line was written

    def tick(self, label: str = "") -> None:
        self.done = min(self.done + 1, self.total)
        self.show(label)

    def eta(self) -> float | None:
        """Seconds left, from the pace so far (None before the first unit is done)."""
        if not self.done:
            return None
        return (self.clock() - self.started) / self.done * (self.total - self.done)

    def show(self, label: str = "") -> None:
        if not self.enabled:
            return
        if not self.tty:
            self._line(label)
            return
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        left = self.eta()
        when = "" if left is None or self.done == self.total else f"  {_clock(left)} left"
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:50]:<50}{when:<14}")
        self.stream.flush()

    def _line(self, label: str) -> None:
        now = self.clock()
        if now - self.started < self.QUIET_FOR or (
            self.last_line is not None and now - self.last_line < self.LINE_EVERY
        ):
            return
        self.last_line = now
        left = self.eta()
        when = "" if left is None or self.done == self.total else f", {_clock(left)} left"
        self.stream.write(f"bpcheck: {self.done}/{self.total}" + (f" {label[:60]}" if label else "") + when + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\r" + " " * (self.width + 80) + "\r")
            self.stream.flush()


def _clock(seconds: float) -> str:
    """1:05 (minutes:seconds), or 2:03:00 past an hour."""
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
