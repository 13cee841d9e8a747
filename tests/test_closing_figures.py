"""The post's closing figures: which update rule, how many updates and when the error is read
reproduce each one. The search is over every configuration of the case, both ways of reading
the error, at the number of updates the post states."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bpcheck.reference import arith
from bpcheck.reference.case import MEASURED, load_case
from bpcheck.reference.oracle import exact_after
from bpcheck.reference.quantities import split_trajectory_name
from bpcheck.reference.trace import forward, train

#: Its module-scoped fixtures are computed once: pytest-xdist (--dist loadgroup) keeps the file in one worker.
pytestmark = pytest.mark.xdist_group("closing-figures")

CASE = load_case("mazur-2015")
CLOSING = [f for f in CASE.published if split_trajectory_name(f.quantity)]


def _forward_after(config: str, counts: set[int]) -> dict[int, dict[str, float]]:
    """Forward passes of the float64 reference (the post's author used Python floats) after
    each number of updates in `counts`, from one training run."""
    params, done, out = CASE.parameters, 0, {}
    for n in sorted(counts):
        trained = train(CASE, params, CASE.configs[config], n - done, arith.FLOAT64)
        params, done = {k: float(v) for k, v in trained.params.items()}, n
        out[n] = {k: float(v) for k, v in forward(CASE, params, arith.FLOAT64).items()}
    return out


@pytest.fixture(scope="module")
def search() -> dict[tuple[str, str, str], float]:
    """(figure quantity, config, measured) -> value, for every combination."""
    stated = {split_trajectory_name(f.quantity)[1] for f in CLOSING}  # type: ignore[index]
    counts = stated | {n - 1 for n in stated}
    out = {}
    for config in CASE.configs:
        after = _forward_after(config, counts)
        for f in CLOSING:
            base, n = split_trajectory_name(f.quantity)  # type: ignore[misc]
            for measured in MEASURED:
                out[(f.quantity, config, measured)] = after[n - 1 if measured == "loss-of-last-step" else n][base]
    return out


def _reproduces(value: float, printed: str) -> bool:
    unit = Decimal(1).scaleb(Decimal(printed).as_tuple().exponent)  # type: ignore[arg-type]
    return abs(Decimal(repr(value)) - Decimal(printed)) <= unit


@pytest.mark.parametrize("figure", CLOSING, ids=lambda f: f.quantity)
def test_named_configuration_reproduces_figure_exactly(figure):
    """The exact oracle, run under the configuration the data names, gives the printed figure."""
    base, n = split_trajectory_name(figure.quantity)  # type: ignore[misc]
    assert figure.updates == (n - 1 if figure.measured == "loss-of-last-step" else n)
    value = exact_after(CASE, "float64", CASE.configs[figure.config], figure.updates)[base]
    assert _reproduces(float(value), figure.value), f"{figure.quantity}: exact {value} vs printed {figure.value}"


@pytest.mark.parametrize("figure", CLOSING, ids=lambda f: f.quantity)
def test_only_the_named_configuration_reproduces_it(figure, search):
    hits = [(c, m) for (q, c, m), v in search.items() if q == figure.quantity and _reproduces(v, figure.value)]
    assert hits == [(figure.config, figure.measured)], f"{figure.quantity}: reproduced by {hits}"


@pytest.mark.parametrize("figure", CLOSING, ids=lambda f: f.quantity)
def test_the_rule_the_text_describes_does_not_reproduce_it(figure, search):
    """The finding recorded in the case file: none of the closing figures comes out of the
    text's own rule with the error read after the update."""
    value = search[(figure.quantity, CASE.default_config, "after-update")]
    assert not _reproduces(value, figure.value), f"{figure.quantity} = {value} would reproduce {figure.value}"
