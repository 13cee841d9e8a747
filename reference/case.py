"""Cases are data: a TOML file per network, its training data, update rules and published figures.

`load_case` validates as it reads and raises `CaseError` with a one-line message naming the
file, the field and what was expected.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from bpcheck.reference.initializers import initialize
from bpcheck.reference.mlp import ACTIVATIONS, BIASES, LOSSES, REDUCTIONS, Spec
from bpcheck.reference.quantities import Layout, split_trajectory_name

CASES_DIR = Path(__file__).parent / "cases"
#: The post's worked example: the case every command uses when none is named.
MAIN_CASE = "mazur-2015"
UPDATE_ORDERS = ("simultaneous", "output-first")
MEASURED = ("after-update", "loss-of-last-step")
TOP_LEVEL = (
    "name",
    "title",
    "question",
    "source",
    "network",
    "data",
    "parameters",
    "parameters_provenance",
    "initializer",
    "training",
    "configs",
    "errata",
    "published",
)


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
        return Decimal(1).scaleb(Decimal(self.value).as_tuple().exponent)  # type: ignore[arg-type]

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
    parameters: dict[str, Decimal]
    learning_rate: Decimal


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
    parameters: dict[str, float]
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
    path = Path(name_or_path)
    if not (path.suffix == ".toml" or path.exists()):
        path = CASES_DIR / f"{name_or_path}.toml"
        if not path.exists():
            raise CaseError(
                f"unknown case {name_or_path!r}; valid: {', '.join(bundled_cases())} or a path to a .toml file"
            )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaseError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise CaseError(f"{path}: cannot be read: {err}") from None
    return parse_case(text, path)


def parse_case(text: str, path: Path = Path("<text>")) -> Case:
    """A case from the text of a case file (`path` only names it in error messages)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CaseError(f"{path}: not valid TOML: {err}") from None
    return _Reader(path, raw).case()


def case_file(case: Case) -> str:
    """A ready-to-run case file for `case` (explicit parameters, every value in repr form)."""
    num = lambda v: f'"{float(v)!r}"'  # noqa: E731
    rows = lambda rs: "[" + ", ".join("[" + ", ".join(num(v) for v in r) + "]" for r in rs) + "]"  # noqa: E731
    lines = [
        f'name = "{case.name}"',
        f'title = "{case.title}"',
        f'question = "{case.question}"',
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
        f'default_config = "{case.default_config}"',
        f"steps = {case.steps}",
        "",
    ]
    for c in case.configs.values():
        lines += [
            f"[configs.{c.name}]",
            f'doc = "{c.doc}"',
            f'update_order = "{c.update_order}"',
            f"update_biases = {'true' if c.update_biases else 'false'}",
            "",
        ]
    return "\n".join(lines)


def _floats(rows: tuple[tuple[Decimal, ...], ...]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in rows)


