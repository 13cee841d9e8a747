"""The suite under pytest-xdist: `--dist loadgroup` keeps a group in one worker (a pytest or
pytest-xdist upgrade that breaks it would otherwise only make the suite slower, silently), and
each backend's values in each dtype are computed once in the run, whichever worker asks first."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

GROUPED = """
import os, pytest

@pytest.mark.xdist_group("{group}")
@pytest.mark.parametrize("i", range(6))
def test_in_group(i, tmp_path_factory):
    with open(os.environ["WHERE"], "a") as f:
        f.write("{group} " + os.environ["PYTEST_XDIST_WORKER"] + "\\n")
"""


def _pytest(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_group_runs_in_one_worker(tmp_path: Path) -> None:
    for group in ("alpha", "beta", "gamma"):
        (tmp_path / f"test_{group}.py").write_text(GROUPED.format(group=group))
    where = tmp_path / "where.txt"
    done = _pytest(["-n", "2", "--dist", "loadgroup", "-o", "addopts="], tmp_path, {"WHERE": str(where)})
    assert done.returncode == 0, done.stdout + done.stderr
    seen = Counter(tuple(line.split()) for line in where.read_text().splitlines())
    workers = {group: {w for g, w in seen if g == group} for group, _ in seen}
    assert sum(seen.values()) == 18
    assert all(len(w) == 1 for w in workers.values()), f"a group ran in several workers: {workers}"


@pytest.mark.slow  # three pytest runs of a piece of the matrix: ~15 s
@pytest.mark.parametrize("workers", ["0", "2", "4"])
def test_each_backend_is_computed_once_in_the_run(workers: str, tmp_path: Path) -> None:
    """Pairs make a worker need another group's backend: it reads it rather than computing it."""
    log = tmp_path / "computed.txt"
    args = ["-n", workers, "--backends=reference,numpy", "--cases=xor-h2,batch-sum", "--no-trajectories"]
    done = _pytest([*args, "tests/test_cases.py", "tests/test_matrix.py"], ROOT, {"BPCHECK_COMPUTED_LOG": str(log)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    computed = Counter(tuple(line.split()[:2]) for line in log.read_text().splitlines())
    assert computed == {(b, dt): 1 for b in ("reference", "numpy") for dt in ("float64", "float32")}, computed
