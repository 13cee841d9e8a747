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
from hypothesis import assume, given
from hypothesis import strategies as st

from bpcheck import backends, engine, matrix
from bpcheck.cost import slow_reason
from bpcheck.judge import Cell, judge
from bpcheck.reference import activations
from bpcheck.reference.case import Case, case_file, parse_case
from bpcheck.reference.mlp import ACTIVATIONS, BIASES, LOSSES, REDUCTIONS
from bpcheck.reference.oracle import exact_step
from bpcheck.reference.quantities import Layout


def default_examples(backend: str) -> int:
    """Examples in the default profile: about a second of the backend's declared cost per network
    (JAX compiles each new network shape, ~1 s), 1 to 8."""
    return min(8, math.ceil(1.0 / backends.declaration(backend).network_seconds))


RECORD = os.environ.get("BPCHECK_RECORD_ULPS")  # path: append the worst ULPs/bound seen per example


def _numbers(n: int) -> st.SearchStrategy[list[float]]:
    return st.lists(st.floats(-1, 1, allow_nan=False).map(lambda v: round(v, 6)), min_size=n, max_size=n)


@st.composite
def random_cases(draw: st.DrawFn) -> Case:
    depth = draw(st.integers(1, 4))
    sizes = [draw(st.integers(1, 8)) for _ in range(depth + 1)]
    loss = draw(st.sampled_from(LOSSES))
    if loss == "softmax-ce":
        sizes[-1] = max(sizes[-1], 2)
    acts = [draw(st.sampled_from(ACTIVATIONS)) for _ in range(depth)]
    acts[-1] = {"bce": "sigmoid", "softmax-ce": "identity"}.get(loss, acts[-1])
    bias, reduction, batch = draw(st.sampled_from(BIASES)), draw(st.sampled_from(REDUCTIONS)), draw(st.integers(1, 8))
    layout = Layout(tuple(sizes), bias, batch, loss, tuple(acts))
    values = draw(_numbers(len(layout.parameters)))
    inputs = [draw(_numbers(sizes[0])) for _ in range(batch)]
    if loss == "softmax-ce":
        targets = [[float(k == draw(st.integers(0, sizes[-1] - 1))) for k in range(sizes[-1])] for _ in range(batch)]
    else:
        targets = [[abs(v) for v in draw(_numbers(sizes[-1]))] for _ in range(batch)]
    row = lambda r: "[" + ", ".join(f'"{v!r}"' for v in r) + "]"  # noqa: E731
    text = "\n".join(
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
            f'learning_rate = "{draw(st.sampled_from(["0.5", "0.1", "0.01"]))}"',
            f'default_config = "{draw(st.sampled_from(["plain", "output-first"]))}"',
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
    return parse_case(text)


def _off_the_kinks(case: Case) -> bool:
    """No net input within 1e-6 of a kink of its activation (reference/activations.py): there the
    derivative jumps, and backends may legitimately round to opposite sides."""
    step = exact_step(case, "float32")
    kind = {f"net_{n}": a for l, a in enumerate(case.spec.activations) for n in case.layout.labels[l + 1]}
    nets = ((kind[k.partition("[")[0]], v) for k, v in step.items() if k.partition("[")[0] in kind)
    return all(activations.kink_distance(a, v) > 1e-6 for a, v in nets)


@pytest.mark.parametrize(
    "backend", [pytest.param(n, marks=[pytest.mark.slow] if slow_reason(n, None) else []) for n in backends.bundled()]
)
def test_random_networks_agree_with_exact(backend, request):
    if backends.status(backend) != "available":
        pytest.skip(f"{backend} {backends.status(backend)}")
    from hypothesis import settings

    profile = settings()
    examples = profile.max_examples if profile.max_examples > 100 else default_examples(backend)

    @settings(max_examples=examples)
    @given(random_cases())
    def check(case: Case) -> None:
        assume(_off_the_kinks(case))
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

    check()
