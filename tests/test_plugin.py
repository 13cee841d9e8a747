"""The pytest plugin, as a framework author uses it: in a folder outside the checkout, on a
registered backend and on a deliberately wrong one of their own."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(folder), *args]
    return subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=300)


def test_a_correct_backend_passes_one_test_per_value(tmp_path):
    proc = _pytest(tmp_path, "--bpcheck-backend", "numpy", "--bpcheck-case", "mazur-2015", "--junitxml", "j.xml")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "126 passed" in proc.stdout  # 63 values x 2 dtypes
    assert 'name="numpy-float64-dE_total/dw5"' in (tmp_path / "j.xml").read_text()


def test_a_wrong_backend_fails_naming_the_quantity_and_k_selects(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    spec = "examples.wrong_weight_backend:WrongWeight"
    proc = _pytest(tmp_path, "--bpcheck-backend", spec, "--bpcheck-case", "mazur-2015", "-k", "dE_o2 or dw5")
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "FAILED bpcheck::mazur-2015::wrong-weight-float64-dE_o2/dout_h1" in proc.stdout
    assert "got -0.0171442" in proc.stdout and "exact -0.0190491" in proc.stdout and "ULPs of float64" in proc.stdout
    assert "1 failed, 3 passed, 4 skipped" in proc.stdout  # float32: the example refuses it (skipped, with why)


def test_without_an_option_it_collects_and_imports_nothing(tmp_path):
    (tmp_path / "test_x.py").write_text(
        "import sys\ndef test_x():\n    assert not {'torch', 'jax', 'bpcheck.engine'} & set(sys.modules)\n"
    )
    proc = _pytest(tmp_path)
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout[-3000:]


def test_a_bad_spec_is_a_usage_error(tmp_path):
    proc = _pytest(tmp_path, "--bpcheck-backend", "nosuch.module:X")
    assert proc.returncode == 4 and "cannot import nosuch.module" in proc.stderr, proc.stderr[-2000:]
