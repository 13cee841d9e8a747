"""A report's content as a list of blocks, built from a results document alone; the Markdown
and HTML renderers only lay these out, so both show the same thing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bpcheck.judge import FAILING
from bpcheck.reference.case import MAIN_CASE
from bpcheck.reporting.plots import PICTURES, TITLES
from bpcheck.reporting.results import bound_used


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    text: str


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    bad: set[tuple[int, int]] = field(default_factory=set)  # (row, column) cells that fail


@dataclass
class Image:
    name: str  # one of plots.PICTURES
    caption: str


Block = Heading | Para | Table | Image


def main_case(doc: dict[str, Any]) -> str | None:
    """The case the pictures show: the post's example if present, else the first."""
    names = list(doc.get("cases", {}))
    return MAIN_CASE if MAIN_CASE in names else (names[0] if names else None)


def blocks(doc: dict[str, Any]) -> list[Block]:
    env = doc.get("environment", {})
    recs = doc["records"]
    failing = [r for r in recs if r["verdict"] in FAILING]
    out: list[Block] = [
        Heading(1, "backprop-crosscheck report"),
        Para(
            f"{len(recs)} values, {len(failing)} failing; commit {env.get('git_commit') or 'unknown'}, "
            f"{env.get('timestamp', 'no timestamp')}."
        ),
    ]
    out += _summary(recs)
    if doc.get("unavailable"):
        out.append(Para("Not run: " + "; ".join(f"{n}: {s}" for n, s in doc["unavailable"].items())))
    if failing:
        out.append(Heading(2, "Failing values"))
        out.append(_failures(failing))
    case = main_case(doc)
    if case is not None:
        out.append(Heading(2, f"Pictures ({case})"))
        out += [Image(name, TITLES[name]) for name in PICTURES]
    out.append(Heading(2, "Environment"))
    out.append(_environment(env))
    out.append(Heading(2, "Every value"))
    out.append(
        Para("Per cell: ULPs to the exact value (FAIL: outside its bound). `post`: the figure the source prints.")
    )
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        by_case[r["case"]].append(r)
    for name, rs in by_case.items():
        out.append(Heading(3, name))
        out.append(_values(rs))
    return out


def _summary(recs: list[dict[str, Any]]) -> list[Block]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        groups[(r["case"], r["dtype"], r["device"])].append(r)
    rows, bad = [], set()
    for k, ((case, dtype, device), rs) in enumerate(groups.items()):
        n_bad = sum(r["verdict"] in FAILING for r in rs)
        n_ill = sum(r["verdict"] == "ill-conditioned" for r in rs)
        worst = max((x for r in rs if (x := bound_used(r)) is not None), default=0.0)
        names = ", ".join(dict.fromkeys(r["backend"] for r in rs))
        rows.append([case, dtype, device, str(len(rs)), str(n_bad), str(n_ill), f"{worst:.3g}", names])
        if n_bad:
            bad.add((k, 4))
    header = ["case", "dtype", "device", "values", "failing", "ill-conditioned", "worst ULPs/bound", "backends"]
    return [Heading(2, "Summary"), Table(header, rows, bad)]


def _failures(failing: list[dict[str, Any]]) -> Table:
    header = ["case", "backend", "dtype", "device", "quantity", "config", "value", "exact", "ULPs", "bound", "verdict"]
    rows = [
        [
            r["case"],
            r["backend"],
            r["dtype"],
            r["device"],
            r["quantity"],
            r["config"],
            "error: " + str(r["error"]) if r["value"] is None else f"{r['value']:.17g}",
            r["exact"],
            "-" if r["ulps"] is None else f"{r['ulps']:g}",
            f"{r['allowed_ulps']:g}",
            r["verdict"],
        ]
        for r in failing
    ]
    return Table(header, rows, {(k, 10) for k in range(len(rows))})


def _environment(env: dict[str, Any]) -> Table:
    keys = ("tool_version", "git_commit", "python", "os", "cpu", "cpu_count", "timestamp")
    rows = [[k, str(env.get(k))] for k in keys]
    rows += [[f"version: {k}", str(v)] for k, v in env.get("versions", {}).items()]
    blas = env.get("blas", {})
    rows.append(["numpy BLAS", " ".join(str(blas.get(k)) for k in ("name", "version") if blas.get(k))])
    rows += [[f"env {k}", v] for k, v in env.get("thread_env", {}).items()]
    for name, settings in env.get("backends", {}).items():
        text = ", ".join(f"{k}={v}" for k, v in settings.items())
        rows.append([f"backend {name}", text])
    return Table(["", "value"], rows)


def _values(rs: list[dict[str, Any]]) -> Table:
    cells = list(dict.fromkeys((r["backend"], r["dtype"], r["device"]) for r in rs))
    rows_by: dict[tuple[str, str], dict[tuple[str, str, str], dict[str, Any]]] = defaultdict(dict)
    for r in rs:
        rows_by[(r["quantity"], r["config"])][(r["backend"], r["dtype"], r["device"])] = r
    header = ["quantity", "config", "exact (float64)", "post", *["-".join(x for x in c if x != "cpu") for c in cells]]
    rows, bad = [], set()
    for i, ((quantity, config), by_cell) in enumerate(rows_by.items()):
        f64 = [r for r in by_cell.values() if r["dtype"] == "float64"]
        first = (f64 or list(by_cell.values()))[0]
        row = [quantity, config, f"{float(first['exact']):.12g}", first["published"] or ""]
        for j, c in enumerate(cells):
            rc = by_cell.get(c)
            if rc is None:
                row.append("-")
                continue
            failed = rc["verdict"] in FAILING
            mark = " FAIL" if failed else " ILL" if rc["verdict"] == "ill-conditioned" else ""
            mark += " kink" if rc.get("kink") else ""  # taken at a kink: this framework's convention
            row.append(("error" if rc["ulps"] is None else f"{rc['ulps']:g}") + mark)
            if failed:
                bad.add((i, 4 + j))
        rows.append(row)
    return Table(header, rows, bad)
