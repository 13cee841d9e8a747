"""Cases are data: a TOML file per network, its training data, update rules and published figures.

`load_case` validates as it reads, against the schema of reference/schema.py, and raises
`CaseError` with a one-line message naming the file, the field and what was expected.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from bpcheck.reference import schema
from bpcheck.reference.initializers import initialize_array
from bpcheck.reference.mlp import LOGIT_LOSSES, Spec
from bpcheck.reference.quantities import Layout, Positional, split_trajectory_name
from bpcheck.reference.schema import MEASURED as MEASURED  # re-exported: the loader's names
from bpcheck.reference.schema import UPDATE_ORDERS as UPDATE_ORDERS
from bpcheck.reference.schema import Invalid

CASES_DIR = Path(__file__).parent / "cases"
#: The post's worked example: the case every command uses when none is named.
MAIN_CASE = "mazur-2015"
#: The top-level keys (sections) a case file may have: the schema's (reference/schema.py).
TOP_LEVEL = tuple(schema.CASE[""].keys)


class CaseError(ValueError):
    """A case that cannot be used; the message is one line."""


@dataclass(frozen=True)
class Config:
    """One named update rule."""

    name: str
    doc: str
    update_order: str  # "simultaneous" | "output-first"
    update_biases: bool


#: The rule of a plain gradient, every gradient from the same weights: what the protocol's
#: forward() and gradients() compute, whatever rule the case updates with.
PLAIN = Config("plain-gradient", "the true gradient of E_total", "simultaneous", False)


@dataclass(frozen=True)
class Figure:
    """A number the source prints, kept as printed."""

    quantity: str
    value: str
    post_name: str
    section: str
    config: str | None = None  # for closing figures: the configuration that reproduces it
    measured: str = "after-update"
    not_reproduced: str | None = None  # what was tried, for a figure no configuration gives
    not_correctly_rounded: str | None = None  # for a figure whose last digit is off: the exact value, rounded

    @property
    def unit(self) -> Decimal:
        """One unit of the last printed digit: '0.35891648' -> 1E-8."""
        return Decimal((0, (1,), int(Decimal(self.value).as_tuple().exponent)))

    @property
    def updates(self) -> int | None:
        """How many updates the configuration runs before the value is read (None: one step)."""
        split = split_trajectory_name(self.quantity)
        if split is None:
            return None
        return split[1] - 1 if self.measured == "loss-of-last-step" else split[1]


@dataclass(frozen=True)
class Decimals:
    """Every number a case gives, exactly as its file writes it: a decimal string as written, a
    TOML number as the shortest decimal that round-trips (what its author wrote), a drawn weight
    likewise. What a person computing by hand works from; the floats are their roundings."""

    inputs: tuple[tuple[Decimal, ...], ...]  # [example][input]
    targets: tuple[tuple[Decimal, ...], ...]  # [example][output]
    parameters: Mapping[str, Decimal]  # a dict; a wide drawn case's: DrawnDecimals
    learning_rate: Decimal


class DrawnDecimals(Positional):
    """The decimals of a wide case's drawn parameters: each drawn float's shortest round-tripping
    decimal, made when read from the float64 array the case holds (Case.parameters' own)."""

    __slots__ = ()

    def _value(self, v: Any) -> Decimal:
        return Decimal(repr(float(v)))


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    question: str
    path: Path
    spec: Spec
    layout: Layout
    inputs: tuple[tuple[float, ...], ...]  # [example][input]
    targets: tuple[tuple[float, ...], ...]  # [example][output]
    parameters: dict[str, float]  # a wide drawn case's: a Positional (a float64 array read by name)
    learning_rate: float
    configs: dict[str, Config]
    default_config: str
    published: tuple[Figure, ...]
    errata: tuple[dict[str, str], ...]
    decimals: Decimals  # the same numbers as the file writes them (replace() of the floats leaves these)
    steps: int = 0  # training steps whose result the cross-check compares (0: only published figures)

    @property
    def config(self) -> Config:
        return self.configs[self.default_config]

    @property
    def is_posts_network(self) -> bool:
        """The post's kind of network: 2 layers of sigmoids, half-SSE, shared biases, one example
        (reference/backprop.py, the post's equations, computes these)."""
        s = self.spec
        return (
            len(s.sizes) == 3
            and set(s.activations) == {"sigmoid"}
            and s.loss == "half-sse"
            and s.bias == "shared-per-layer"
            and len(self.inputs) == 1
        )


def bundled_cases() -> list[str]:
    return sorted(p.stem for p in CASES_DIR.glob("*.toml"))


def load_case(name_or_path: str) -> Case:
    """A bundled case by name, or a case file by path (a regular file of at most
    schema.MAX_FILE_BYTES; anything else is refused before it is read)."""
    if not name_or_path:
        raise CaseError(f"a case is needed: a bundled name ({', '.join(bundled_cases())}) or a path to a .toml file")
    path = Path(name_or_path)
    try:
        is_path = path.suffix == ".toml" or path.exists()
    except (OSError, ValueError):
        is_path = True  # a name no file can have: reading it says why
    if not is_path:
        path = CASES_DIR / f"{name_or_path}.toml"
        if not path.exists():
            raise CaseError(
                f"unknown case {name_or_path!r}; valid: {', '.join(bundled_cases())} or a path to a .toml file"
            )
    try:
        text = schema.read_text(path, "a case file")
    except Invalid as err:
        raise CaseError(f"{schema.where(path)}: {err.message}") from None
    return _parsed(text, str(path)) if len(text) <= CACHED_TEXT else parse_case(text, path)


#: Case files up to this many characters are parsed once per process and text (a Case is frozen):
#: the test suite asks for the bundled ones hundreds of times; a wide case is not kept.
CACHED_TEXT = 1 << 16


@lru_cache(maxsize=64)
def _parsed(text: str, where: str) -> Case:
    return parse_case(text, Path(where))


def parse_case(text: str, path: Path = Path("<text>")) -> Case:
    """A case from the text of a case file (`path` only names it in error messages)."""
    try:
        raw = tomllib.loads(text, parse_float=schema.TomlFloat.parse)
    except tomllib.TOMLDecodeError as err:
        raise CaseError(f"{schema.where(path)}: not valid TOML: {err}") from None
    except (ValueError, RecursionError) as err:  # an integer of over 4300 digits, arrays nested too deep
        raise CaseError(f"{schema.where(path)}: not valid TOML: {str(err) or 'nested too deeply'}") from None
    try:
        return _read(raw, path)
    except Invalid as err:
        raise CaseError(f"{schema.where(path)}: {err}") from None


def case_file(case: Case) -> str:
    """A ready-to-run case file for `case` (explicit parameters, every value in repr form)."""
    num = lambda v: f'"{float(v)!r}"'  # noqa: E731
    text = json.dumps  # a JSON string is a TOML basic string: quotes and control characters escaped
    rows = lambda rs: "[" + ", ".join("[" + ", ".join(num(v) for v in r) + "]" for r in rs) + "]"  # noqa: E731
    lines = [
        f"name = {text(case.name)}",
        f"title = {text(case.title)}",
        f"question = {text(case.question)}",
        "",
        "[network]",
        f"layer_sizes = {list(case.spec.sizes)}",
        "activations = [" + ", ".join(f'"{a}"' for a in case.spec.activations) + "]",
        f'loss = "{case.spec.loss}"',
        f'bias = "{case.spec.bias}"',
        "",
        "[data]",
        f"inputs = {rows(case.inputs)}",
        f"targets = {rows(case.targets)}",
        f'reduction = "{case.spec.reduction}"',
        "",
        "[parameters]",
        *(f"{p} = {num(v)}" for p, v in case.parameters.items()),
        "",
        "[training]",
        f"learning_rate = {num(case.learning_rate)}",
        f"default_config = {text(case.default_config)}",
        f"steps = {case.steps}",
        "",
    ]
    for c in case.configs.values():
        lines += [
            f"[configs.{text(c.name)}]",
            f"doc = {text(c.doc)}",
            f'update_order = "{c.update_order}"',
            f"update_biases = {'true' if c.update_biases else 'false'}",
            "",
        ]
    return "\n".join(lines)


def _floats(rows: tuple[tuple[Decimal, ...], ...]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in rows)


def _read(raw: dict[str, Any], path: Path) -> Case:
    """The case from a parsed file: the schema's checks (keys, types, ranges, exclusive keys),
    then what depends on other fields (shapes, names, the losses' needs); `Invalid` otherwise."""
    top = schema.check(raw, schema.CASE[""], "", schema.CASE)
    net, data, training = top["network"], top["data"], top["training"]
    sizes = net["layer_sizes"]
    depth = len(sizes) - 1
    if "activations" in net:
        acts = net["activations"]
        if len(acts) != depth:
            raise Invalid(
                "network.activations", f"expected {depth} names (one per layer after the inputs), got {len(acts)}"
            )
    else:
        acts = (net["activation"],) * depth
    loss = net["loss"]
    act_field = "network.activations" if "activations" in net else "network.activation"
    if loss == "bce" and acts[-1] != "sigmoid":
        raise Invalid(act_field, f"expected a sigmoid output layer for bce, got {acts[-1]!r}")
    if loss == "softmax-ce" and acts[-1] != "identity":
        raise Invalid(
            act_field, f"expected an identity output layer for softmax-ce (the loss applies softmax), got {acts[-1]!r}"
        )
    spec = Spec(sizes, acts, loss, net["bias"], data["reduction"])
    inputs, targets = data["inputs"], data["targets"]
    _widths(inputs, "data.inputs", sizes[0])
    _widths(targets, "data.targets", sizes[-1])
    if len(inputs) != len(targets):
        raise Invalid("data.targets", f"expected {len(inputs)} examples (as many as data.inputs), got {len(targets)}")
    _targets(loss, targets)
    layout = Layout(spec.sizes, spec.bias, len(inputs), spec.loss, spec.activations)
    decimals = Decimals(inputs, targets, _parameters(top, layout), training["learning_rate"])
    configs = {n: Config(n, c["doc"], c["update_order"], c["update_biases"]) for n, c in top["configs"].items()}
    default = training["default_config"]
    if default not in configs:
        raise Invalid("training.default_config", f"expected one of {', '.join(configs)}, got {default!r}")
    figures = top["published"]
    known = {q.name for q in layout.step_quantities} if figures else set()  # costly for a wide network
    return Case(
        name=top["name"],
        title=top["title"],
        question=top["question"],
        path=path,
        spec=spec,
        layout=layout,
        inputs=_floats(inputs),
        targets=_floats(targets),
        parameters=_floats_of(decimals.parameters),
        learning_rate=float(decimals.learning_rate),
        configs=configs,
        default_config=default,
        published=tuple(_figure(k, f, known, configs) for k, f in enumerate(figures)),
        errata=top["errata"],
        decimals=decimals,
        steps=training["steps"],
    )


def _widths(rows: tuple[tuple[Decimal, ...], ...], field: str, width: int) -> None:
    for n, row in enumerate(rows):
        if len(row) != width:
            here = field + (f"[{n}]" if len(rows) > 1 else "")
            raise Invalid(here, f"expected {width} values (the layer size), got {len(row)}")


def _targets(loss: str, targets: tuple[tuple[Decimal, ...], ...]) -> None:
    """The logit losses take probabilities: each target in [0, 1]. Outside it the loss is
    unbounded below (bce: softplus(z) - t z with t > 1 falls without end as z grows; softmax-ce:
    t (lse(z) - z) with t < 0 likewise), not a loss training could minimise. softmax-ce's targets
    need not sum to 1: one-hot, soft or multi-hot labels all have the cross-entropy
    -sum t log softmax(z), which the reference (delta = out * sum(t) - t) and every backend compute."""
    if loss not in LOGIT_LOSSES:
        return
    for n, row in enumerate(targets):
        here = "data.targets" + (f"[{n}]" if len(targets) > 1 else "")
        for k, t in enumerate(row):
            if not 0 <= t <= 1:
                raise Invalid(f"{here}[{k}]", f"expected a probability in [0, 1] for {loss}, got {t}")


def _floats_of(decimals: Mapping[str, Decimal]) -> dict[str, float]:
    """The parameters as floats: a wide drawn case's are the array its decimals are read from."""
    if isinstance(decimals, DrawnDecimals):
        return Positional(decimals.layout, decimals.array)  # type: ignore[return-value]
    return {p: float(v) for p, v in decimals.items()}


def _parameters(top: dict[str, Any], layout: Layout) -> Mapping[str, Decimal]:
    """Given explicitly ([parameters]) or drawn by a named initialiser ([initializer]: each
    drawn float as its shortest round-tripping decimal; a wide case's made when read)."""
    if "initializer" in top:
        import numpy as np

        init = top["initializer"]
        drawn = initialize_array(layout, {**init, "scale": float(init["scale"]), "bias": float(init["bias"])})
        drawn.flags.writeable = False
        held = np.abs(drawn) < schema.OVERFLOW["float32"]
        if not held.all():
            k = int(np.flatnonzero(~held)[0])
            p, v = next(itertools.islice(layout.parameter_names(), k, None)), float(drawn[k])
            raise Invalid(
                "initializer.scale",
                f"expected draws of a magnitude float32 can hold ({schema.LARGEST['float32']}), got {p} = {v!r}",
            )
        if layout.wide:
            return DrawnDecimals(layout, drawn)
        return {p: Decimal(repr(v)) for p, v in zip(layout.parameter_names(), drawn.tolist())}
    names = layout.parameters
    params = top["parameters"]
    known = set(names)
    for p in params:
        if p not in known:
            raise schema.unknown(p, names, f"parameters.{schema.name_of(p)}")
    for p in names:
        if p not in params:
            raise Invalid(f"parameters.{p}", "missing")
    return {p: params[p] for p in names}


def _figure(k: int, table: dict[str, Any], known: set[str], configs: dict[str, Config]) -> Figure:
    field = f"published[{k}]"
    quantity = table["quantity"]
    split = split_trajectory_name(quantity)
    if (split[0] if split else quantity) not in known:
        raise Invalid(f"{field}.quantity", f"expected a quantity name of the vocabulary, got {quantity!r}")
    rep = table.get("reproduced_by", {})
    config, measured = rep.get("config"), rep.get("measured", "after-update")
    if split and config is None and "not_reproduced" not in table:
        raise Invalid(field, "expected reproduced_by.config, or not_reproduced saying what was tried")
    if config is not None and config not in configs:
        raise Invalid(f"{field}.reproduced_by.config", f"expected one of {', '.join(configs)}, got {config!r}")
    return Figure(
        quantity,
        table["value"],
        table["post_name"],
        table["section"],
        config,
        measured,
        table.get("not_reproduced"),
        table.get("not_correctly_rounded"),
    )
