"""Writing a report directory as a whole, and the progress bar."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
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
    """`[#####.....] 3/12 label` on stderr, redrawn in place; silent unless stderr is a terminal
    and not quiet."""

    def __init__(self, total: int, quiet: bool = False, stream: TextIO | None = None, width: int = 30):
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self.total, self.done, self.width = max(total, 1), 0, width

    def tick(self, label: str = "") -> None:
        self.done = min(self.done + 1, self.total)
        self.show(label)

    def show(self, label: str = "") -> None:
        if not self.enabled:
            return
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:50]:<50}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * (self.width + 65) + "\r")
            self.stream.flush()
