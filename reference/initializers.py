"""Named initialisers: weights drawn from a seeded generator, for cases that do not give them
("what if I don't know the weights?"). NumPy's PCG64 stream is fixed for a given seed, so a
case file with a seed names its numbers exactly; biases start at `bias` (default 0)."""

from __future__ import annotations

import math
from typing import Any

from bpcheck.reference.quantities import Layout

INITIALIZERS = ("uniform", "normal", "xavier-uniform", "he-normal")


def initialize(layout: Layout, table: dict[str, Any]) -> dict[str, float]:
    """The drawn parameters by name."""
    return dict(zip(layout.parameter_names(), initialize_array(layout, table).tolist()))


def initialize_array(layout: Layout, table: dict[str, Any]) -> Any:
    """The drawn parameters as a float64 array in the order of `layout.parameters`."""
    import numpy as np

    name = table.get("name")
    if name not in INITIALIZERS:
        raise ValueError(f"name: expected one of {', '.join(INITIALIZERS)}, got {name!r}")
    seed = table.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
    scale = float(table.get("scale", 1.0))
    bias = float(table.get("bias", 0.0))
    if not (math.isfinite(scale) and scale > 0 and math.isfinite(bias)):
        raise ValueError(f"scale: expected a finite number > 0 and a finite bias, got {scale!r}, {bias!r}")
    rng = np.random.Generator(np.random.PCG64(seed))
    params = []
    for l in range(len(layout.sizes) - 1):  # one draw per weight, in order: the scalar draws' stream
        fan_in, fan_out = layout.sizes[l], layout.sizes[l + 1]
        n = fan_in * fan_out
        if name == "uniform":
            v = rng.uniform(-scale, scale, n)
        elif name == "normal":
            v = rng.normal(0.0, scale, n)
        elif name == "xavier-uniform":
            limit = scale * math.sqrt(6.0 / (fan_in + fan_out))
            v = rng.uniform(-limit, limit, n)
        else:
            v = rng.normal(0.0, scale * math.sqrt(2.0 / fan_in), n)
        params.append(v)  # w[l][j][k], row by row: the order of the names
    params.append(np.full(len(layout.biases), bias))
    return np.concatenate(params, dtype=np.float64)
