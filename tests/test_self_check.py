"""The harness tests itself: the matrix run on deliberately wrong backends must fail, at the
quantities each mistake touches, and pass elsewhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.broken_backends import BROKEN

#: Its module-scoped fixtures are computed once: pytest-xdist (--dist loadgroup) keeps the file in one worker.
pytestmark = pytest.mark.xdist_group("self-check")

ROOT = Path(__file__).resolve().parents[1]


def start_broken_run() -> subprocess.Popen[str]:
    """The matrix on the three broken backends, in a pytest of its own (started early by
    conftest.py so that it runs beside the rest of the suite)."""
    names = ",".join(BROKEN)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rf",
            f"--backends={names}",
            "--no-trajectories",
            "tests/test_matrix.py",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="module")
def broken_run(request: pytest.FixtureRequest) -> tuple[int, set[str], str]:
    proc = getattr(request.config, "_broken_run", None) or start_broken_run()
    out, _ = proc.communicate(timeout=300)
    failed = set(re.findall(r"^FAILED tests/test_matrix.py::(\S+)", out, re.MULTILINE))
    return proc.returncode, failed, out


def test_broken_backends_make_the_matrix_fail(broken_run):
    code, failed, out = broken_run
    assert code == 1, f"pytest exited {code}, not 1:\n{out[-3000:]}"
    assert failed


@pytest.mark.parametrize(
    "test_id",
    [
        "test_exact[broken-no-sigmoid-derivative-float64-delta_o1]",
        "test_exact[broken-no-sigmoid-derivative-float32-dE_total/dw5]",
        "test_published[broken-no-sigmoid-derivative-float64-dE_total/dw5]",
        "test_exact[broken-float32-inside-float64-out_h1]",
        "test_exact[broken-float32-inside-float64-dE_total/dw1]",
        "test_exact[broken-wrong-weight-float64-dE_o2/dout_h1]",
        "test_published[broken-wrong-weight-float64-dE_o2/dout_h1]",
        "test_exact[broken-wrong-weight-float64-dE_total/dw1]",
    ],
)
def test_each_mistake_is_caught_where_it_is(broken_run, test_id):
    assert test_id in broken_run[1], f"{test_id} did not fail"


@pytest.mark.parametrize(
    "test_id",
    [
        "test_exact[broken-no-sigmoid-derivative-float64-out_o1]",
        "test_exact[broken-float32-inside-float32-out_h1]",
        "test_exact[broken-wrong-weight-float64-dE_o1/dout_h1]",
        "test_exact[broken-wrong-weight-float64-dE_total/dw5]",
    ],
)
def test_right_quantities_still_pass(broken_run, test_id):
    """The failures are where the mistakes are, not everywhere."""
    assert test_id not in broken_run[1]


def test_failure_message_names_cell_values_and_ulps(broken_run):
    out = broken_run[2]
    line = next(x for x in out.splitlines() if "AssertionError: broken-wrong-weight-float64 dE_o2/dout_h1" in x)
    assert "got -0.0171442" in line and "exact -0.0190491" in line and "allowed " in line and "error model" in line, (
        line
    )
