"""Writing a report directory as a whole, and the progress bar."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO


class Exists(FileExistsError):
    """The report directory exists and --force was not given."""


def write_directory(out: Path, files: dict[str, str | bytes], force: bool = False) -> None:
    """Write `files` into a temporary sibling directory, then rename it into place. An
    interruption before the rename leaves the previous report intact; with `force`, the old
    directory is renamed aside first and removed after (between those two renames, a kill
    leaves it as `.NAME.old-*` beside `out`)."""
    if out.exists() and not force:
        raise Exists(f"{out} exists; use --force to replace it, or --out DIR")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    aside: Path | None = None
    try:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            with open(tmp / name, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        tmp.chmod(0o755)
        if out.exists():
            aside = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
            os.replace(out, aside / out.name)
            try:
                os.replace(tmp, out)
            except BaseException:
                os.replace(aside / out.name, out)
                raise
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if aside is not None and not (aside / out.name).exists():
            shutil.rmtree(aside, ignore_errors=True)
        raise


class Progress:
    """`[#####.....] 3/12 label  1:05 left` on stderr, redrawn in place; silent unless stderr is a
    terminal and not quiet. The time left is elapsed / done * remaining, once one unit is done."""

    def __init__(
        self,
        total: int,
        quiet: bool = False,
        stream: TextIO | None = None,
        width: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self.total, self.done, self.width = max(total, 1), 0, width
        self.clock, self.started = clock, clock()

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
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        left = self.eta()
        when = "" if left is None or self.done == self.total else f"  {_clock(left)} left"
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:50]:<50}{when:<14}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * (self.width + 80) + "\r")
            self.stream.flush()


def _clock(seconds: float) -> str:
    """1:05 (minutes:seconds), or 2:03:00 past an hour."""
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
