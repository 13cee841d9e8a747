"""`bpcheck bench --quick`: the JSON's structure, ratios, the files rendered from it, bad input
(one line on stderr, exit 2: main() returning rather than raising means no traceback)."""

from __future__ import annotations

import contextlib
import io
import json
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from bpcheck import bench
from bpcheck.cli import main

#: Its module-scoped fixtures are computed once: pytest-xdist (--dist loadgroup) keeps the file in one worker.
pytestmark = pytest.mark.xdist_group("bench")

NAMES = ["reference", "numpy"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One quick run, in this process (the frameworks and matplotlib are imported once)."""
    out = tmp_path_factory.mktemp("bench")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["bench", "--quick", "--backend", ",".join(NAMES), "--out", str(out)])
    assert code == 0, stderr.getvalue()
    return out, stdout.getvalue()


def test_every_backend_and_measurement_is_there(report):
    out, _ = report
    doc = json.loads((out / "bench.json").read_text())
    s = doc["settings"]
    assert doc["schema"] == "bpcheck-bench/1" and s["quick"] and s["backends"] == NAMES
    assert set(NAMES) <= set(doc["environment"]["backends"]) and doc["unavailable"] == {}
    got = {(r["backend"], r["measurement"], r["dtype"], r["size"]) for r in doc["measurements"]}
    sizes = {"forward-backward": [None], "train": [None], "width": s["widths"], "batch": s["batches"]}
    want = {(b, m, dt, n) for b in NAMES for m in bench.MEASUREMENTS for dt in bench.DTYPES for n in sizes[m]}
    assert got == want and len(doc["measurements"]) == len(want)
    fb = [r for r in doc["measurements"] if r["measurement"] == "forward-backward"]
    assert all(r["method"] == bench.FB_METHOD and r["calls_per_repeat"] >= 1 for r in fb)
    assert {r["steps"] for r in doc["measurements"] if r["measurement"] == "train"} == {s["train_steps"]}


def test_times_and_ratios(report):
    doc = json.loads((report[0] / "bench.json").read_text())
    for r in doc["measurements"]:
        if r["status"] != "ok":  # a point may be skipped past the cap on a slow machine, never an error
            assert r["status"] == "skipped" and r["reason"] and r["ratio"] is None, r
            continue
        assert r["first_seconds"] > 0 and r["compile_seconds" if r["measurement"] == "train" else "first_seconds"] >= 0
        if r["measurement"] in ("width", "batch"):  # differential: (t(n2) - t(n1)) / (n2 - n1)
            a, b = r["raw_seconds_n1"], r["raw_seconds_n2"]
            assert r["method"] == bench.DIFFERENTIAL and len(a) == len(b) == r["repeats"] >= 1
            assert (r["seconds_n1"], r["seconds_n2"]) == (min(a), min(b)) and r["n2"] - r["n1"] == r["steps"] >= 1
            assert r["per_step"] > 0 and r["per_step"] * r["steps"] == pytest.approx(r["seconds_n2"] - r["seconds_n1"])
            assert r["overhead_seconds"] == pytest.approx(r["seconds_n1"] - r["n1"] * r["per_step"])
            assert r["first_per_step"] is None and r["first_ratio"] is None
            continue
        assert r["raw_seconds"] and all(t > 0 for t in r["raw_seconds"])
        assert r["repeats"] == len(r["raw_seconds"]) and r["seconds"] == min(r["raw_seconds"])
        assert r["per_step"] == r["seconds"] / r["steps"] and r["first_per_step"] == r["first_seconds"] / r["steps"]
    for value, ratio in (("per_step", "ratio"), ("first_per_step", "first_ratio")):
        groups: dict[tuple, list[dict]] = {}
        for r in doc["measurements"]:
            assert (r.get(value) is None) == (r[ratio] is None)
            if r[ratio] is not None:
                groups.setdefault((r["measurement"], r["dtype"], r["size"]), []).append(r)
        assert len(groups) >= (2 + 2 * 3 if ratio == "ratio" else 2)  # every measurement and size has a fastest
        for rs in groups.values():
            assert all(r[ratio] >= 1 for r in rs) and min(r[ratio] for r in rs) == 1.0


class Slow:
    """A backend whose train() sleeps `overhead` seconds plus 2 ms x steps x inputs^2 x examples,
    and fails at batch 16."""

    name = "slow"

    def __init__(self, overhead: float = 0.0, step: float = 0.002):
        self.overhead, self.step = overhead, step

    def devices(self) -> list[str]:
        return ["cpu"]

    def train(self, case, params, config, steps, dtype, device):
        if len(case.inputs) == 16:
            raise RuntimeError("out of memory\nsecond line")
        time.sleep(self.overhead + self.step * steps * case.spec.sizes[0] ** 2 * len(case.inputs))


def test_a_slow_series_is_cut_at_the_cap_and_an_error_skips_the_rest():
    s = bench.Settings(["slow"], ["float64"], max_seconds=0.12, repeats=3, scaling_steps=2, widths=(1, 2, 4, 8, 16))
    widths = bench.scaling(Slow(step=0.0005), "cpu", "float64", "width", s)  # a point: ~6 x t(1) = 3 ms x W^2
    assert [r["status"] for r in widths] == ["ok", "ok", "ok", "skipped", "skipped"]
    assert widths[3]["reason"].startswith("width 8 would take ~0.") and "(width 4: t(1) 0.0" in widths[3]["reason"]
    assert widths[4]["reason"] == widths[3]["reason"]
    for r in widths[:3]:  # generous: the machine is shared
        assert 0.5 < r["per_step"] / (0.0005 * r["size"] ** 2) < 2, r
    s = bench.Settings(["slow"], ["float64"], max_seconds=2.0, repeats=1, scaling_steps=1, batches=(1, 4, 16, 64))
    batches = bench.scaling(Slow(), "cpu", "float64", "batch", s)
    assert [r["status"] for r in batches] == ["ok", "ok", "error", "skipped"]
    assert batches[2]["reason"] == "RuntimeError: out of memory" and batches[3]["reason"] == "batch 16 failed"
    once = bench.Settings([], [], max_seconds=1, once_factor=0.001, train_steps=10, train_probe_steps=2)
    trained = bench.train(Slow(), "cpu", "float64", once)
    assert trained["status"] == "skipped" and trained["reason"].startswith("not repeated: the first call took")
    assert trained["per_step"] is None and trained["first_per_step"] > 0 and trained["steps"] == 10
    bench.add_ratios([trained])
    assert trained["ratio"] is None and trained["first_ratio"] == 1.0
    assert bench._failed({}, RuntimeError())["reason"] == "RuntimeError: "
    assert bench.table_cell(trained) == "skipped" and bench.table_cell(trained, first=True).endswith("(1.00x)")


def test_the_per_step_time_leaves_the_fixed_cost_per_call_out():
    """20 ms per call plus 3 ms per step: the differential figure finds the 3 ms, where t(1)
    would say 23 ms."""
    s = bench.Settings(["slow"], ["float64"], max_seconds=0.4, repeats=3, widths=(1,))
    (r,) = bench.scaling(Slow(overhead=0.02, step=0.003), "cpu", "float64", "width", s)
    assert r["status"] == "ok" and 0.0015 < r["per_step"] < 0.006, r  # generous: the machine is shared
    assert 0.01 < r["overhead_seconds"] < 0.04 and r["seconds_n1"] / r["n1"] > 4 * r["per_step"], r
    assert r["seconds_n2"] - r["seconds_n1"] > 0.5 * r["seconds_n1"]  # k steps take about as long as t(1)


def test_a_training_run_projected_past_the_cap_runs_fewer_steps():
    s = bench.Settings(["slow"], ["float64"], max_seconds=0.14, repeats=2, train_steps=1000, train_probe_steps=10)
    r = bench.train(Slow(step=0.0005), "cpu", "float64", s)  # 2 ms a step (2 inputs): 1,000 would take 2 s
    assert r["status"] == "ok" and r["steps"] in (20, 50) and r["probe"]["steps"] == 10, r  # 0.14 s / 2 ms: 70
    assert 1 < r["projected_seconds"] < 4 and 0.001 < r["per_step"] < 0.004
    settings = asdict(s) | {"widths": [], "batches": [], "width_network": "", "batch_network": ""}
    doc = {"settings": settings, "measurements": [r | {"ratio": 1.0}]}
    (_, _, rows, footnotes), *_ = bench.tables(doc)
    assert rows[0][4].endswith(bench.FEWER)
    assert footnotes[0].startswith(f"{bench.FEWER} slow float64: measured over {r['steps']} steps (1,000 projected")
    assert [bench._fewer(x) for x in (0.3, 1, 4.9, 17, 20, 999, 5000)] == [1, 1, 2, 10, 20, 500, 5000]


def test_markdown_and_plot_are_rendered_from_the_json(report):
    out, stdout = report
    doc = json.loads((out / "bench.json").read_text())
    md = (out / "bench.md").read_text()
    assert md == bench.markdown(doc)
    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for r in doc["measurements"]:
        if r["status"] == "ok":
            figure = f"{bench.seconds(r['per_step'])} ({bench.ratio(r['ratio'])})"
            assert f"| {figure}" in md and figure in stdout
    numpy64 = next(
        r for r in doc["measurements"] if (r["backend"], r["measurement"], r["dtype"]) == ("numpy", "train", "float64")
    )
    row = next(line for line in md.splitlines() if line.startswith("| numpy | float64 |"))
    assert f"| {bench.table_cell(numpy64, first=True)} | {bench.table_cell(numpy64)} | " in row


def test_render_from_the_json_alone(report, capsys, tmp_path):
    out, _ = report
    assert main(["bench", "--render", str(out / "bench.json"), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "bench.md").read_text() == (out / "bench.md").read_text()
    assert (tmp_path / "bench.png").exists() and not (tmp_path / "bench.json").exists()


def test_generated_cases_are_deterministic_data():
    case = bench.width_case(3, 7)
    assert case.spec.sizes == (3, 3, 3) and len(case.parameters) == 2 * 9 + 6
    assert bench.width_case.__wrapped__(3, 7).parameters == case.parameters
    batch = bench.batch_case(4, 7)
    assert len(batch.inputs) == 4 and batch.inputs[0] == (0.05, 0.1) and batch.spec.reduction == "mean"
    assert batch.parameters["w5"] == 0.4


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--backend", "nope"], "unknown backend 'nope'; valid: reference, numpy"),
        (["--backend", "reference,nope"], "unknown backend 'nope'; valid: reference, numpy"),
        (["--dtype", "float16"], "unknown dtype 'float16'; valid: float64, float32"),
        (["--max-seconds", "0"], "--max-seconds must be a number > 0, got 0"),
        (["--max-seconds", "soon"], "argument --max-seconds: invalid float value: 'soon'"),
        (["--render", "missing.json"], "missing.json: cannot be read as JSON"),
        (["--quick", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, message):
    code = main(["bench", "--out", str(tmp_path), *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("bpcheck: error: ") and message in err, err
    assert not list(tmp_path.iterdir())


def test_bench_writes_by_default_where_git_does_not_look():
    """The committed reports/bench changes only when named with --out; the default is ignored by git."""
    import argparse
    import subprocess
    from pathlib import Path

    from bpcheck.commands import bench as command

    p = argparse.ArgumentParser()
    command.add_arguments(p)
    default = p.parse_args([]).out
    assert Path(default).parts[0] == "reports" and default != "reports/bench"
    root = Path(__file__).resolve().parents[1]
    ignored = subprocess.run(["git", "check-ignore", "-q", f"{default}/bench.json"], cwd=root)
    assert ignored.returncode == 0, f"{default} is not ignored by git"
