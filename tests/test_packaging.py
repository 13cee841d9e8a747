"""What `pip install .` puts into a user's environment: one import name, `bpcheck`, with the
design card's folders inside it (bpcheck.reference, bpcheck.backends) and the bundled cases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_install_adds_bpcheck_alone_and_it_runs_from_there(tmp_path):
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps"]
    proc = subprocess.run(
        [*pip, "--no-build-isolation", "--target", str(target), str(ROOT)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    imports = {
        p.name.removesuffix(".py") for p in target.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()
    }
    assert imports == {"bpcheck"}, imports
    assert (target / "bpcheck" / "reference" / "cases" / "mazur-2015.toml").exists()
    code = "import bpcheck, sys; print(bpcheck.__file__); print(len(bpcheck.load_case('mazur-2015').published))"
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(target)}, capture_output=True, text=True
    )
    assert run.returncode == 0 and run.stdout.startswith(str(target)), run.stderr[-3000:]
    assert (target / "bpcheck" / "py.typed").exists()

    # An installed copy inside someone else's repository records no commit (not that repository's),
    # and the tool's version comes from its metadata.
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    code = "from bpcheck.reporting import environment as e; print(e.git_commit(), e.own_checkout())"
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(target)}, capture_output=True, text=True
    )
    assert run.stdout.split() == ["None", "None"], run.stdout + run.stderr[-2000:]


def test_the_checkout_records_its_own_commit_and_the_package_records_its_license():
    from importlib import metadata

    from bpcheck.reporting import environment

    assert environment.own_checkout() == ROOT
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    assert (environment.git_commit() or "").startswith(head)
    assert metadata.metadata("backprop-crosscheck")["License-Expression"] == "MIT" and (ROOT / "LICENSE").exists()
    requires = metadata.requires("backprop-crosscheck") or []
    pinned = [r for r in requires if "==" in r.split(";")[0]]
    assert not pinned, f"extras give ranges; exact pins belong in constraints.txt: {pinned}"
    assert any('extra == "all"' in r for r in requires)
