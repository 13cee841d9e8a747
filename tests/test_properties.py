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
import os
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bpcheck import backends, crosscheck
from bpcheck.cost import SLOW_BACKENDS
from bpcheck.reference import activations
from bpcheck.reference.case import PLAIN, Case, case_file, parse_case
from bpcheck.reference.mlp import ACTIVATIONS, BIASES, LOSSES, REDUCTIONS
from bpcheck.reference.oracle import exact_step, rounded_parameters
from bpcheck.reference.quantities import Layout
from bpcheck.tolerance import allowed_ulps
from bpcheck.ulps import ulps

#: Examples per backend in the default profile: JAX compiles each new network shape (~1 s).
DEFAULT_EXAMPLES = {
    "reference": 8,
    "numpy": 8,
    "torch": 5,
    "torch-func": 3,
    "jax-jit": 2,
    "tensorflow": 3,
    "autograd": 3,
    "jax": 2,
    "torch-compile": 1,
}
RECORD = os.environ.get("BPCHECK_RECORD_ULPS")  # path: append the worst ULPs/rho seen per example


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
    "backend", [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW_BACKENDS else []) for n in DEFAULT_EXAMPLES]
)
def test_random_networks_agree_with_exact(backend, request):
    if backends.status(backend) != "available":
        pytest.skip(f"{backend} {backends.status(backend)}")
    from hypothesis import settings

    profile = settings()
    examples = profile.max_examples if profile.max_examples > 100 else DEFAULT_EXAMPLES[backend]

    @settings(max_examples=examples)
    @given(random_cases())
    def check(case: Case) -> None:
        assume(_off_the_kinks(case))
        b = backends.get(backend)
        rho = crosscheck.step_conditions(case)
        for dtype in crosscheck.DTYPES:
            params = rounded_parameters(case, dtype)
            start = time.perf_counter()
            got = {
                **b.forward(case, params, dtype, "cpu"),
                **b.gradients(case, params, dtype, "cpu"),
                **{f"{k}+": v for k, v in b.step(case, params, case.config, dtype, "cpu").items()},
            }
            seconds = time.perf_counter() - start
            exact = crosscheck.by_rule(case, exact_step(case, dtype, PLAIN), exact_step(case, dtype, case.config))
            bad, worst = [], {}
            for name, x in exact.items():
                d = ulps(got[name], x, dtype)
                stage = case.layout.stage_of[name]
                worst[stage] = max(worst.get(stage, 0.0), d / max(1.0, rho[name]))
                bound = allowed_ulps(stage, rho[name])
                if not d <= bound:
                    bad.append(f"{name}: got {got[name]!r}, exact {float(x)!r}: {d:.4g} ULPs > {bound:.4g}")
            if RECORD:
                with open(RECORD, "a") as f:
                    f.write(json.dumps({"backend": backend, "dtype": dtype, "worst": worst, "seconds": seconds}) + "\n")
            assert not bad, (
                f"{backend} {dtype}: " + "; ".join(bad[:5]) + "\n--- ready-to-run case file ---\n" + case_file(case)
            )

    check()
