"""`bpcheck diff`: this session's values against the committed baseline (what CI checks), a
value moved by a few hundred ULPs caught and named, and the rules of what counts as a regression.

The fresh records are built from the matrix's values, which the session computes anyway
(tests/conftest.py), so the check costs no extra backend run."""

from __future__ import annotations

import copy
import json
from dataclasses import fields, replace
from pathlib import Path

import pytest

from bpcheck import matrix
from bpcheck.cli import main
from bpcheck.judge import Record, as_json, judge
from bpcheck.reference.case import load_case
from bpcheck.reference.ulps import ulp
from bpcheck.reporting import diff, environment, results
from bpcheck.reporting.report import BASELINE

#: Its module-scoped fixtures are computed once: pytest-xdist (--dist loadgroup) keeps the file in one worker.
pytestmark = pytest.mark.xdist_group("diff")


def _judge(request, case, cell, t, value, exact) -> Record:
    k = (t.quantity, t.config)
    allowed = request.getfixturevalue("allowed")
    return judge(case, cell, t, value, exact[case.name][cell.dtype][k], allowed[case.name][cell.dtype][k])


@pytest.fixture(scope="module")
def fresh(request, values, exact) -> dict:
    """A results document of this session's matrix values (every case it computed)."""
    trajectories = not request.config.getoption("--no-trajectories")
    cases = {name: load_case(name) for name, _ in values}
    recs = [
        _judge(request, cases[name], cell, t, v[key], exact)
        for (name, cell), v in values.items()
        for t in matrix.targets(cases[name], trajectories)
        if (key := (t.quantity, t.config)) in v  # the part of the run selected (-m)
    ]
    return results.build(recs, {}, environment.capture([]), list(cases.values()), [])


@pytest.fixture(scope="module")
def baseline(fresh) -> dict:
    """The committed baseline, narrowed to what this session computed (its cases, cells, targets)."""
    doc = results.load(BASELINE)
    key = lambda r: (r["backend"], r["dtype"], r["device"], r["case"], r["quantity"], r["config"])  # noqa: E731
    computed = {key(r) for r in fresh["records"]}
    if not {k[:3] for k in computed} <= {key(r)[:3] for r in doc["records"]}:
        pytest.skip("the matrix runs on cells the baseline does not cover (--backends, or a GPU)")
    doc["records"] = [r for r in doc["records"] if key(r) in computed]
    return doc


def _write(path: Path, doc: dict) -> str:
    path.write_text(results.dumps(doc))
    return str(path)


def test_fresh_values_match_the_committed_baseline(baseline, fresh):
    d = diff.compare(baseline, fresh)
    assert not d.regression, diff.render(d, str(BASELINE), "this session")


