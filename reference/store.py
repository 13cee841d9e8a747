"""Files written whole or not at all, and the verified on-disk cache of exact values.

A cache entry is JSON: {"key": ..., "sha256": ..., "value": ...}, where sha256 is the digest
of the value's canonical JSON. An entry whose key or digest does not match, that cannot be
read, or whose value the caller finds malformed is never served: it is recomputed (and
rewritten), and the first such entry of a process is named once on stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

#: Results and caches are readable by everyone, like any file the user writes (not mkstemp's
#: 0600): this mode, less what the process's umask takes away (umask 077 gives 0600).
FILE_MODE = 0o644
#: The same for a directory bpcheck creates whole (a report directory).
DIRECTORY_MODE = 0o755


def umask() -> int:
    """The process's umask, read without changing it where Linux says it (/proc), else by
    setting and restoring it."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """FILE_MODE under the umask: what a written file gets."""
    return FILE_MODE & ~umask()


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write to a temporary file in the same folder, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:40]}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)
            os.fchmod(f.fileno(), file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cache_root() -> Path | None:
    """Where computed exact values are kept between runs; BPCHECK_ORACLE_CACHE=off disables
    it, =DIR moves it (default $XDG_CACHE_HOME or ~/.cache, then backprop-crosscheck/)."""
    setting = os.environ.get("BPCHECK_ORACLE_CACHE", "")
    if setting == "off":
        return None
    base = Path(setting) if setting else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "backprop-crosscheck"


def _path(folder: str, key: str) -> Path | None:
    root = cache_root()
    return None if root is None else root / folder / f"{key}.json"


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


_warned: list[str] = []


def _warn(path: Path, why: str) -> None:
    if not _warned:
        print(f"bpcheck: cache entry {path} {why}; recomputed, not served", file=sys.stderr)
    _warned.append(str(path))


def finite_numbers(values: Any) -> bool:
    """Whether `values` (a cache entry's dict or list) is non-empty and every item a decimal
    string of a finite number: what the exact values are stored as."""
    items = values.values() if isinstance(values, dict) else values if isinstance(values, list) else None
    if not items:
        return False
    try:  # Decimal, not float: an exact value beyond float64's range (1e+500, an overflow's) is finite
        return all(isinstance(v, str) and Decimal(v).is_finite() for v in items)
    except ArithmeticError:
        return False


def load(folder: str, key: str, valid: Callable[[Any], bool]) -> Any | None:
    """The cached value of `key` in the cache's `folder`, or None (absent, or not trusted)."""
    path = _path(folder, key)
    if path is None or not path.exists():
        return None
    try:
        entry = json.loads(path.read_text())
        ok = isinstance(entry, dict) and entry.get("key") == key and entry.get("sha256") == digest(entry.get("value"))
        if ok and valid(entry["value"]):
            return entry["value"]
        _warn(path, "does not match its key and digest")
    except (OSError, ValueError, TypeError, UnicodeDecodeError):
        _warn(path, "cannot be read")
    return None


def save(folder: str, key: str, value: Any) -> None:
    """Keeps `value` under `key`; a cache that cannot be written is only slower."""
    path = _path(folder, key)
    if path is None:
        return
    try:
        write_atomically(path, json.dumps({"key": key, "sha256": digest(value), "value": value}))
    except OSError:
        pass
