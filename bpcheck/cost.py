"""What each backend costs, and so what the default test run leaves to `-m slow`.

The figures are rough seconds on this project's 2-core CI-like machine (2026-11, float64, the
post's network; `bpcheck bench` measures them properly). They decide two things only: how the
worker processes share the work, and which checks are slow. Nothing is skipped for being slow:
the slow part runs under `pytest -m slow` (./bpcheck.sh test-slow), which CI runs too.
"""

from __future__ import annotations

#: Whole backends that are slow whatever they compute, with the reason.
SLOW_BACKENDS: dict[str, str] = {
    "torch-compile": "torch.compile compiles every piece per shape and dtype (seconds each)",
    "jax": "eager JAX dispatches and differentiates op by op (~4 s per network and dtype)",
}

#: Seconds per training step of the post's network (as-written rule), eager Python loops
#: included. jax-jit trains in one compiled lax.scan: its cost is the compilation.
STEP_SECONDS: dict[str, float] = {
    "reference": 3e-6,
    "numpy": 12e-6,
    "torch": 3.5e-4,
    "torch-func": 2e-3,
    "torch-compile": 1e-3,
    "jax": 15e-3,
    "jax-jit": 1e-6,
    "tensorflow": 4e-5,
    "autograd": 1e-3,
}

#: A training run estimated to take longer than this goes to the slow part.
SLOW_TRAINING_SECONDS = 1.0

#: Rough seconds per backend and dtype for one bundled case's single step (imports and
#: compilation included), used only to balance the workers' shares.
STARTUP_SECONDS: dict[str, float] = {
    "reference": 0.3,
    "numpy": 0.3,
    "torch": 1.0,
    "torch-func": 1.5,
    "torch-compile": 30.0,
    "jax": 3.0,
    "jax-jit": 1.2,
    "tensorflow": 1.5,
    "autograd": 1.0,
}


def slow_reason(backend: str, updates: int | None) -> str | None:
    """Why a check of `backend` after `updates` training steps (None: one step) is slow, or None."""
    if backend in SLOW_BACKENDS:
        return SLOW_BACKENDS[backend]
    if updates and updates * STEP_SECONDS.get(backend, 0.0) > SLOW_TRAINING_SECONDS:
        seconds = updates * STEP_SECONDS[backend]
        return f"{updates:,} training steps of {backend} take ~{seconds:.0f} s"
    return None


def in_part(backend: str, updates: int | None, part: str) -> bool:
    """Whether a check belongs to `part`: "fast" (the default run), "slow" or "all"."""
    return part == "all" or (slow_reason(backend, updates) is None) == (part == "fast")


def estimate(backend: str, steps: list[int]) -> float:
    """Rough seconds for one backend, dtype and case: startup plus training runs of `steps`."""
    return STARTUP_SECONDS.get(backend, 1.0) + sum(steps) * STEP_SECONDS.get(backend, 1e-4)
