"""`bpcheck verify` as a command: exit statuses, --json, one-line errors, your own backend,
and backends found through entry points."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from bpcheck import backends
from bpcheck.cli import main

ROOT = Path(__file__).resolve().parents[1]
POST = str(ROOT / "examples/values/mazur-2015-post.values")
TANER = str(ROOT / "examples/values/taner-unal.values")


def verify(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["verify", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_post_values_pass_but_the_misrounded_figure(capsys):
    code, out, _ = verify(capsys, POST)
    assert code == 1 and "29 values: 28 ok, 1 wrong, 0 carried, 0 too coarse" in out
    assert "first wrong value: dE_o2/dout_h1" in out and "is the source's printed figure" in out


def test_json_of_a_wrong_file(capsys):
    code, out, _ = verify(capsys, TANER, "--json")
    doc = json.loads(out)
    assert code == 1
    assert set(doc) == {
        "case",
        "config",
        "values",
        "summary",
        "first_wrong",
        "consequential",
        "independent",
        "rounding",
        "too_coarse",
        "convention",
        "diagnoses",
        "quantities",
        "diagnosis",
        "not_applicable",
        "notes",
    }
    assert doc["case"] == "mazur-2015" and doc["config"] == "as-written" and doc["first_wrong"] == "dE_o2/dout_h1"
    assert doc["summary"] == {"checked": 21, "ok": 20, "wrong": 1, "carried": 0, "too-coarse": 0, "rounding": 0}
    row = next(q for q in doc["quantities"] if q["status"] != "ok")
    assert row["given"] == "-0.017144288" and row["nearest"] == ["w6-for-w7", "transposed-output-weights"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("net_h1 0.3775", "expected 'quantity = value'"),
        ("net_h 0.3775 = 1", "unknown quantity"),
        ("dE_o2/dout_h = -0.017", "did you mean dE_o2/dout_h2, dE_o2/dout_h1"),
        ("net_h1 = abc", "expected a decimal number"),
        ("net_h1 = nan", "expected a finite number"),
        ("net_h1 = 0.3775\nnet_h1 = 0.3775", "given twice (first on line 1)"),
        ("# nothing\n", "no values"),
        ("E_total@10000 = 0.0000351085", "unknown quantity"),
    ],
)
def test_bad_values_files_are_one_line_errors(capsys, tmp_path, content, message):
    path = tmp_path / "mine.values"
    path.write_text(content)
    code, out, err = verify(capsys, str(path))
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give either a values file or --backend"),
        ([POST, "--backend", "numpy"], "give either a values file or --backend"),
        (["no/such/file.values"], "no such file"),
        ([str(ROOT)], "is a directory"),
        ([POST, "--case", "nope"], "unknown case 'nope'"),
        ([POST, "--config", "nope"], "unknown config 'nope'; valid: as-written"),
        ([POST, "--dtype", "float32"], "go with --backend"),
        (["--backend", "numpy", "--config", "as-written"], "--config goes with a values file"),
        (["--backend", "nosuchmodule:X"], "cannot import nosuchmodule"),
        (["--backend", "examples.minimal_backend:Nope"], "has no attribute 'Nope'"),
        (["--backend", "examples.minimal_backend"], "expects package.module:Object"),
        (["--backend", "examples.minimal_backend:sigmoid"], "sigmoid() raised TypeError"),
        (["--backend", "tests.test_verify_cli:HALF"], "has no method gradients()"),
        (["--backend", "numpy", "--dtype", "float16"], "unknown dtype 'float16'"),
    ],
)
def test_bad_input_is_a_one_line_error(capsys, args, message):
    code, out, err = verify(capsys, *args)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1, err


#: An object with only part of the protocol.
HALF = SimpleNamespace(devices=lambda: ["cpu"], forward=lambda *a: {})


def test_your_wrong_backend_is_diagnosed(capsys):
    code, out, _ = verify(
        capsys,
        "--backend", "examples.wrong_weight_backend:WrongWeight", "--case", "mazur-2015", "--no-trajectories", "--json",
    )  # fmt: skip
    doc = json.loads(out)
    assert code == 1 and doc["summary"] == {"cells": 2, "failed": 1, "skipped": 1}
    cell = next(c for c in doc["cells"] if c["dtype"] == "float64")
    assert cell["walk"]["first_wrong"] == "dnet_o2/dout_h1"
    assert cell["walk"]["diagnosis"][0]["mistake"] == "w6-for-w7"
    assert "dE_o2/dout_h1" in cell["step_failures"]
    assert next(c for c in doc["cells"] if c["dtype"] == "float32")["skipped"].startswith("the backend does not do")


def test_your_correct_backend_passes_and_skips_what_it_does_not_do(capsys):
    code, out, _ = verify(capsys, "--backend", "examples.minimal_backend:MinimalBackend", "--no-trajectories")
    assert code == 0
    assert "mazur-2015  float64  cpu: ok" in out and "xor-h2  float64  cpu: skipped" in out


def test_list(capsys):
    code, out, _ = verify(capsys, "--list", "--json")
    doc = json.loads(out)
    assert code == 0 and len(doc["quantities"]) == 59 and doc["mistakes"][0]["mistake"] == "w6-for-w7"


def test_entry_point_backends_are_registered(monkeypatch):
    found = [SimpleNamespace(name="outsider", value="examples.minimal_backend:MinimalBackend")]
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: found if group == "bpcheck.backends" else [])
    monkeypatch.setattr(backends, "_REGISTRY", dict(backends._REGISTRY))
    backends._discover.__wrapped__()
    assert "outsider" in backends.names()
    assert backends.factory_path("outsider") == "examples.minimal_backend:MinimalBackend"


def test_verify_leaves_the_registry_as_it_was(capsys):
    before = backends.names()
    verify(capsys, "--backend", "examples.minimal_backend:MinimalBackend", "--case", "mazur-2015", "--no-trajectories")
    assert backends.names() == before
