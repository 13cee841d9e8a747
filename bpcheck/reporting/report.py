"""`bpcheck report`'s work: run the cross-check over cases x backends x dtypes, add the
environment and the training curves, and lay the results out as files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bpcheck import engine
from bpcheck.reference.case import MAIN_CASE, Case
from bpcheck.reporting import curves, environment, plots, render, results
from bpcheck.reporting.model import main_case, picture_files
from bpcheck.reporting.output import Progress

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "reports" / "baseline"


def generate(
    cases: list[Case],
    names: list[str],
    dtypes: list[str],
    jobs: int | None = None,
    trajectories: bool = True,
    steps: int | None = None,
    progress: Progress | None = None,
    part: str = "all",
) -> dict[str, Any]:
    """The results document, from one engine run over every case (one pool: each worker
    imports each framework once). Curves are drawn for the main case (the post's example if
    asked for); `steps` shortens them (default: up to the case's last published E_total figure)."""
    progress = progress or Progress(0, quiet=True)
    main = next((c for c in cases if c.name == MAIN_CASE), cases[0])
    plan = curves.plan(main, steps)
    progress.show("cross-check: starting the workers")
    run = engine.Engine(cases, names, dtypes, jobs=jobs, trajectories=trajectories, part=part, curve=plan)
    exact_curves = {dt: curves.exact_curve(plan, dt) for dt in dtypes}  # while the workers compute
    computed = run.result(tick=lambda label: progress.tick(f"cross-check {label}"))
    records = [r for case in cases for r in engine.records_of(case, computed, dtypes, trajectories)]
    drawn = curves.assemble(plan, computed.curves, exact_curves)
    progress.show("environment")
    env = environment.capture(names)
    env["compute"] = {
        "jobs": jobs or "CPU count",
        "worker_threads": "OMP/MKL/OPENBLAS_NUM_THREADS=1 in each worker process (bpcheck.engine)",
        "part": part,
    }
    return results.build(records, computed.unavailable, env, cases, drawn)


def units(cases: list[Case], names: list[str], dtypes: list[str]) -> int:
    """Progress steps: one per backend x dtype (x device: an accelerator adds some), and one
    per case for its pictures."""
    return len(names) * len(dtypes) + len(cases)


def files(doc: dict[str, Any], progress: Progress | None = None) -> dict[str, str | bytes]:
    """results.json, report.md, report.html and the pictures as PNG files (for report.md):
    each case's that say something for it (plots.pictures), the main case's first."""
    main = main_case(doc)
    keys = picture_files(doc)
    pngs: dict[str, bytes] = {}
    for case in [main] + [c for c in doc.get("cases", {}) if c != main] if main else []:
        for picture, data in plots.draw_all(doc, case).items():
            pngs[keys[(case, picture)]] = data
        if progress:
            progress.tick(f"pictures of {case}")
    names = {key: f"{key}.png" for key in pngs}
    out: dict[str, str | bytes] = {results.FILENAME: results.dumps(doc)}
    out["report.md"] = render.markdown(doc, names)
    out["report.html"] = render.page(doc, pngs)
    out.update({names[key]: data for key, data in pngs.items()})
    return out


def baseline_files(doc: dict[str, Any]) -> dict[str, str | bytes]:
    """What is committed under reports/baseline/: the results, and report.md without pictures
    (readable in review, and small)."""
    return {results.FILENAME: results.dumps(doc), "report.md": render.markdown(doc, None)}
