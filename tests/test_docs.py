"""The user documents: a README for users (short, with install and CI sections, no internal
history), and links between the documents that resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_readme_is_for_users():
    assert len(README.splitlines()) <= 200
    headings = re.findall(r"^## (.+)$", README, re.MULTILINE)
    assert {"Install", "Quickstart", "In CI", "Check your own numbers"} <= set(headings), headings
    assert "./bpcheck.sh run --case mazur-2015" in README and "./bpcheck.sh test" in README


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_no_internal_history_in_user_documents(doc):
    text = doc.read_text(encoding="utf-8")
    history = re.findall(r"\bissues? \d+\b|\bcommit [0-9a-f]{7,40}\b|\bhelper branch\b|\bsession \d\b", text)
    assert not history, f"{doc.name}: {history}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(doc):
    text = doc.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", text):
        assert (doc.parent / target).exists(), f"{doc.name}: link to {target} does not resolve"
