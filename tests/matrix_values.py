"""The matrix's values for the test session: each backend's, a dtype at a time, computed once per
run, when a test first asks for it.

Without pytest-xdist (`-n 0`) a backend's values in a dtype are computed in this process the
first time a test needs them and kept. Under pytest-xdist the workers share a folder the
controller made for the run: the first worker to need them takes their lock, computes them
(bpcheck.engine, in its own process) and writes them there; any other worker that needs them (a
pair of backends, the baseline diff) waits on the lock and reads them. So each is computed once
in the whole run, whatever `-n` is, and a worker imports only the frameworks it computes. Exact
values and allowances are computed once per process, from the oracle's disk cache (under xdist
one worker at a time per case, so a cold cache is filled once).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from bpcheck import backends, engine, matrix
from bpcheck.judge import Cell
from bpcheck.reference.case import Case
from bpcheck.reference.store import write_atomically


@dataclass(frozen=True)
class BackendValues:
    """One backend's probe (status, devices) and its values of every case in one dtype, cell by cell."""

    probe: engine.Probe
    values: dict[tuple[str, Cell], engine.Values]


class MatrixValues(Mapping[tuple[str, Cell], engine.Values]):
    """(case name, cell) -> that cell's values, computed lazily a backend and dtype at a time. A
    cell its backend could not compute here (the framework failed to load, the device is absent) skips
    the asking test with the reason."""

    def __init__(self, cases: Sequence[Case], names: Sequence[str], trajectories: bool, part: str, shared: Path | None):
        self.cases, self.names, self.trajectories = list(cases), list(names), trajectories
        self.part, self.shared = part, shared
        self._done: dict[str, BackendValues] = {}
        self._exact: dict[str, dict[str, Any]] = {}
        self._allowed: dict[str, dict[str, Any]] = {}

    def unit(self, name: str, dtype: str) -> BackendValues:
        """Every case of one backend in one dtype, computed once in the run."""
        key = f"{name}-{dtype}"
        if key not in self._done:
            with self._lock(key):
                found = self._read(key)
                if found is None:
                    found = self._compute(name, dtype)
                    if self.shared is not None:
                        write_atomically(self.shared / f"{key}.pickle", pickle.dumps(found))
            self._done[key] = found
        return self._done[key]

    def __getitem__(self, key: tuple[str, Cell]) -> engine.Values:
        case, cell = key
        found = self.unit(cell.backend, cell.dtype)
        if found.probe.status != "available":
            pytest.skip(f"{cell.backend} {found.probe.status}")
        if key not in found.values:
            if cell.device not in found.probe.devices:
                pytest.skip(f"{cell.id}: {found.probe.missing or 'no such device here'}")
            raise KeyError(key)
        return found.values[key]

    def __iter__(self) -> Iterator[tuple[str, Cell]]:
        for name in self.names:
            for dtype in matrix.DTYPES:
                yield from self.unit(name, dtype).values

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def exact(self, case: str) -> dict[str, Any]:
        """dtype -> the exact value of every target of `case`."""
        self._fill(case)
        return self._exact[case]

    def allowed(self, case: str) -> dict[str, Any]:
        """dtype -> how far every target of `case` may be from exact (reference/tolerance.py)."""
        self._fill(case)
        return self._allowed[case]

    def _fill(self, name: str) -> None:
        if name in self._exact:
            return
        case = next(c for c in self.cases if c.name == name)
        with self._lock(f"exact-{name}"):  # the first worker fills the oracle's disk cache, the rest read it
            self._allowed[name] = {dt: matrix.allowances(case, dt, self.trajectories) for dt in matrix.DTYPES}
            self._exact[name] = {dt: matrix.exact_values(case, dt, self.trajectories) for dt in matrix.DTYPES}

    def _lock(self, name: str) -> AbstractContextManager[Any]:
        return FileLock(self.shared / f"{name}.lock") if self.shared is not None else nullcontext()

    def _read(self, name: str) -> BackendValues | None:
        path = None if self.shared is None else self.shared / f"{name}.pickle"
        if path is None or not path.exists():
            return None
        found: BackendValues = pickle.loads(path.read_bytes())  # written by this run's own workers
        return found

    def _compute(self, name: str, dtype: str) -> BackendValues:
        run = engine.Engine(self.cases, [name], [dtype], jobs=1, trajectories=self.trajectories, part=self.part)
        probe = run.probes()[name]
        found = BackendValues(probe, run.result().values)
        if log := os.environ.get("BPCHECK_COMPUTED_LOG"):  # tests/test_parallel.py counts the computations
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"{name} {dtype} {os.getpid()}\n")
        return found


#: Where a GPU driver shows itself (NVIDIA's, AMD's ROCm): without one no framework sees a GPU.
GPU_DRIVERS = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/kfd")


def columns(name: str) -> engine.Probe:
    """A backend's columns as collection sees them (the engine's Probe: status, devices, and the
    accelerator this machine lacks, with why). A bundled framework backend's come from its
    declaration and the package metadata, with no import: the collection must be quick and the
    same in every xdist worker; a GPU column is collected where a GPU driver is present, and a
    test then skips if the framework finds no device. Any other backend (numpy-only, a plug-in
    named by --backends) is probed here."""
    decl = backends.declared(name)
    if name not in backends.bundled() or not decl.distributions:
        return engine.probe(name)
    missing = [d for d, v in backends.installed(decl).items() if v is None]
    if missing:
        return engine.Probe(name, f"unavailable: {', '.join(missing)} not installed")
    if decl.accelerator is None:
        return engine.Probe(name, "available", ("cpu",))
    if any(Path(p).exists() for p in GPU_DRIVERS):
        return engine.Probe(name, "available", ("cpu", decl.accelerator))
    why = f"no GPU driver on this machine (none of {', '.join(GPU_DRIVERS)})"
    return engine.Probe(name, "available", ("cpu",), decl.accelerator, why)


class ByCase(Mapping[str, dict[str, Any]]):
    """case name -> dtype -> exact values (or allowances), each case filled when first asked."""

    def __init__(self, source: MatrixValues, what: str):
        self.source, self.what = source, what

    def __getitem__(self, name: str) -> dict[str, Any]:
        if not any(c.name == name for c in self.source.cases):
            raise KeyError(name)
        return self.source.exact(name) if self.what == "exact" else self.source.allowed(name)

    def __iter__(self) -> Iterator[str]:
        return iter(c.name for c in self.source.cases)

    def __len__(self) -> int:
        return len(self.source.cases)
