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

#: Seconds per training step of the post's network (as-written rule, float64), eager Python
#: loops included: `bpcheck bench` on the 2-core machine, 2026-11-27 (reports/bench/bench.json).
#: jax-jit trains in one compiled lax.scan: its cost is the compilation.
STEP_SECONDS: dict[str, float] = {
    "reference": 2e-5,
    "numpy": 1.15e-4,
    "torch": 4.4e-4,
    "torch-func": 1.1e-3,
    "torch-compile": 1.5e-3,
    "jax": 1.3e-2,
    "jax-jit": 3e-7,
    "tensorflow": 3.2e-5,
    "autograd": 7.3e-4,
}

#: A training run estimated to take longer than this goes to the slow part (numpy's 10,000
#: steps, ~1.2 s, stay in the default run; torch's, ~4.4 s, do not).
SLOW_TRAINING_SECONDS = 2.0

#: Rough seconds to import a backend's framework in a fresh process (2 cores, 2026-11).
IMPORT_SECONDS: dict[str, float] = {"torch": 2.0, "torch-func": 2.0, "torch-compile": 6.0, "tensorflow": 5.7}
IMPORT_SECONDS.update({"jax": 0.7, "jax-jit": 0.7, "autograd": 1.0, "numpy": 0.1, "reference": 0.0})

#: Rough seconds per bundled case and dtype for one step's checks (compilation included:
#: jax-jit's is ~0.9 s with JAX's compilation cache cold, ~0.2 s warm).
NETWORK_SECONDS: dict[str, float] = {"reference": 0.05, "numpy": 0.1, "torch": 0.2, "torch-func": 0.4}
NETWORK_SECONDS.update({"torch-compile": 30.0, "jax": 4.0, "jax-jit": 0.9, "tensorflow": 0.35, "autograd": 0.1})


def import_seconds(backend: str) -> float:
    """Rough seconds to import the backend's framework in a fresh process."""
    return IMPORT_SECONDS.get(backend, 1.0)


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
    """Rough seconds for one backend, dtype and case: one step's checks plus training runs of
    `steps` (and, for jit modes, a compilation per run)."""
    compiles = len(steps) * NETWORK_SECONDS.get(backend, 0.5) if backend in ("jax-jit", "tensorflow") else 0.0
    return NETWORK_SECONDS.get(backend, 0.5) + compiles + sum(steps) * STEP_SECONDS.get(backend, 1e-4)
