"""Guards on size: before any heavy work, estimate what a command will cost, and refuse (exit 2,
one line) what is beyond the limits unless --allow-large is given.

The work of the cross-check grows with the number of quantities of one training step (Q, about
3 per parameter: the gradient, the update, and for one hidden layer and one example the
per-connection piece dnet/dw), with the training steps asked for (case steps and published
trajectory figures: parameters x examples x steps, in 60-digit MPFR for the exact oracle), with the
dtypes (one exact oracle each) and with the backends (one cell each). `bpcheck oracles` evaluates
E_total once per parameter and step size, so it grows with the square of the parameters.

The constants below are measured on this project's 2-core machine (benchmarks/memory.py prints
them; docs/limits.md has the table) with a margin, so that an estimate is high rather than low:
a run that passes the guard finishes near its estimate or sooner; one that is refused would have
taken at least about the limit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from bpcheck.cliutil import UsageError
from bpcheck.reference.case import Case

#: Above either limit a command refuses to start without --allow-large.
LIMIT_SECONDS = 300.0
LIMIT_BYTES = 2 * 2**30

#: Seconds per quantity of one step, per dtype: the exact oracle and the error model's bounds
#: (one trace each where the case's rule updates simultaneously, a wide layer's a row at a time).
#: Measured with numpy float64 all in (benchmarks/memory.py, docs/limits.md): 7.5 us
#: ([2000, 2000, 1]: 90 s for 12,024,009 quantities; [1000, 1000, 1]: 22.8 s for 3,012,009, of
#: which the error model 13.3 s, the oracle 8.8 s, the cell 0.2 s), 12.5 us with the machine
#: shared (37.5 s); x2 margin on 7.5 us.
ORACLE_SECONDS_PER_QUANTITY = 15e-6
#: Seconds per quantity of one step, per backend x dtype cell: the backend's values, and judging
#: each against the exact one. numpy hands its values back by position: 0.1 us; torch builds
#: tensors from lists and hands back lists: 0.6 us ([300, 300, 1] -> [700, 700, 1]: 2.1 s -> 2.8 s
#: over numpy's, after its import); x1.5 margin on torch's.
CELL_SECONDS_PER_QUANTITY = 1e-6
#: Seconds per parameter x example x training step of the exact oracle (60-digit MPFR, forward,
#: backward and update). Measured 1.6 us on [30, 30, 1] over 200 steps; x1.5 margin.
EXACT_TRAINING_SECONDS = 2.5e-6
#: Seconds per parameter x example x training step of a backend: a framework's matrix step is far
#: cheaper than the exact one, but its fixed cost per step (bpcheck/cost.py) is added too. Measured
#: 4 ns (numpy, [1000, 1000, 1]); x2.5 margin.
BACKEND_TRAINING_SECONDS = 10e-9
#: `bpcheck oracles`: finite differences refine their precision (90 to 400 digits) and step per
#: parameter, and each try evaluates E_total, a forward pass over every parameter; the complex
#: step one more. Measured 23 ms per parameter on [2, 100, 1] and [2, 200, 1] (9.4 s, 17.8 s), and
#: 224 s on [2, 400, 1] (a loaded machine: the square term shows); x1.5 margin on each.
ORACLES_SECONDS_PER_PARAMETER = 0.035
ORACLES_SECONDS_PER_PAIR = 4e-5

#: Peak bytes of the whole process tree: a fixed part (the interpreter, NumPy and the project:
#: 40 MB at start, 66 MB in all at [300, 300, 1]), per parameter the case and a backend's arrays,
#: per quantity of one step what each dtype keeps (a wide case's exact values as float64
#: expansions, 32 bytes; its bounds, 9; the judging's masks) and what each cell does (its values,
#: 9 bytes, and in a worker their copies on the way back). Measured: 64 bytes per quantity of one
#: numpy float64 cell in all, 192 per parameter ([300, 300, 1] 66 MB -> [2000, 2000, 1] 782 MB,
#: the tree's peak, benchmarks/memory.py), 144 per quantity for two cells in two workers
#: ([300] 168 MB -> [1000] 545 MB, float64 and float32); split by what each part holds (32, 45
#: and 17 bytes), each x1.25, the cell's raised to cover the workers (docs/limits.md): the
#: estimate is 1.7x the one-cell slope, 1.4x the two-cell one. A framework's own import (torch
#: ~235 MB, jax ~260 MB in its worker) is not counted: the fixed part covers one.
BASE_BYTES = 200 * 2**20
BYTES_PER_PARAMETER = 40
BYTES_PER_QUANTITY = 56  # per dtype
BYTES_PER_CELL_QUANTITY = 40  # per backend x dtype
#: Bytes per training step kept by a training run (E_total of every step, exact and float).
BYTES_PER_STEP = 200

OPTION = "--allow-large"
#: Work estimated to take longer than this many seconds says so before it starts.
SAY_AFTER = 60.0


@dataclass(frozen=True)
class Estimate:
    """What a command is expected to cost, and from what."""

    seconds: float
    bytes: float
    work: str  # e.g. "4,004,001 parameters x 1 step x 1 dtype x 1 backend"

    @property
    def too_large(self) -> bool:
        return self.seconds > LIMIT_SECONDS or self.bytes > LIMIT_BYTES

    def line(self) -> str:
        """One line: the estimate, the limit it passes and the option that allows it."""
        return (
            f"too large: estimated {_duration(self.seconds)} and {_bytes(self.bytes)} of memory for {self.work} "
            f"(limits {_duration(LIMIT_SECONDS)} and {_bytes(LIMIT_BYTES)}, bpcheck/size.py); "
            f"{OPTION} runs it anyway"
        )


def add_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        OPTION,
        action="store_true",
        help=f"run even if the estimate passes {_duration(LIMIT_SECONDS)} or {_bytes(LIMIT_BYTES)} (docs/limits.md)",
    )


def guard(estimate: Estimate, allow: bool) -> Estimate:
    """Refuses (UsageError: exit 2, one line) an estimate beyond the limits unless `allow`."""
    if estimate.too_large and not allow:
        raise UsageError(estimate.line())
    if estimate.seconds > SAY_AFTER:
        print(f"bpcheck: estimated {_duration(estimate.seconds)} for {estimate.work}", file=sys.stderr, flush=True)
    return estimate


def parameters(case: Case) -> int:
    return case.layout.parameter_count


def quantities(case: Case) -> int:
    return case.layout.quantity_count


def training_runs(case: Case, trajectories: bool) -> list[int]:
    """The training runs the cross-check makes: the steps of each (config, updates) pair."""
    if not trajectories:
        return []
    runs = {(f.config or case.default_config, f.updates) for f in case.published if f.updates}
    if case.steps:
        runs.add((case.default_config, case.steps))
    return [n for _, n in runs]


def crosscheck(
    cases: Sequence[Case],
    n_backends: int,
    n_dtypes: int,
    trajectories: bool = True,
    curve_steps: int = 0,
) -> Estimate:
    """run, report, verify --backend and explain: every case on `n_backends` x `n_dtypes` cells."""
    seconds, peak, total_q, total_p, most_steps = 0.0, 0.0, 0, 0, 0
    for case in cases:
        p, q, b = parameters(case), quantities(case), len(case.inputs)
        runs = training_runs(case, trajectories) + ([curve_steps] if curve_steps else [])
        steps = sum(runs)
        seconds += n_dtypes * q * (ORACLE_SECONDS_PER_QUANTITY + n_backends * CELL_SECONDS_PER_QUANTITY)
        seconds += n_dtypes * steps * p * b * (EXACT_TRAINING_SECONDS + n_backends * BACKEND_TRAINING_SECONDS)
        per_quantity = n_dtypes * (BYTES_PER_QUANTITY + n_backends * BYTES_PER_CELL_QUANTITY)
        peak = max(peak, p * BYTES_PER_PARAMETER + q * per_quantity + max(runs, default=0) * BYTES_PER_STEP)
        total_q, total_p, most_steps = total_q + q, total_p + p, max(most_steps, max(runs, default=1))
    work = (
        f"{_count(total_p, 'parameter')} ({_count(total_q, 'quantity')} of one step) x "
        f"{_count(most_steps, 'training step')} x {_count(n_dtypes, 'dtype')} x {_count(n_backends, 'backend')}"
    )
    return Estimate(seconds, BASE_BYTES + peak, work)


def oracles(cases: Sequence[Case]) -> Estimate:
    """`bpcheck oracles`: the exact step, then E_total per parameter for both oracles."""
    seconds, peak, total_p = 0.0, 0.0, 0
    for case in cases:
        p, q, b = parameters(case), quantities(case), len(case.inputs)
        per_parameter = ORACLES_SECONDS_PER_PARAMETER + p * ORACLES_SECONDS_PER_PAIR
        seconds += q * ORACLE_SECONDS_PER_QUANTITY + p * b * per_parameter
        peak = max(peak, p * BYTES_PER_PARAMETER + q * BYTES_PER_QUANTITY)  # the exact step, in float64
        total_p += p
    work = f"{_count(total_p, 'parameter')} x {_count(total_p, 'parameter')} (one E_total per gradient and step)"
    return Estimate(seconds, BASE_BYTES + peak, work)


def _count(n: int, what: str) -> str:
    plural = {"quantity": "quantities"}.get(what, what + "s")
    return f"{n:,} {what if n == 1 else plural}"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    if seconds < 2 * 365 * 86400:
        return f"{seconds / 86400:.0f} days"
    return f"{seconds / (365 * 86400):.2g} years"


def _bytes(n: float) -> str:
    if n < 2**30:
        return f"{n / 2**20:.0f} MB"
    if n < 2**40:
        return f"{n / 2**30:.1f} GB"
    return f"{n / 2**40:.3g} TB"
