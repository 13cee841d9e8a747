"""The pytest plugin (entry point `pytest11`): the matrix on your own backend, in your own suite.

    pytest --bpcheck-backend mypkg.mod:MyBackend [--bpcheck-case mazur-2015] [--bpcheck-dtype float64]

collects one test per case x dtype (x device) x quantity, e.g.
`bpcheck::mazur-2015::MyBackend-float64-dE_total/dw5`; `-k`, `-m bpcheck` and `--junitxml` work
as for any test. A failure names the cell, the value got, the exact value and the distance in
ULPs against its bound (bpcheck/judge.py). Without a `--bpcheck-backend` option the plugin
collects nothing and imports nothing beyond this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

MARKER = "bpcheck"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bpcheck", "backprop-crosscheck: check a backend against the exact backprop")
    group.addoption(
        "--bpcheck-backend",
        action="append",
        default=[],
        metavar="SPEC",
        help="a backend to check: package.module:Object or a registered name (repeatable)",
    )
    group.addoption("--bpcheck-case", action="append", default=[], help="only this case (name or .toml; repeatable)")
    group.addoption("--bpcheck-dtype", action="append", default=[], help="only this dtype: float64, float32")
    group.addoption(
        "--bpcheck-no-trajectories", action="store_true", help="leave out the values that need training runs"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: a backprop-crosscheck value (the --bpcheck-* options)")


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    specs = config.getoption("bpcheck_backend")
    if specs:
        items.extend(item for spec in specs for item in _collect(session, spec))


class BpcheckFailure(AssertionError):
    """A value the judge did not pass; the message is the record's description."""


class BpcheckItem(pytest.Item):
    """One value: a case x cell x quantity, judged when run."""

    def __init__(self, *, run: _Run, key: tuple[str, str, str, str], **kwargs: Any):
        super().__init__(**kwargs)
        self.run, self.key = run, key
        self.add_marker(MARKER)

    def runtest(self) -> None:
        record = self.run.records().get(self.key)
        if record is None:
            raise BpcheckFailure(f"{self.name}: the backend produced no record for this value")
        if (record.error or "").startswith("NotImplementedError"):
            pytest.skip(f"the backend does not do this ({record.error})")
        if record.failed:
            raise BpcheckFailure(record.describe())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, BpcheckFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, int, str]:
        return self.path, None, self.name  # type: ignore[return-value]


class _Run:
    """The engine's run over every selected case and dtype, made once, on first use."""

    def __init__(self, backend: Any, cases: list[Any], dtypes: list[str], trajectories: bool):
        self.backend, self.cases, self.dtypes, self.trajectories = backend, cases, dtypes, trajectories
        self._records: dict[tuple[str, str, str, str], Any] | None = None

    def records(self) -> dict[tuple[str, str, str, str], Any]:
        if self._records is None:
            from bpcheck import engine

            jobs = None if isinstance(self.backend, str) else 1  # an object is used in this process
            outcome = engine.crosscheck(
                self.cases, [self.backend], self.dtypes, jobs=jobs, trajectories=self.trajectories
            )
            self._records = {(r.case, r.dtype, r.device, r.quantity): r for r in outcome.records}
        return self._records


def _collect(session: pytest.Session, spec: str) -> Iterator[BpcheckItem]:
    from bpcheck import backends, engine, matrix
    from bpcheck.api import load_case
    from bpcheck.reference.case import CaseError, bundled_cases
    from bpcheck.verify.implementation import LoadError, load_backend

    config = session.config
    try:
        backend: Any = spec if spec in backends.names() else load_backend(spec)
        cases = [load_case(c) for c in (config.getoption("bpcheck_case") or bundled_cases())]
    except (LoadError, CaseError) as err:
        raise pytest.UsageError(f"--bpcheck: {err}") from None
    dtypes = config.getoption("bpcheck_dtype") or list(matrix.DTYPES)
    for dt in dtypes:
        if dt not in matrix.DTYPES:
            raise pytest.UsageError(f"--bpcheck-dtype: unknown dtype {dt!r}; valid: {', '.join(matrix.DTYPES)}")
    found = engine.probe(backend)
    if found.status != "available":
        raise pytest.UsageError(f"--bpcheck-backend {spec}: {found.status}")
    trajectories = not config.getoption("bpcheck_no_trajectories")
    run = _Run(backend, cases, dtypes, trajectories)
    for case in cases:
        for dt in dtypes:
            for device in found.devices:
                cell = matrix.Cell(found.name, dt, device)
                for t in matrix.targets(case, trajectories):
                    yield BpcheckItem.from_parent(
                        session,
                        name=f"{cell.id}-{t.quantity}",
                        nodeid=f"bpcheck::{case.name}::{cell.id}-{t.quantity}",
                        run=run,
                        key=(case.name, dt, device, t.quantity),
                    )