def test_a_value_moved_by_a_few_hundred_ulps_is_named(request, baseline, fresh, exact, tmp_path, capsys):
    r = next(r for r in fresh["records"] if r["quantity"] == "dE_total/dw5")
    fresh, baseline = ({**d, "records": [x for x in d["records"] if x["case"] == r["case"]]} for d in (fresh, baseline))
    moved = copy.deepcopy(fresh)
    k = next(
        k for k, x in enumerate(moved["records"]) if (x["quantity"], x["backend"]) == ("dE_total/dw5", r["backend"])
    )
    rec = Record(**r)
    case = load_case(rec.case)
    target = next(t for t in matrix.targets(case, False) if t.quantity == rec.quantity)
    cell = matrix.Cell(rec.backend, rec.dtype, rec.device)
    value = rec.value + 300 * ulp(exact[case.name][rec.dtype][(target.quantity, target.config)], rec.dtype)
    moved["records"][k] = as_json([_judge(request, case, cell, target, value, exact)])[0]
    old = _write(tmp_path / "old.json", baseline)
    assert main(["diff", old, _write(tmp_path / "new.json", fresh)]) == 0
    assert capsys.readouterr().out.strip().endswith("no regression")
    assert main(["diff", old, _write(tmp_path / "moved.json", moved)]) == 1
    out = capsys.readouterr().out
    named = [line for line in out.splitlines() if "dE_total/dw5" in line]
    assert named and all(f"{rec.backend}-{rec.dtype}" in line for line in named), out
    assert "REGRESSION" in out
    # Caught whatever the two reports' environments: the same CPU features, other ones, not recorded.
    env = moved["environment"]
    other_cpu = {**env, "cpu_features": {**env["cpu_features"], "numpy": ["SSE2"]}}
    for old_env in (env, other_cpu, {}):
        d = diff.compare({**baseline, "environment": old_env}, moved)
        assert [n.quantity for _, n in d.grew] == ["dE_total/dw5"] and d.regression, diff.render(d, "old", "moved")


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["diff", str(tmp_path / "missing"), str(tmp_path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    (tmp_path / "x.json").write_text(json.dumps({"records": []}))
    assert main(["diff", str(tmp_path / "x.json"), str(tmp_path / "x.json")]) == 2
    assert "not a results.json" in capsys.readouterr().err


#: The SIMD features of two CPUs, as environment.cpu_features records them.
AVX2 = {"numpy": ["AVX", "AVX2", "FMA3", "X86_V3"], "numpy_dispatch": ["X86_V3"], "openblas": "Haswell", "env": {}}
AVX512 = {**AVX2, "numpy": [*AVX2["numpy"], "AVX512_ICL", "X86_V4"], "openblas": "SkylakeX"}


def _doc(*recs: Record, versions: dict | None = None, features: dict | None = AVX2) -> dict:
    env = {"versions": versions or {}, "cpu": "a CPU"} | ({"cpu_features": features} if features else {})
    return {"schema": results.SCHEMA, "environment": env, "records": as_json(recs)}


_R = dict(case="c", backend="torch", dtype="float64", device="cpu", quantity="net_h1", value=1.0, exact="1", ulps=1.0)
_R.update(allowed_ulps=4, condition=1.0, published=None, verdict="pass", config="as-written", measured="after-update")
R = Record(**{f.name: _R.get(f.name) for f in fields(Record)})


def test_noise_is_not_growth_but_real_growth_is():
    assert not diff.compare(_doc(R), _doc(replace(R, ulps=2.9))).regression  # +1.9 ULPs: noise
    assert diff.compare(_doc(R), _doc(replace(R, ulps=3.5))).grew  # +2.5 ULPs
    traj = replace(R, quantity="E_total@10000", ulps=60.0, allowed_ulps=1024)
    assert not diff.compare(_doc(traj), _doc(replace(traj, ulps=85.0))).regression  # +25 of 60: noise
    assert diff.compare(_doc(traj), _doc(replace(traj, ulps=400.0))).grew


def test_failures_lost_values_and_cells_versions():
    failed = replace(R, ulps=9.0, verdict="fail")
    assert diff.compare(_doc(R), _doc(failed)).new_failures
    figure = replace(R, verdict="reproduced")  # a verdict that got worse counts whatever the CPU
    assert diff.compare(_doc(figure), _doc(replace(figure, verdict="not-reproduced"), features=AVX512)).regression
    other = replace(R, quantity="out_h1")
    assert diff.compare(_doc(R, other), _doc(R)).lost  # same cell and case, a value gone
    gone = diff.compare(_doc(R, replace(R, backend="jax")), _doc(R))
    assert gone.cells_disappeared == ["c jax-float64"] and gone.regression
    came = diff.compare(_doc(R), _doc(R, replace(R, backend="jax")))
    assert came.cells_appeared == ["c jax-float64"] and not came.regression
    upgraded = diff.compare(_doc(R, versions={"torch": "2.13.0"}), _doc(R, versions={"torch": "2.14.0"}))
    assert upgraded.versions == [("torch", "2.13.0", "2.14.0")] and not upgraded.regression
    assert "torch: 2.13.0 -> 2.14.0" in diff.render(upgraded, "a", "b")


def test_a_move_beyond_noise_is_a_regression_on_the_same_cpu_features():
    d = diff.compare(_doc(R), _doc(replace(R, value=1.0 + 3e-16, ulps=4.0)))  # +3 ULPs, bound 4
    assert d.same_environment and d.grew and d.regression
    assert "same software and CPU features" in diff.render(d, "a", "b")


def test_other_cpu_features_may_move_a_value_by_a_fraction_of_its_bound():
    kernel = replace(R, quantity="dout_h1/dnet_h1[1]", ulps=0.011, allowed_ulps=32)  # as AVX-512 moved autograd's
    d = diff.compare(_doc(kernel), _doc(replace(kernel, ulps=4.011), features=AVX512))
    assert not d.same_environment and not d.regression and d.moved_with_environment and not d.grew
    out = diff.render(d, "a", "b")
    assert "moved with the environment" in out and "dout_h1/dnet_h1[1]" in out, out
    assert "cpu features numpy: +AVX512_ICL +X86_V4" in out and "openblas: Haswell -> SkylakeX" in out, out
    beyond = diff.compare(_doc(kernel), _doc(replace(kernel, ulps=8.5), features=AVX512))  # > 32/4
    assert beyond.grew and beyond.regression
    unrecorded = diff.compare(_doc(kernel, features=None), _doc(replace(kernel, ulps=4.011)))
    assert not unrecorded.same_environment and not unrecorded.regression and unrecorded.moved_with_environment
    upgraded = diff.compare(_doc(kernel), _doc(replace(kernel, ulps=4.011), versions={"numpy": "9"}))
    assert not upgraded.same_environment and not upgraded.regression


def test_torch_capability_recorded_on_one_side_only_is_not_a_difference():
    with_torch = {**AVX2, "torch": "AVX2"}
    assert diff.compare(_doc(R), _doc(R, features=with_torch)).same_environment
    other = {**AVX2, "torch": "AVX512"}
    assert not diff.compare(_doc(R, features=with_torch), _doc(R, features=other)).same_environment


def test_a_disappeared_case_is_a_regression():
    gone = diff.compare(_doc(R, replace(R, case="d")), _doc(R))
    assert gone.cases_disappeared == ["d"] and gone.regression
    assert "cases disappeared (1):\n  d" in diff.render(gone, "a", "b")


def test_a_value_that_became_ill_conditioned_is_a_worse_verdict():
    ill = replace(R, verdict="ill-conditioned", allowed_ulps=2.0**60)
    d = diff.compare(_doc(R), _doc(ill))
    assert d.became_ill_conditioned and d.regression
    assert "became ill-conditioned" in diff.render(d, "a", "b")
    assert not diff.compare(_doc(ill), _doc(ill)).regression


def _diff(capsys, tmp_path, old: dict | list, new: dict | list) -> tuple[int, str, str]:
    """`bpcheck diff` of two documents written as files."""
    paths = []
    for name, doc in (("old.json", old), ("new.json", new)):
        (tmp_path / name).write_text(json.dumps(doc))
        paths.append(str(tmp_path / name))
    code = main(["diff", *paths])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("gone", "listed"),
    [
        ({"case": "d"}, "cases disappeared (1):\n  d"),  # a whole case
        ({"case": "c", "backend": "jax"}, "cells disappeared (1):\n  c jax-float64"),  # a cell of one case only
        (
            {"case": "c", "backend": "torch", "quantity": "out_h1"},  # one value
            "values missing from the new results (1):\n  c torch-float64 out_h1",
        ),
    ],
)
def test_anything_old_has_and_new_lacks_is_a_regression_named_by_case_and_cell(capsys, tmp_path, gone, listed):
    # Old: cases c and d, each with torch and jax, two quantities each; new: the same less `gone`.
    every = [
        replace(R, case=c, backend=b, quantity=q)
        for c in ("c", "d")
        for b in ("torch", "jax")
        for q in ("net_h1", "out_h1")
    ]
    kept = [r for r in every if not all(getattr(r, k) == v for k, v in gone.items())]
    assert len(kept) < len(every)
    d = diff.compare(_doc(*every), _doc(*kept))
    assert d.regression and listed in diff.render(d, "a", "b")
    code, out, err = _diff(capsys, tmp_path, _doc(*every), _doc(*kept))
    assert code == 1 and listed in out and out.rstrip().endswith("REGRESSION") and err == "", out
    # and the other way round, what appeared is only reported
    code, out, _ = _diff(capsys, tmp_path, _doc(*kept), _doc(*every))
    assert code == 0 and out.rstrip().endswith("no regression"), out


@pytest.mark.parametrize(
    ("old_cases", "new_cases"),
    [(["c"], ["d"]), (["c", "d"], ["e"]), (["c"], []), ([], ["c"]), ([], [])],
)
def test_two_results_with_no_case_in_common_are_not_compared(capsys, tmp_path, old_cases, new_cases):
    old = _doc(*[replace(R, case=c) for c in old_cases])
    new = _doc(*[replace(R, case=c) for c in new_cases])
    code, out, err = _diff(capsys, tmp_path, old, new)
    assert code == 2 and out == "", out
    assert err.startswith("bpcheck: error: nothing in common") and err.count("\n") == 1, err


def test_diff_reads_the_results_json_that_run_writes(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    quick = ["--backend", "reference", "--dtype", "float64", "--no-trajectories", "--jobs", "1"]
    assert main(["run", "--out", "a", *quick]) == 0
    capsys.readouterr()
    assert main(["diff", "a", "a/results.json"]) == 0  # the directory and the file both
    out, err = capsys.readouterr()
    assert out.rstrip().endswith("no regression") and err == "", (out, err)
    records = json.loads((tmp_path / "a" / "results.json").read_text())
    code, out, _ = _diff(capsys, tmp_path, records, records[1:])  # one value gone
    assert code == 1 and f"{records[0]['case']} reference-float64 {records[0]['quantity']}" in out, out
    code, out, _ = _diff(capsys, tmp_path, records, [{**r, "case": "other"} for r in records])
    assert code == 2


@pytest.mark.parametrize(
    "doc",
    [
        [1, 2],
        [{"case": "c"}],
        {"schema": results.SCHEMA, "records": [None]},
        {"schema": results.SCHEMA, "records": [{**_R, "backend": 3}]},
        {"schema": results.SCHEMA, "records": [], "environment": []},
    ],
)
def test_malformed_records_are_one_line_and_exit_2(capsys, tmp_path, doc):
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    (tmp_path / "good.json").write_text(json.dumps(_doc(R)))
    for argv in (["bad.json", "good.json"], ["good.json", "bad.json"]):
        assert main(["diff", *(str(tmp_path / a) for a in argv)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "not a results.json" in err, err
