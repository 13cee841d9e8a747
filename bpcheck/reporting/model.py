"""A report's content as a list of blocks, built from a results document alone; the Markdown
and HTML renderers only lay these out, so both show the same thing."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bpcheck.judge import FAILING, from_printed_text
from bpcheck.reporting.plots import CAPTIONS, PICTURES, TITLES, main_case, pictures
from bpcheck.reporting.results import bound_used


@dataclass
class Heading:
    level: int
    text: str
    anchor: str | None = None  # an id to link to


@dataclass
class Links:
    """A line of links to anchors in the report: (text, anchor)."""

    items: list[tuple[str, str]]


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
    name: str  # the picture's key: its file name without .png (picture_files)
    title: str  # the alt text
    caption: str = ""  # how to read it, below the title


Block = Heading | Para | Links | Table | Image


def slugs(doc: dict[str, Any]) -> dict[str, str]:
    """Each case's name as it may appear in a file name and an anchor: letters, digits, `.`,
    `_` and `-` kept, anything else `-`, at most 60 characters; distinct for distinct cases."""
    out: dict[str, str] = {}
    for case in doc.get("cases", {}):
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", case).strip(".-")[:60] or "case"
        slug, k = base, 1
        while slug.lower() in {s.lower() for s in out.values()}:
            k += 1
            slug = f"{base}-{k}"
        out[case] = slug
    return out


def picture_files(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(case, picture) -> the picture's file name without .png: the main case's as PICTURES
    names them (network, training, ..), another case's with its name (network-xor-h2, ..)."""
    main, slug = main_case(doc), slugs(doc)
    return {(c, p): p if c == main else f"{p}-{slug[c]}" for c in slug for p in PICTURES}


def blocks(doc: dict[str, Any], with_pictures: bool = True) -> list[Block]:
    """The report's content; `with_pictures=False`: without the Pictures section (report.md of the
    committed baseline, which has no picture files)."""
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
    derived = [r for r in recs if r["verdict"] == "reproduced-from-printed"]
    if derived:
        out.append(Heading(2, "Printed figures that follow from the source's own figures"))
        out.append(
            Para(
                "Not the exact value, but what the source's earlier printed figures give, rounded as printed "
                "(`reproduced-from-printed`, not a failure): the source rounds as it goes."
            )
        )
        out.append(_from_printed(derived))
    out += _pictures(doc) if with_pictures else []
    out.append(Heading(2, "Environment"))
    out.append(_environment(env))
    out.append(Heading(2, "Every value"))
    out.append(
        Para(
            "Per cell: ULPs to the exact value (FAIL: outside its bound). `post`: the figure the source prints "
            "(from printed: it follows from the source's earlier printed figures)."
        )
    )
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        by_case[r["case"]].append(r)
    for name, rs in by_case.items():
        out.append(Heading(3, name))
        out.append(_values(rs))
    return out


def _pictures(doc: dict[str, Any]) -> list[Block]:
    """A section per case: the main case first with every picture it has and how to read each,
    then every other case with the pictures that say something for it (the training curves
    are drawn for the main case alone), under links to each."""
    main = main_case(doc)
    if main is None:
        return []
    files, slug = picture_files(doc), slugs(doc)
    cases = [main] + [c for c in doc["cases"] if c != main]
    out: list[Block] = [Heading(2, "Pictures")]
    if len(cases) > 1:
        out.append(Para(f"The main case ({main}) with every picture and how to read it, then each other case."))
        out.append(Links([(c, f"pictures-{slug[c]}") for c in cases]))
    for c in cases:
        title = doc["cases"][c].get("title") or ""
        text = f"{c}: {title}" if title and title != c else c
        out.append(Heading(3, text, f"pictures-{slug[c]}"))
        for p in pictures(doc, c):
            out.append(Image(files[(c, p)], f"{c}: {TITLES[p]}", CAPTIONS[p] if c == main else ""))
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


def _from_printed(derived: list[dict[str, Any]]) -> Table:
    """One row per figure (the first record of each: every backend that passes gets the same)."""
    rows, seen = [], set()
    for r in derived:
        if (r["case"], r["quantity"]) in seen:
            continue
        seen.add((r["case"], r["quantity"]))
        d = r.get("from_printed") or {}
        how = f"{d.get('formula', '')} = {d.get('value', '')}"
        rows.append(
            [r["case"], r["quantity"], r["published"] or "", r["exact"][:14], from_printed_text(d, r["config"]), how]
        )
    return Table(["case", "quantity", "printed", "exact", "follows from", "formula"], rows)


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
        printed = first["published"] or ""
        if any(r["verdict"] == "reproduced-from-printed" for r in by_cell.values()):
            printed += " (from printed)"
        row = [quantity, config, f"{float(first['exact']):.12g}", printed]
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
