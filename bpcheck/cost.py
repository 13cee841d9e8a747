"""What each backend costs, and so what the default test run leaves to `-m slow`.

The figures are the ones each backend declares (backends/declarations.py: rough seconds on this
project's 2-core CI-like machine; `bpcheck bench` measures them properly). They decide two
things only: how the worker processes share the work, and which checks are slow. Nothing is
skipped for being slow: the slow part runs under `pytest -m slow` (./bpcheck.sh test-slow),
which CI runs too.
"""

from __future__ import annotations

from bpcheck import backends

#: A training run estimated to take longer than this goes to the slow part (numpy's 10,000
#: steps, ~1.2 s, stay in the default run; torch's, ~4.4 s, do not).
SLOW_TRAINING_SECONDS = 2.0


def slow_reason(backend: str, updates: int | None) -> str | None:
    """Why a check of `backend` after `updates` training steps (None: one step) is slow, or None."""
    declared = backends.declared(backend)
    if declared.slow_reason:
        return declared.slow_reason
    seconds = (updates or 0) * declared.step_seconds
    if seconds > SLOW_TRAINING_SECONDS:
        return f"{updates:,} training steps of {backend} take ~{seconds:.0f} s"
    return None


def in_part(backend: str, updates: int | None, part: str) -> bool:
    """Whether a check belongs to `part`: "fast" (the default run), "slow" or "all"."""
    return part == "all" or (slow_reason(backend, updates) is None) == (part == "fast")


def estimate(backend: str, steps: list[int]) -> float:
    """Rough seconds for one backend, dtype and case: one step's checks plus training runs of
    `steps` (and, for backends that compile per run, a compilation each)."""
    declared = backends.declared(backend)
    runs = len(steps) + 1 if declared.compiles_per_run else 1
    return runs * declared.network_seconds + sum(steps) * declared.step_seconds


def import_seconds(backend: str) -> float:
    """Rough seconds to import `backend`'s framework in a fresh process."""
    return backends.declared(backend).import_seconds
