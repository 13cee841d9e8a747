"""The Python API: what the commands do, as functions returning what their --json prints.

import bpcheck
case = bpcheck.load_case("mazur-2015")
records = bpcheck.crosscheck(case, backends=["numpy"], dtypes=["float64"])
doc = bpcheck.verify_values({"dE_o2/dout_h1": "-0.017144206"})
records = bpcheck.verify_backend("mypkg.mod:MyBackend")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bpcheck import backends as registry
from bpcheck import engine, matrix
from bpcheck.judge import as_json
from bpcheck.reference.case import MAIN_CASE, Case, bundled_cases
from bpcheck.reference.case import load_case as _load_case
from bpcheck.verify.check import check_written
from bpcheck.verify.render import walk_json
from bpcheck.verify.values import parse_values
from bpcheck.verify.walk import Walk

Records = list[dict[str, Any]]


def load_case(name_or_path: str | Case) -> Case:
    """A bundled case by name, or a case file by path (a Case is returned as it is);
    raises bpcheck.reference.case.CaseError with a one-line message for a bad one."""
    return name_or_path if isinstance(name_or_path, Case) else _load_case(name_or_path)


def crosscheck(
    case: str | Case,
    backends: Sequence[str | Any] | None = None,
    dtypes: Sequence[str] | None = None,
    devices: Sequence[str] | None = None,
    slow: bool = False,
) -> Records:
    """The records `bpcheck run --json` prints: every value of `case` from each backend (names
    or protocol objects; default: every registered one that is installed) in each dtype,
    judged against the exact value. Without `slow`, the slow checks are left out unless the
    backends are named, as `bpcheck run` does."""
    chosen = list(backends) if backends is not None else registry.names()
    part = "all" if slow or backends is not None else "fast"
    outcome = engine.crosscheck([load_case(case)], chosen, list(dtypes or matrix.DTYPES), devices=devices, part=part)
    return as_json(outcome.records)


def verify_values(values: Mapping[str, str | float], case: str | Case = MAIN_CASE, config: str | None = None) -> dict:
    """The document `bpcheck verify VALUES --json` prints for hand-computed `values`
    (quantity name -> a decimal string, which keeps its digits, or a float)."""
    c = load_case(case)
    text = "\n".join(f"{name} = {v if isinstance(v, str) else repr(float(v))}" for name, v in values.items())
    rule = config or c.default_config
    walk = check_written(c, c.configs[rule], parse_values(text, c.layout, "<values>"))
    return values_document(c, rule, None, walk)


def values_document(case: Case, config: str, source: str | None, walk: Walk) -> dict:
    """verify's JSON for written values: the case, the rule, where they came from, the walk."""
    return {"case": case.name, "config": config, "values": source, **walk_json(walk)}


def verify_backend(
    backend: Any,
    cases: Sequence[str | Case] | None = None,
    dtypes: Sequence[str] | None = None,
    trajectories: bool = True,
) -> Records:
    """The records `crosscheck` returns, for your own implementation on every bundled case (or
    `cases`): `backend` is an object implementing the protocol, a class or factory, or a
    "package.module:Object" string; it is used directly, nothing is registered."""
    from bpcheck.verify.implementation import load_backend

    obj = load_backend(backend) if isinstance(backend, str) else backend
    chosen = [load_case(c) for c in (cases or bundled_cases())]
    outcome = engine.crosscheck(chosen, [obj], list(dtypes or matrix.DTYPES), jobs=1, trajectories=trajectories)
    return as_json(outcome.records)
