"""results.json: every record, the environment, the cases' networks and the training curves.
Everything a report shows is in it; report.md and report.html are rendered from it alone."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from bpcheck.judge import FAILING, Record, as_json
from bpcheck.reference.case import Case

SCHEMA = "bpcheck-results/1"
FILENAME = "results.json"


class ResultsError(ValueError):
    """A path that is not a results.json (or a report directory holding one)."""


def describe(case: Case) -> dict[str, Any]:
    """What the pictures need of a case: its network, parameters and data."""
    lay = case.layout
    return {
        "name": case.name,
        "title": case.title,
        "layer_sizes": list(lay.sizes),
        "labels": lay.labels,
        "weights": lay.w,
        "biases": lay.b,
        "parameters": dict(case.parameters),
        "inputs": [list(r) for r in case.inputs],
        "targets": [list(r) for r in case.targets],
        "learning_rate": case.learning_rate,
        "default_config": case.default_config,
        "published": [
            {"quantity": f.quantity, "value": f.value, "config": f.config, "measured": f.measured, "updates": f.updates}
            for f in case.published
        ],
    }


def build(
    records: list[Record],
    unavailable: dict[str, str],
    environment: dict[str, Any],
    cases: list[Case],
    curves: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "environment": environment,
        "unavailable": unavailable,
        "cases": {c.name: describe(c) for c in cases},
        "curves": curves,
        "records": as_json(records),
    }


def dumps(doc: dict[str, Any]) -> str:
    """Indented JSON, but one record (and one curve series) per line: small, and diffable."""
    head = {k: v for k, v in doc.items() if k not in ("records", "curves")}
    text = json.dumps(head, indent=1)[:-2]
    lines = [text + ","]
    for key in ("curves", "records"):
        items = doc.get(key, [])
        body = ",\n".join("  " + json.dumps(item) for item in items)
        lines.append(f' "{key}": [\n{body}\n ]' + ("," if key == "curves" else ""))
    return "\n".join(lines) + "\n}\n"


def resolve(path: str | Path) -> Path:
    p = Path(path)
    return p / FILENAME if p.is_dir() else p


def load(path: str | Path) -> dict[str, Any]:
    """A results document from a report directory, a report's results.json, or the results.json
    `bpcheck run` writes (its records alone, a JSON list; no environment); ResultsError otherwise."""
    p = resolve(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file or report directory") from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ResultsError(f"{p}: not a results.json ({type(err).__name__})") from None
    if isinstance(doc, list):  # bpcheck run's
        doc = {"schema": SCHEMA, "environment": {}, "unavailable": {}, "cases": {}, "curves": [], "records": doc}
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(doc.get("records"), list):
        raise ResultsError(f"{p}: not a results.json (expected schema {SCHEMA!r} with records)")
    for k, r in enumerate(doc["records"]):
        if not isinstance(r, dict) or not all(isinstance(r.get(f), str) for f in KEYS):
            raise ResultsError(f"{p}: not a results.json (record {k + 1} lacks one of {', '.join(KEYS)})")
    if not isinstance(doc.get("environment", {}), dict):
        raise ResultsError(f"{p}: not a results.json (its environment is not an object)")
    return doc


#: What names a record: the fields a diff matches on.
KEYS = ("case", "backend", "dtype", "device", "quantity", "config")
_NAMES = {f.name for f in fields(Record)}


def records(doc: dict[str, Any]) -> list[Record]:
    """Records of the document; a field it lacks (an older schema) is None."""
    return [Record(**{k: r.get(k) for k in _NAMES}) for r in doc["records"]]


def failing(r: Record) -> bool:
    return r.verdict in FAILING


def bound_used(r: dict[str, Any]) -> float | None:
    """How much of its bound a value used (ULPs / allowed ULPs); None where that says nothing:
    no value, an infinite bound, or a bound of 0 (an exact datum, which is either right or fails)."""
    if r["ulps"] is None or not r["allowed_ulps"]:
        return None
    return float(r["ulps"] / r["allowed_ulps"])
