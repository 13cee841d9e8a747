"""The Python API gives what the commands' --json print, with the same keys."""

from __future__ import annotations

import json

import bpcheck
from bpcheck.cli import main
from bpcheck.judge import Record

KEYS = [f.name for f in Record.__dataclass_fields__.values()]


def test_crosscheck_returns_the_records_of_run_json(capsys):
    case = bpcheck.load_case("mazur-2015")
    records = bpcheck.crosscheck(case, backends=["numpy"], dtypes=["float64"])
    assert main(["run", "--backend", "numpy", "--dtype", "float64", "--json", "--no-report"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [list(r) for r in records] == [KEYS] * len(records)
    assert [(r["quantity"], r["value"], r["verdict"]) for r in records] == [
        (r["quantity"], r["value"], r["verdict"]) for r in printed
    ]
    assert len(records) > 60 and all(r["verdict"] in ("pass", "reproduced") for r in records)


def test_verify_values_is_the_document_of_verify_json(tmp_path, capsys):
    doc = bpcheck.verify_values({"dE_o2/dout_h1": "-0.017144206"})
    (tmp_path / "v.values").write_text("dE_o2/dout_h1 = -0.017144206\n")
    assert main(["verify", str(tmp_path / "v.values"), "--json"]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert doc["first_wrong"] == "dE_o2/dout_h1" and {**doc, "values": None} == {**printed, "values": None}


def test_verify_backend_uses_the_object_as_it_is():
    from examples.wrong_weight_backend import WrongWeight

    records = bpcheck.verify_backend(WrongWeight(), cases=["mazur-2015"], dtypes=["float64"], trajectories=False)
    failed = {r["quantity"] for r in records if r["verdict"] in ("fail", "not-reproduced")}
    assert "dE_o2/dout_h1" in failed and "dE_total/dw5" not in failed
    assert {r["backend"] for r in records} == {"wrong-weight"}
    assert "wrong-weight" not in bpcheck.backends.names()  # nothing was registered
    by_string = bpcheck.verify_backend("examples.wrong_weight_backend:WrongWeight", ["mazur-2015"], ["float64"], False)
    assert by_string == records
