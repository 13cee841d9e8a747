"""The issue's values-file form: TOML with an optional `case` and a [values] table, the
written digits kept; and the JSON keys first_wrong / consequential / independent / diagnoses."""

from __future__ import annotations

import json

import pytest

from bpcheck.cli import main
from bpcheck.reference.case import load_case
from bpcheck.reference.oracle import exact_step


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_wrong_weight_value_is_diagnosed(tmp_path, capsys):
    case = load_case("mazur-2015")
    ex = exact_step(case, "float64")
    slip = float(ex["delta_o2"]) * 0.45  # delta_o2 * w6: the w6-for-w7 slip, at 9 digits
    path = tmp_path / "mine.toml"
    path.write_text(
        f'case = "mazur-2015"\n[values]\n"delta_o2" = {float(ex["delta_o2"]):.9g}\n"dE_o2/dout_h1" = {slip:.9g}\n'
    )
    code, out, _ = _run(capsys, "verify", str(path), "--json")
    result = json.loads(out)
    assert code == 1 and result["first_wrong"] == "dE_o2/dout_h1"
    assert result["independent"] == ["dE_o2/dout_h1"] and result["consequential"] == []
    assert {"id": "w6-for-w7", "quantity": "dE_o2/dout_h1"} in [
        {k: d[k] for k in ("id", "quantity")} for d in result["diagnoses"]
    ]
    assert all(d["explanation"] for d in result["diagnoses"])


def test_the_posts_figures_get_no_diagnosis(tmp_path, capsys):
    """All ok but the one the post prints misrounded (the case says which): wrong, explained by nothing."""
    case = load_case("mazur-2015")
    lines = [f'"{f.quantity}" = {f.value}' for f in case.published if "@" not in f.quantity]
    path = tmp_path / "post.toml"
    path.write_text("[values]\n" + "\n".join(lines) + "\n")
    code, out, _ = _run(capsys, "verify", str(path), "--json")
    result = json.loads(out)
    assert code == 1 and result["first_wrong"] == "dE_o2/dout_h1" and result["diagnoses"] == []
    assert result["independent"] == ["dE_o2/dout_h1"] and result["too_coarse"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[values]\n"net_h1" = 0.3775\n"net_h1" = 0.3776\n', "not valid TOML"),
        ('[values]\n"net_h1" = "abc"\n', "net_h1: expected a decimal number"),
        ('[values]\n"net_h11" = 0.3775\n', "did you mean net_h1"),
        ('[values]\n"net_h1" = inf\n', "expected a finite number"),
        ('case = "nope"\n[values]\n"net_h1" = 0.3775\n', "unknown case 'nope'"),
    ],
)
def test_bad_values_files(tmp_path, capsys, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    code, out, err = _run(capsys, "verify", str(path))
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err, err
