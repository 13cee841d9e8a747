"""Case files: the bundled example loads, and a broken file gets one line naming the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bpcheck.reference.case import CaseError, load_case

GOOD = (load_case("mazur-2015").path).read_text()


def test_published_figures_use_the_vocabulary():
    case = load_case("mazur-2015")
    names = {q.name for q in case.layout.step_quantities}
    assert len(case.published) == 33
    assert all(f.quantity in names or "@" in f.quantity for f in case.published)
    assert case.parameters["w7"] == 0.5 and case.learning_rate == 0.5


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('activation = "sigmoid"', 'activation = "swish"', "network.activation: expected one of sigmoid, tanh"),
        ('inputs = ["0.05", "0.10"]', 'inputs = ["0.05"]', "data.inputs: expected 2 values (the layer size)"),
        (
            'targets = ["0.01", "0.99"]',
            'targets = [["0.01", "0.99"], ["0.5", "0.5"]]',
            "data.targets: expected 1 examples",
        ),
        ('w1 = "0.15"', 'w1 = "nan"', "parameters.w1: expected a finite number"),
        ('w1 = "0.15"', 'w1 = "inf"', "parameters.w1: expected a finite number"),
        ('w1 = "0.15"', 'w1 = "0.1.5"', "parameters.w1: expected a decimal number"),
        ('w1 = "0.15"', 'w9 = "0.15"', "parameters.w9: unknown key; expected one of w1, w2"),
        ('learning_rate = "0.5"', 'learning_rate = "-0.5"', "training.learning_rate: expected a number > 0"),
        ('learning_rate = "0.5"', 'learning_rate = "0"', "training.learning_rate: expected a number > 0"),
        (
            'default_config = "as-written"',
            'default_config = "as-written"\nsteps = -3',
            "training.steps: expected an integer >= 0",
        ),
        ('update_order = "output-first"', 'update_order = "random"', "update_order: expected one of simultaneous"),
        ('quantity = "w8+"', 'quantity = "w9+"', "quantity: expected a quantity name of the vocabulary"),
        ('w8 = "0.55"', 'w8 = "0.55"\nw8 = "0.56"', "not valid TOML"),
        ("layer_sizes = [2, 2, 2]", "layer_sizes = [2, 0, 2]", "network.layer_sizes: expected at least 2 positive"),
        ("layer_sizes = [2, 2, 2]", "layer_sizes = []", "network.layer_sizes: expected at least 2 positive"),
        ('loss = "half-sse"', 'loss = "hinge"', "network.loss: expected one of half-sse, mse, bce, softmax-ce"),
        ('loss = "half-sse"', 'loss = "softmax-ce"', "an identity output layer for softmax-ce"),
        ('bias = "shared-per-layer"', 'bias = "per-layer"', "network.bias: expected one of per-neuron"),
        ("[network]", "[netwrk]\n[network]", "netwrk: unknown key; did you mean 'network'?"),
    ],
)
def test_invalid_case_file(tmp_path, old, new, message):
    assert old in GOOD
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(CaseError) as err:
        load_case(str(path))
    text = str(err.value)
    assert "\n" not in text and text.startswith(str(path)) and message in text, text


def test_numbers_are_kept_as_the_file_writes_them(tmp_path):
    """A decimal string keeps every digit, a TOML number is its shortest round-tripping decimal,
    a drawn weight likewise; the floats the backends get are their roundings."""
    text = GOOD.replace('w1 = "0.15"', 'w1 = "0.1500000000000000000000001"').replace('w2 = "0.20"', "w2 = 0.2")
    text = text.replace('learning_rate = "0.5"', "learning_rate = 1")
    path = tmp_path / "digits.toml"
    path.write_text(text)
    case = load_case(str(path))
    d = case.decimals
    assert str(d.parameters["w1"]) == "0.1500000000000000000000001" and case.parameters["w1"] == 0.15
    assert str(d.parameters["w2"]) == "0.2" and str(d.learning_rate) == "1" and case.learning_rate == 1.0
    assert d.inputs == ((Decimal("0.05"), Decimal("0.10")),) and case.inputs == ((0.05, 0.1),)
    drawn = load_case("xor-h3")
    assert all(Decimal(repr(drawn.parameters[p])) == v for p, v in drawn.decimals.parameters.items())
