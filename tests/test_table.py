"""The run table fits the terminal: no line over 80 or 120 columns with every default backend
(the backends split over as few tables as it takes), the exact value once per row, and `--wide`
with every value in full."""

from __future__ import annotations

import pytest

from bpcheck import table
from bpcheck.judge import Record

BACKENDS = ["reference", "numpy", "torch", "torch-func", "jax-jit", "tensorflow", "autograd"]


def record(backend: str, quantity: str, ulps: float = 0.4, verdict: str = "pass", **kw) -> Record:
    fields = dict(
        case="mazur-2015",
        backend=backend,
        dtype="float64",
        device="cpu",
        quantity=quantity,
        value=0.593269992107,
        exact="0.59326999210718559000",
        ulps=ulps,
        allowed_ulps=8.0,
        condition=4.0,
        published=None,
        verdict=verdict,
        config="as-written",
        measured="after-update",
    )
    return Record(**{**fields, **kw})


def records() -> list[Record]:
    out = []
    for b in BACKENDS:
        out.append(record(b, "out_h1", published="0.593269992", verdict="reproduced"))
        out.append(
            record(b, "dE_total/dw5", ulps=12.5 if b == "torch" else 0.2, verdict="fail" if b == "torch" else "pass")
        )
        out.append(record(b, "E_total@10000", config="output-first", value=3.5e-05, exact="3.5108548122e-05"))
    return out


def lines(text: str) -> list[str]:
    return text.splitlines()


@pytest.mark.parametrize("width", [80, 100, 120, 200])
def test_no_line_is_wider_than_the_terminal(width):
    text = table.render(records(), width=width)
    assert max(len(line) for line in lines(text)) <= width
    for b in BACKENDS:  # every backend is still there, in some table
        assert b[:4] in text


def test_120_columns_hold_every_default_backend_in_one_table():
    text = table.render(records(), width=120)
    assert sum(1 for line in lines(text) if line.startswith("quantity")) == 1
    assert sum(1 for line in lines(table.render(records(), width=80)) if line.startswith("quantity")) >= 2


def test_failing_rows_are_marked_and_the_title_counts_what_it_shows():
    text = table.render(records(), width=120)
    title = lines(text)[0]
    assert "3 quantities x 7 backends = 21 values, 7 failing" not in title  # one failing value, not seven
    assert "3 quantities x 7 backends = 21 values, 1 failing" in title
    row = next(line for line in lines(text) if line.startswith("dE_total/dw5"))
    assert "FAIL 12.5" in row
    assert "under output-first:" in text  # the second rule's rows come under its name


def test_the_printed_figure_is_marked_and_an_unreproduced_one_is_named():
    recs = records()
    recs[3] = record("numpy", "out_h1", published="0.593269992", verdict="not-reproduced", ulps=99.0)
    text = table.render(recs, width=120)
    assert "0.593269992 \u2717" in text and "out_h1 [as-written]: 0.593269992 \u2717 not reproduced by numpy" in text


def test_wide_gives_every_value_in_full():
    text = table.render(records(), wide=True)
    assert sum(1 for line in lines(text) if line.startswith("quantity")) == 1
    assert "0.593269992107 (0.4)" in text
