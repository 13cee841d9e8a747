"""What a result depends on besides the code: Python, OS, CPU, framework versions, BLAS, devices,
threads, precision settings, the git commit and the time. Framework settings are read after the
project's backend has loaded the framework, so they are the settings the backend computes with."""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from bpcheck import backends
from bpcheck.backends import faults

#: Distributions whose versions matter to the numbers (or to the pictures): the ones the bundled
#: backends declare, and these.
PACKAGES = ("numpy", "mpmath", "gmpy2", "matplotlib")
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "XLA_FLAGS")
#: Variables that override which SIMD kernels NumPy, OpenBLAS, torch and oneDNN (TensorFlow) pick.
SIMD_VARS = (
    "NPY_DISABLE_CPU_FEATURES",
    "NPY_ENABLE_CPU_FEATURES",
    "OPENBLAS_CORETYPE",
    "ATEN_CPU_CAPABILITY",
    "ONEDNN_MAX_CPU_ISA",
    "DNNL_MAX_CPU_ISA",
)


def capture(names: list[str] | None = None) -> dict[str, Any]:
    """The environment; framework settings only for the backends in `names` (default: all)."""
    names = backends.names() if names is None else names
    env: dict[str, Any] = {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "tool_version": tool_version(),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "os": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "thread_env": {v: os.environ[v] for v in THREAD_VARS if v in os.environ},
        "versions": versions(),
        "blas": numpy_blas(),
        "backends": {},
    }
    for name in names:
        env["backends"][name] = backend_settings(name)
    env["cpu_features"] = cpu_features()  # after the settings: a framework they imported is asked too
    return env


def versions() -> dict[str, str | None]:
    declared = [pkg for name in backends.bundled() for pkg in backends.declaration(name).distributions]
    out: dict[str, str | None] = {}
    for pkg in dict.fromkeys([*declared, *PACKAGES]):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def tool_version() -> str | None:
    """The installed backprop-crosscheck's version (package metadata), None when not installed."""
    try:
        return metadata.version("backprop-crosscheck")
    except metadata.PackageNotFoundError:
        return None


def own_checkout() -> Path | None:
    """The git checkout this code runs from, or None: an installed copy (site-packages) is not one,
    even inside someone else's repository, nor is a folder whose top level is not this project's."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or 'name = "backprop-crosscheck"' not in _read(root / "pyproject.toml"):
        return None
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return root if Path(top).resolve() == root else None


def git_commit() -> str | None:
    """HEAD of the tool's own checkout, with `-dirty` when its working tree has changes; None
    for an installed copy or outside a git checkout."""
    root = own_checkout()
    if root is None:
        return None
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_features() -> dict[str, Any]:
    """The SIMD features the frameworks compute with, as they see them: NumPy's enabled CPU
    features (its ufunc kernels dispatch on them), the dispatch targets among them, OpenBLAS's
    kernel set, torch's capability (only if torch is imported already: importing it takes a
    second) and the variables that override them. Another CPU or override can move float32
    values by a few ULPs (bpcheck/reporting/diff.py)."""
    try:
        umath = importlib.import_module("numpy._core._multiarray_umath")
    except ImportError:  # NumPy 1.x
        umath = importlib.import_module("numpy.core._multiarray_umath")
    enabled = umath.__cpu_features__
    out: dict[str, Any] = {
        "numpy": sorted(f for f, on in enabled.items() if on),
        "numpy_dispatch": [f for f in umath.__cpu_dispatch__ if enabled.get(f)],
        "openblas": openblas_core(),
        "env": {v: os.environ[v] for v in SIMD_VARS if v in os.environ},
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            out["torch"] = torch.backends.cpu.get_cpu_capability()
        except Exception as err:  # a partly imported or very old torch
            out["torch"] = f"unknown ({type(err).__name__})"
    return out


def openblas_core() -> str | None:
    """The kernel set NumPy's OpenBLAS picked for this CPU at load time (`blas.config` names the
    build's target only); None where NumPy bundles no OpenBLAS that says."""
    import ctypes

    import numpy as np

    here = Path(np.__file__).parent
    for lib in sorted([*here.parent.glob("numpy.libs/libscipy_openblas*"), *here.glob(".dylibs/libscipy_openblas*")]):
        try:
            handle = ctypes.CDLL(str(lib))  # the copy NumPy loaded: same path, same handle
        except OSError:
            continue
        for symbol in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename"):
            corename = getattr(handle, symbol, None)
            if corename is not None:
                corename.restype = ctypes.c_char_p
                return corename().decode()
    return None


def numpy_blas() -> dict[str, Any]:
    import numpy as np

    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]  # type: ignore[index]
        blas = deps.get("blas", {})
        return {"name": blas.get("name"), "version": blas.get("version"), "config": blas.get("openblas configuration")}
    except Exception as err:  # numpy's config format is not a stable API
        return {"error": str(err)}


def backend_settings(name: str) -> dict[str, Any]:
    """status, devices and the framework's precision and thread settings."""
    status = backends.status(name)
    out: dict[str, Any] = {"status": status}
    if status != "available":
        return out
    try:  # a plug-in's own code: whatever it raises is recorded, not a crash (backends/faults.py)
        out["devices"] = backends.get(name).devices()
        out.update(backends.declaration(name).read_settings())
    except BaseException as err:
        if faults.genuine(err):
            raise
        out["settings_error"] = faults.describe(err)
    return out