class _Reader:
    def __init__(self, path: Path, raw: dict[str, Any]):
        self.path, self.raw = path, raw

    def fail(self, field: str, expected: str, got: Any) -> CaseError:
        return CaseError(f"{self.path}: {field}: expected {expected}, got {got!r}")

    def get(self, table: dict[str, Any], key: str, kind: type, field: str) -> Any:
        if key not in table:
            raise CaseError(f"{self.path}: {field}: missing")
        value = table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(field, kind.__name__, value)
        return value

    def number(self, value: Any, field: str) -> Decimal:
        """A finite number, exactly as written: a decimal string, or a TOML number (its shortest
        round-tripping decimal)."""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(field, "a number or a decimal string", value)
        try:
            x = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(field, "a decimal number", value) from None
        if not x.is_finite() or not math.isfinite(float(x)):
            raise self.fail(field, "a finite number", value)
        return x

    def numbers(self, table: dict[str, Any], key: str, n: int, field: str) -> tuple[Decimal, ...]:
        values = self.get(table, key, list, field)
        if len(values) != n:
            raise self.fail(field, f"{n} values (the layer size)", values)
        return tuple(self.number(v, f"{field}[{k}]") for k, v in enumerate(values))

    def case(self) -> Case:
        raw = self.raw
        for key in raw:
            if key not in TOP_LEVEL:
                raise self.fail(key, f"one of the sections {', '.join(TOP_LEVEL)}", key)
        spec = self.spec(self.get(raw, "network", dict, "network"))
        data = self.get(raw, "data", dict, "data")
        inputs = self.batch(data, "inputs", spec.sizes[0])
        targets = self.batch(data, "targets", spec.sizes[-1])
        if len(inputs) != len(targets):
            raise self.fail("data.targets", f"{len(inputs)} examples (as many as data.inputs)", len(targets))
        reduction = data.get("reduction", "sum")
        if reduction not in REDUCTIONS:
            raise self.fail("data.reduction", f"one of {', '.join(REDUCTIONS)}", reduction)
        spec = replace(spec, reduction=reduction)
        layout = Layout(spec.sizes, spec.bias, len(inputs), spec.loss, spec.activations)
        decimals = Decimals(inputs, targets, self.parameters(raw, layout), self.learning_rate(raw))
        training = raw["training"]
        steps = training.get("steps", 0)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise self.fail("training.steps", "an integer >= 0", steps)
        configs = {n: self.config(n, c) for n, c in self.get(raw, "configs", dict, "configs").items()}
        default = self.get(training, "default_config", str, "training.default_config")
        if default not in configs:
            raise self.fail("training.default_config", f"one of {', '.join(configs)}", default)
        figures = raw.get("published", [])
        known = {q.name for q in layout.step_quantities} if figures else set()  # costly for a wide network
        published = tuple(self.figure(k, f, known, configs) for k, f in enumerate(figures))
        return Case(
            name=self.get(raw, "name", str, "name"),
            title=str(raw.get("title", "")),
            question=str(raw.get("question", "")),
            path=self.path,
            spec=spec,
            layout=layout,
            inputs=_floats(inputs),
            targets=_floats(targets),
            parameters={p: float(v) for p, v in decimals.parameters.items()},
            learning_rate=float(decimals.learning_rate),
            configs=configs,
            default_config=default,
            published=published,
            errata=tuple(raw.get("errata", [])),
            decimals=decimals,
            steps=steps,
        )

    def spec(self, net: dict[str, Any]) -> Spec:
        sizes = self.get(net, "layer_sizes", list, "network.layer_sizes")
        if len(sizes) < 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise self.fail("network.layer_sizes", "at least 2 positive integers (inputs, ..., outputs)", sizes)
        depth = len(sizes) - 1
        if "activations" in net:
            acts = self.get(net, "activations", list, "network.activations")
            if len(acts) != depth:
                raise self.fail("network.activations", f"{depth} names (one per layer after the inputs)", acts)
        else:
            acts = [self.get(net, "activation", str, "network.activation")] * depth
        for k, a in enumerate(acts):
            if a not in ACTIVATIONS:
                raise self.fail(f"network.activations[{k}]", f"one of {', '.join(ACTIVATIONS)}", a)
        loss = self.get(net, "loss", str, "network.loss")
        if loss not in LOSSES:
            raise self.fail("network.loss", f"one of {', '.join(LOSSES)}", loss)
        if loss == "bce" and acts[-1] != "sigmoid":
            raise self.fail("network.activations", "a sigmoid output layer for bce", acts[-1])
        if loss == "softmax-ce" and acts[-1] != "identity":
            raise self.fail(
                "network.activations", "an identity output layer for softmax-ce (the loss applies softmax)", acts[-1]
            )
        bias = self.get(net, "bias", str, "network.bias")
        if bias not in BIASES:
            raise self.fail("network.bias", f"one of {', '.join(BIASES)}", bias)
        return Spec(tuple(sizes), tuple(acts), loss, bias)

    def learning_rate(self, raw: dict[str, Any]) -> Decimal:
        training = self.get(raw, "training", dict, "training")
        field = "training.learning_rate"
        lr = self.number(self.get(training, "learning_rate", object, field), field)
        if float(lr) <= 0:
            raise self.fail(field, "a number > 0", training["learning_rate"])
        return lr

    def batch(self, data: dict[str, Any], key: str, width: int) -> tuple[tuple[Decimal, ...], ...]:
        """One example (a list of numbers) or a batch (a list of such lists)."""
        rows = self.get(data, key, list, f"data.{key}")
        if rows and not isinstance(rows[0], list):
            rows = [rows]
        if not rows:
            raise self.fail(f"data.{key}", "at least one example", rows)
        out = []
        for n, row in enumerate(rows):
            field = f"data.{key}" + (f"[{n}]" if len(rows) > 1 else "")
            if not isinstance(row, list) or len(row) != width:
                raise self.fail(field, f"{width} values (the layer size)", row)
            out.append(tuple(self.number(v, f"{field}[{k}]") for k, v in enumerate(row)))
        return tuple(out)

    def parameters(self, raw: dict[str, Any], layout: Layout) -> dict[str, Decimal]:
        """Given explicitly ([parameters]) or drawn by a named initialiser ([initializer]: each
        drawn float as its shortest round-tripping decimal)."""
        names = layout.parameters
        if ("parameters" in raw) == ("initializer" in raw):
            raise CaseError(f"{self.path}: parameters: expected exactly one of [parameters] or [initializer]")
        if "initializer" in raw:
            init = self.get(raw, "initializer", dict, "initializer")
            try:
                drawn = initialize(layout, init)
            except (ValueError, TypeError) as err:
                raise CaseError(f"{self.path}: initializer: {err}") from None
            return {p: Decimal(repr(v)) for p, v in drawn.items()}
        params = self.get(raw, "parameters", dict, "parameters")
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise self.fail(f"parameters.{unknown[0]}", f"one of {', '.join(names)}", unknown[0])
        return {p: self.number(self.get(params, p, object, f"parameters.{p}"), f"parameters.{p}") for p in names}

    def config(self, name: str, table: Any) -> Config:
        field = f"configs.{name}"
        if not isinstance(table, dict):
            raise self.fail(field, "a table", table)
        order = self.get(table, "update_order", str, f"{field}.update_order")
        if order not in UPDATE_ORDERS:
            raise self.fail(f"{field}.update_order", f"one of {', '.join(UPDATE_ORDERS)}", order)
        biases = self.get(table, "update_biases", bool, f"{field}.update_biases")
        return Config(name, str(table.get("doc", "")), order, biases)

    def figure(self, k: int, table: Any, known: set[str], configs: dict[str, Config]) -> Figure:
        field = f"published[{k}]"
        if not isinstance(table, dict):
            raise self.fail(field, "a table", table)
        quantity = self.get(table, "quantity", str, f"{field}.quantity")
        split = split_trajectory_name(quantity)
        if (split[0] if split else quantity) not in known:
            raise self.fail(f"{field}.quantity", "a quantity name of the vocabulary", quantity)
        value = self.get(table, "value", str, f"{field}.value")
        self.number(value, f"{field}.value")
        rep = table.get("reproduced_by", {})
        config, measured = rep.get("config"), rep.get("measured", "after-update")
        if split and config is None and not isinstance(table.get("not_reproduced"), str):
            raise self.fail(field, "reproduced_by.config, or not_reproduced saying what was tried", table)
        if config is not None and config not in configs:
            raise self.fail(f"{field}.reproduced_by.config", f"one of {', '.join(configs)}", config)
        if measured not in MEASURED:
            raise self.fail(f"{field}.reproduced_by.measured", f"one of {', '.join(MEASURED)}", measured)
        return Figure(
            quantity,
            value,
            str(table.get("post_name", "")),
            str(table.get("section", "")),
            config,
            measured,
            table.get("not_reproduced"),
            table.get("not_correctly_rounded"),
        )
