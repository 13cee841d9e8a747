"""The folders' layering: reference/ needs nothing of bpcheck but itself (NumPy, mpmath and gmpy2
aside); backends/ needs nothing of bpcheck but reference/ and itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {"reference": ("bpcheck.reference",), "backends": ("bpcheck.reference", "bpcheck.backends")}


def _bpcheck_imports(path: Path) -> set[str]:
    """Every bpcheck module a file imports, `from bpcheck import x` read as bpcheck.x."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "bpcheck":
            found |= {f"bpcheck.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.split(".")[0] == "bpcheck"}


@pytest.mark.parametrize("folder", list(ALLOWED))
def test_a_folder_imports_only_the_layers_below_it(folder):
    bad = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted((ROOT / folder).glob("*.py"))
        for module in sorted(_bpcheck_imports(path))
        if not module.startswith(ALLOWED[folder])
    ]
    assert not bad, bad
