"""`bpcheck report`'s work: run the cross-check over cases x backends x dtypes, add the
environment and the training curves, and lay the results out as files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bpcheck import crosscheck
from bpcheck.reporting import curves, environment, plots, render, results
from bpcheck.reporting.model import main_case
from bpcheck.reporting.output import Progress
from bpcheck.reference.case import Case

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
    """The results document. Curves are drawn for the main case (the post's example if asked
    for); `steps` shortens them (default: up to the case's last published E_total figure)."""
    progress = progress or Progress(0, quiet=True)
    records: list[crosscheck.Record] = []
    unavailable: dict[str, str] = {}
    for case in cases:
        progress.show(f"cross-check {case.name}")
        recs, unav = crosscheck.run(case, names, dtypes, jobs, trajectories, part)
        records += recs
        unavailable.update(unav)
        progress.tick(f"cross-check {case.name}")
    main = next((c for c in cases if c.name == "mazur-2015"), cases[0])
    progress.show("training curves")
    drawn = curves.compute(main, names, dtypes, steps, jobs, progress.tick, part)
    progress.show("environment")
    env = environment.capture(names)
    env["compute"] = {
        "jobs": jobs or "CPU count",
        "worker_threads": "OMP/MKL/OPENBLAS_NUM_THREADS=1 in each worker process (bpcheck.crosscheck)",
        "part": part,
    }
    return results.build(records, unavailable, env, cases, drawn)


def units(cases: list[Case], names: list[str], dtypes: list[str]) -> int:
    """Progress steps: one per case, one per training curve (an upper bound)."""
    return len(cases) + len(names) * len(dtypes)


def files(doc: dict[str, Any]) -> dict[str, str | bytes]:
    """results.json, report.md, report.html and the pictures as PNG files (for report.md)."""
    case = main_case(doc)
    pngs = plots.draw_all(doc, case) if case else {}
    names = {p: f"{p}.png" for p in pngs}
    out: dict[str, str | bytes] = {results.FILENAME: results.dumps(doc)}
    out["report.md"] = render.markdown(doc, names)
    out["report.html"] = render.page(doc, pngs)
    out.update({names[p]: data for p, data in pngs.items()})
    return out


def baseline_files(doc: dict[str, Any]) -> dict[str, str | bytes]:
    """What is committed under reports/baseline/: the results, and report.md without pictures
    (readable in review, and small)."""
    return {results.FILENAME: results.dumps(doc), "report.md": render.markdown(doc, None)}
