"""The exact-value cache is verified, never trusted blindly: an entry whose value was edited,
or that is damaged in any way, is recomputed and rewritten, with one line on stderr."""

from __future__ import annotations

import json

import pytest

from bpcheck.reference import oracle, store
from bpcheck.reference.case import load_case

CASE = load_case("mazur-2015")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BPCHECK_ORACLE_CACHE", str(tmp_path))
    monkeypatch.setattr(oracle, "_MEMORY", {})
    monkeypatch.setattr(store, "_warned", [])
    return tmp_path / "backprop-crosscheck" / "oracle"


def _entry(cache):
    [path] = cache.glob("*.json")
    return path, json.loads(path.read_text())


def _edit_value(e):
    e["value"]["dE_total/dw5"] = "0.5"


def _move_to_another_key(e):  # an intact entry filed under another key is not served for this one
    e["key"] = "0" * 32


CORRUPTIONS = {
    "edited value": _edit_value,
    "moved to another key": _move_to_another_key,
    "a list": lambda e: e.clear() or e.update({"key": None}),
    "removed key": lambda e: e.pop("sha256"),
    "abc": lambda e: e["value"].update({"out_h1": "abc"}),
    "nan": lambda e: e["value"].update({"out_h1": "nan"}),
}


@pytest.mark.parametrize("how", list(CORRUPTIONS))
def test_a_damaged_entry_is_recomputed_not_served(cache, how, capsys):
    truth = oracle.exact_step(CASE, "float64")
    path, entry = _entry(cache)
    CORRUPTIONS[how](entry)
    path.write_text(json.dumps(entry) if how != "a list" else "[1, 2]")
    oracle._MEMORY.clear()
    again = oracle.exact_step(CASE, "float64")
    assert {k: str(v) for k, v in again.items()} == {k: str(v) for k, v in truth.items()}
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "recomputed, not served" in err, err
    assert _entry(cache)[1]["sha256"] == store.digest(_entry(cache)[1]["value"])  # rewritten whole


def test_a_sound_entry_is_served_silently(cache, capsys):
    oracle.exact_step(CASE, "float32")
    oracle._MEMORY.clear()
    oracle.exact_step(CASE, "float32")
    assert capsys.readouterr().err == ""


def test_results_are_written_readable_by_everyone(tmp_path):
    store.write_atomically(tmp_path / "r.json", "{}")
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == store.FILE_MODE
