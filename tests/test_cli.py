"""`bpcheck`: the table, the JSON records, exit statuses and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bpcheck.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"case", "backend", "dtype", "device", "quantity", "value", "exact", "ulps", "published", "verdict", "config"}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_records(capsys, tmp_path):
    code, out, _ = run(
        capsys,
        "run",
        "--case",
        "mazur-2015",
        "--backend",
        "numpy",
        "--dtype",
        "float64",
        "--json",
        "--out",
        str(tmp_path),
        "--jobs",
        "1",
    )
    assert code == 0
    records = json.loads(out)
    assert FIELDS <= set(records[0])
    assert {r["backend"] for r in records} == {"numpy"}
    assert {r["dtype"] for r in records} == {"float64"}
    w5 = next(r for r in records if r["quantity"] == "w5+" and r["backend"] == "numpy" and r["dtype"] == "float64")
    assert w5["published"] == "0.35891648" and w5["verdict"] == "reproduced" and w5["config"] == "as-written"
    e = next(r for r in records if r["quantity"] == "E_total@10000" and r["dtype"] == "float64")
    assert e["config"] == "as-written" and e["measured"] == "loss-of-last-step"
    assert {r["verdict"] for r in records if r["published"] is None} == {"pass"}
    assert json.loads((tmp_path / "results.json").read_text()) == records
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_table(capsys, tmp_path):
    code, out, _ = run(
        capsys,
        "run",
        "--backend",
        "reference",
        "--dtype",
        "float32",
        "--out",
        str(tmp_path),
        "--jobs",
        "1",
        "--no-trajectories",
    )
    assert code == 0
    assert "mazur-2015  float32  cpu" in out and "reference" in out and "printed" in out
    row = next(line for line in out.splitlines() if line.startswith("dE_o2/dout_h1 "))
    assert "-0.019049119 \u2713" in row  # the printed figure, reproduced
    assert "mazur-2015  float32  cpu" in (tmp_path / "table.txt").read_text()


def test_a_failing_backend_exits_1(capsys, tmp_path):
    code, out, _ = run(
        capsys,
        "run",
        "--backend",
        "broken-wrong-weight",
        "--dtype",
        "float64",
        "--no-report",
        "--jobs",
        "1",
        "--no-trajectories",
    )
    assert code == 1
    assert "FAIL" in next(line for line in out.splitlines() if line.startswith("dE_o2/dout_h1 "))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--backend", "mxnet"], "unknown backend 'mxnet'; valid: reference, numpy, torch, torch-func"),
        (["run", "--dtype", "float16"], "unknown dtype 'float16'; valid: float64, float32"),
        (["run", "--case", "mazur-2016"], "unknown case 'mazur-2016'; valid: batch-mean, batch-sum"),
        (["run", "--case", "missing.toml"], "missing.toml: no such file"),
        (["run", "--jobs", "zero"], "argument --jobs: invalid int value: 'zero'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and message in err and err.startswith("bpcheck: error: "), err


def test_console_script_bad_input_has_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "bpcheck.cli", "run", "--backend", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stdout == ""


def test_backends_and_cases_commands(capsys):
    code, out, _ = run(capsys, "backends")
    assert code == 0 and "reference: available" in out and "numpy: installed  (numpy 2." in out
    code, out, _ = run(capsys, "cases")
    assert code == 0 and "mazur-2015: A Step by Step Backpropagation Example" in out and "xor-h5: " in out
    assert "    Do you get the post's numbers?" in out  # each case's question, indented under its title


def test_backends_imports_no_framework_and_names_the_extra_for_what_is_missing():
    """`bpcheck backends` answers from package metadata (no framework import); a backend whose
    distribution is missing is unavailable, with the pip extra that installs it."""
    code = """
import sys
from importlib import metadata
real = metadata.version
def version(dist):
    if dist == "torch":
        raise metadata.PackageNotFoundError(dist)
    return real(dist)
metadata.version = version
from bpcheck import cli
cli.main(["backends"])
heavy = [m for m in ("torch", "jax", "tensorflow", "autograd") if m in sys.modules]
print("imported:", heavy)
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = proc.stdout.splitlines()
    assert "imported: []" in lines, proc.stdout
    torch = next(line for line in lines if line.startswith("torch: "))
    assert torch.startswith("torch: unavailable: torch not installed") and "[torch]'" in torch, torch
    assert any(line.startswith("jax: installed  (jax 0.") for line in lines), proc.stdout


def test_version_option_prints_the_package_version(capsys):
    from importlib import metadata

    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith(f"bpcheck {metadata.version('backprop-crosscheck')}")


def test_what_a_run_leaves_out_without_slow_is_said():
    from bpcheck.cliutil import left_out

    note = left_out(["numpy", "torch", "jax", "torch-compile"], slow=False)
    assert note.startswith("left out without --slow: ") and "jax (slow: eager JAX" in note
    assert "torch-compile (slow: torch.compile" in note and "the long training runs of torch" in note
    assert "numpy" not in note and left_out(["numpy", "torch"], slow=True) == ""
