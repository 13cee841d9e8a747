"""Property-based differential testing: random networks, every backend against the exact oracle.

Hypothesis draws a case (1-4 layers, widths 1-8, every activation, loss, reduction and bias
mode, a batch of 1-8, weights and inputs in [-1, 1] so the network stays out of saturation),
writes it as a case file, and checks one training step of every available backend, in
float64 and float32, against the exact oracle within the tolerance policy. A failure shrinks
to a small case and prints it as a ready-to-run case file.

Profiles (tests/conftest.py): `default` (fixed seed, a few examples per backend) runs in the
default suite; `--hypothesis-profile=thorough` runs thousands. The oracle's cost is bounded by
the case sizes above (at most 4 x 8 x 8 weights and 8 examples).
"""

from __future__ import annotations

import json
import math
import os
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpcheck import backends, engine, matrix
from bpcheck.cost import slow_reason
from bpcheck.judge import Cell, judge
from bpcheck.reference import activations
from bpcheck.reference.arith import FLOAT64
from bpcheck.reference.case import Case, case_file, parse_case
from bpcheck.reference.mlp import ACTIVATIONS, BIASES, LOSSES, REDUCTIONS
from bpcheck.reference.quantities import Layout
from bpcheck.reference.trace import forward


def default_examples(backend: str) -> int:
    """Examples in the default profile: about a second of the backend's declared cost per network
    (JAX compiles each new network shape, ~1 s), 1 to 8."""
    return min(8, math.ceil(1.0 / backends.declaration(backend).network_seconds))


RECORD = os.environ.get("BPCHECK_RECORD_ULPS")  # path: append the worst ULPs/bound seen per example


def _numbers(n: int) -> st.SearchStrategy[list[float]]:
    return st.lists(st.floats(-1, 1, allow_nan=False).map(lambda v: round(v, 6)), min_size=n, max_size=n)


@st.composite
def random_cases(draw: st.DrawFn, regime: str = "plain") -> Case:
    """A random network; `regime` pushes it where verdicts are hard: "saturated" (weights of
    20-60, so sigmoid and tanh round to +-1), "kink" (relu or leaky_relu with exact zeros among
    the weights and inputs, so pre-activations sit exactly on the kink), "vanishing" (targets
    equal to the network's own float64 outputs, so the error and the output deltas vanish)."""
    depth = draw(st.integers(1, 4))
    sizes = [draw(st.integers(1, 8)) for _ in range(depth + 1)]
    loss = draw(st.sampled_from(LOSSES))
    if loss == "softmax-ce":
        sizes[-1] = max(sizes[-1], 2)
    kinked = [a for a in ACTIVATIONS if not activations.get(a).analytic]
    acts = [draw(st.sampled_from(kinked if regime == "kink" else ACTIVATIONS)) for _ in range(depth)]
    acts[-1] = {"bce": "sigmoid", "softmax-ce": "identity"}.get(loss, acts[-1])
    bias, reduction, batch = draw(st.sampled_from(BIASES)), draw(st.sampled_from(REDUCTIONS)), draw(st.integers(1, 8))
    layout = Layout(tuple(sizes), bias, batch, loss, tuple(acts))
    values = draw(_numbers(len(layout.parameters)))
    inputs = [draw(_numbers(sizes[0])) for _ in range(batch)]
    if regime == "saturated":
        values = [v * draw(st.sampled_from([20, 40, 60])) for v in values]
    if regime == "kink":
        values = [0.0 if draw(st.booleans()) else v for v in values]
        inputs = [[0.0 if draw(st.booleans()) else v for v in r] for r in inputs]
    if loss == "softmax-ce":
        targets = [[float(k == draw(st.integers(0, sizes[-1] - 1))) for k in range(sizes[-1])] for _ in range(batch)]
    else:
        targets = [[abs(v) for v in draw(_numbers(sizes[-1]))] for _ in range(batch)]
    row = lambda r: "[" + ", ".join(f'"{v!r}"' for v in r) + "]"  # noqa: E731
    rate, config = draw(st.sampled_from(["0.5", "0.1", "0.01"])), draw(st.sampled_from(["plain", "output-first"]))
    text = lambda targets: "\n".join(  # noqa: E731
        [
            'name = "hypothesis"',
            'title = "drawn by Hypothesis"',
            "",
            "[network]",
            f"layer_sizes = {sizes}",
            "activations = [" + ", ".join(f'"{a}"' for a in acts) + "]",
            f'loss = "{loss}"',
            f'bias = "{bias}"',
            "",
            "[data]",
            "inputs = [" + ", ".join(row(r) for r in inputs) + "]",
            "targets = [" + ", ".join(row(r) for r in targets) + "]",
            f'reduction = "{reduction}"',
            "",
            "[parameters]",
            *(f'{p} = "{v!r}"' for p, v in zip(layout.parameters, values)),
            "",
            "[training]",
            f'learning_rate = "{rate}"',
            f'default_config = "{config}"',
            "",
            "[configs.plain]",
            'doc = "gradient descent"',
            'update_order = "simultaneous"',
            "update_biases = true",
            "",
            "[configs.output-first]",
            'doc = "each layer updated first"',
            'update_order = "output-first"',
            "update_biases = true",
        ]
    )
    case = parse_case(text(targets))
    if regime == "vanishing" and loss in ("half-sse", "mse"):
        own = forward(case, dict(case.parameters), FLOAT64)
        targets = [[float(own[layout.ex(f"out_{o}", n)]) for o in layout.outputs] for n in range(batch)]
        case = parse_case(text(targets))
    return case


