"""No framework writes to the user's terminal: on every command that loads the frameworks, each
stderr line is bpcheck's own (TensorFlow's absl and oneDNN lines, JAX's and torch's warnings
would not be). In the slow part: each command imports TensorFlow, torch and JAX in fresh processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = "tensorflow,jax-jit,torch,autograd"
#: How bpcheck's own stderr lines begin (errors, progress, notes, where files went).
OURS = ("bpcheck: ", "bpcheck ", "report: ", "written: ", "left out ", "not run: ")

COMMANDS = [
    ["run", "--backend", FRAMEWORKS, "--dtype", "float32", "--no-trajectories", "--no-report"],
    ["backends", "--probe"],
    ["explain", "dE_total/dw5", "--backend", FRAMEWORKS],
    ["report", "--backend", FRAMEWORKS, "--dtype", "float64", "--no-trajectories", "--steps", "20", "--quiet"],
    ["verify", "--backend", "tensorflow", "--case", "mazur-2015", "--no-trajectories"],
]


@pytest.mark.slow
@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0] + ("-probe" if "--probe" in a else ""))
def test_no_framework_line_reaches_stderr(argv, tmp_path):
    argv = [*argv, "--out", str(tmp_path / "out")] if argv[0] == "report" else argv
    done = subprocess.run(
        [sys.executable, "-m", "bpcheck.cli", *argv], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    foreign = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith(OURS)]
    assert not foreign, f"bpcheck {' '.join(argv)}: lines not bpcheck's own on stderr: {foreign[:5]}"