def _check(backend: str, case: Case) -> None:
    """Every quantity of one step of `case` from `backend`, in both dtypes, judged: none fails."""
    b = backends.get(backend)
    for dtype in matrix.DTYPES:
        allowed = matrix.allowances(case, dtype, trajectories=False)
        cell = Cell(backend, dtype, "cpu")
        start = time.perf_counter()
        got = engine.compute_cell(case, b, cell, trajectories=False)
        seconds = time.perf_counter() - start
        exact = matrix.exact_values(case, dtype, trajectories=False)
        bad, worst = [], {}
        for t in matrix.targets(case, trajectories=False):
            key = (t.quantity, t.config)
            record = judge(case, cell, t, got[key], exact[key], allowed[key])
            stage = case.layout.stage_of[t.quantity]
            worst[stage] = max(worst.get(stage, 0.0), (record.ulps or 0.0) / (record.allowed_ulps or 1.0))
            if record.failed:
                bad.append(record.describe())
        if RECORD:
            with open(RECORD, "a") as f:
                f.write(json.dumps({"backend": backend, "dtype": dtype, "worst": worst, "seconds": seconds}) + "\n")
        assert not bad, (
            f"{backend} {dtype}: " + "; ".join(bad[:5]) + "\n--- ready-to-run case file ---\n" + case_file(case)
        )


def _examples(backend: str) -> int:
    from hypothesis import settings

    profile = settings()
    return profile.max_examples if profile.max_examples > 100 else default_examples(backend)


@pytest.mark.parametrize(
    "backend", [pytest.param(n, marks=[pytest.mark.slow] if slow_reason(n, None) else []) for n in backends.bundled()]
)
def test_random_networks_agree_with_exact(backend):
    """Near the kinks too: the error model spans both sides where rounding may cross one."""
    if backends.status(backend) != "available":
        pytest.skip(f"{backend} {backends.status(backend)}")

    @settings(max_examples=_examples(backend))
    @given(random_cases())
    def check(case: Case) -> None:
        _check(backend, case)

    check()


@pytest.mark.parametrize("regime", ["saturated", "kink", "vanishing"])
@pytest.mark.parametrize("backend", ["reference", "numpy", "torch"])
def test_no_correct_backend_fails_where_verdicts_are_hard(backend, regime):
    """Saturation, values exactly on a kink, vanishing errors: the reference never fails its own
    bound, nor does any other correct backend (the values that cannot be checked are
    ill-conditioned, not failing)."""
    if backends.status(backend) != "available":
        pytest.skip(f"{backend} {backends.status(backend)}")

    @settings(max_examples=_examples(backend))
    @given(random_cases(regime))
    def check(case: Case) -> None:
        _check(backend, case)

    check()
