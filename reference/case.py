"""Cases are data: a TOML file per network, its training data, update rules and published figures.

`load_case` validates as it reads and raises `CaseError` with a one-line message naming the
file, the field and what was expected.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from reference.quantities import Layout, split_trajectory_name

CASES_DIR = Path(__file__).parent / "cases"
UPDATE_ORDERS = ("simultaneous", "output-first")
MEASURED = ("after-update", "loss-of-last-step")


class CaseError(ValueError):
    """A case that cannot be used; the message is one line."""


@dataclass(frozen=True)
class Config:
    """One named update rule."""

    name: str
    doc: str
    update_order: str  # "simultaneous" | "output-first"
    update_biases: bool


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
class Case:
    name: str
    title: str
    question: str
    path: Path
    layout: Layout
    inputs: tuple[float, ...]
    targets: tuple[float, ...]
    parameters: dict[str, float]
    learning_rate: float
    configs: dict[str, Config]
    default_config: str
    published: tuple[Figure, ...]
    errata: tuple[dict[str, str], ...]

    @property
    def config(self) -> Config:
        return self.configs[self.default_config]


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
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CaseError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise CaseError(f"{path}: not valid TOML: {err}") from None
    return _Reader(path, raw).case()


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

    def number(self, value: Any, field: str) -> float:
        """A finite number, written as a decimal string (keeps precision) or a TOML number."""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(field, "a number or a decimal string", value)
        try:
            x = float(Decimal(str(value)))
        except InvalidOperation:
            raise self.fail(field, "a decimal number", value) from None
        if not math.isfinite(x):
            raise self.fail(field, "a finite number", value)
        return x

    def numbers(self, table: dict[str, Any], key: str, n: int, field: str) -> tuple[float, ...]:
        values = self.get(table, key, list, field)
        if len(values) != n:
            raise self.fail(field, f"{n} values (the layer size)", values)
        return tuple(self.number(v, f"{field}[{k}]") for k, v in enumerate(values))

    def case(self) -> Case:
        raw = self.raw
        net = self.get(raw, "network", dict, "network")
        sizes = self.get(net, "layer_sizes", list, "network.layer_sizes")
        if len(sizes) != 3 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise self.fail("network.layer_sizes", "3 positive integers (inputs, hidden, outputs)", sizes)
        layout = Layout.from_sizes(sizes)
        for key, allowed in (("activation", "sigmoid"), ("loss", "half-sse"), ("bias", "shared-per-layer")):
            value = self.get(net, key, str, f"network.{key}")
            if value != allowed:
                raise self.fail(f"network.{key}", repr(allowed), value)
        data = self.get(raw, "data", dict, "data")
        inputs = self.numbers(data, "inputs", layout.n_in, "data.inputs")
        targets = self.numbers(data, "targets", layout.n_out, "data.targets")
        params = self.get(raw, "parameters", dict, "parameters")
        names = layout.parameters
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise self.fail(f"parameters.{unknown[0]}", f"one of {', '.join(names)}", unknown[0])
        parameters = {p: self.number(self.get(params, p, object, f"parameters.{p}"), f"parameters.{p}") for p in names}
        training = self.get(raw, "training", dict, "training")
        lr = self.number(
            self.get(training, "learning_rate", object, "training.learning_rate"), "training.learning_rate"
        )
        if lr <= 0:
            raise self.fail("training.learning_rate", "a number > 0", training["learning_rate"])
        configs = {n: self.config(n, c) for n, c in self.get(raw, "configs", dict, "configs").items()}
        default = self.get(training, "default_config", str, "training.default_config")
        if default not in configs:
            raise self.fail("training.default_config", f"one of {', '.join(configs)}", default)
        known = {q.name for q in layout.step_quantities}
        published = tuple(self.figure(k, f, known, configs) for k, f in enumerate(raw.get("published", [])))
        return Case(
            name=self.get(raw, "name", str, "name"),
            title=str(raw.get("title", "")),
            question=str(raw.get("question", "")),
            path=self.path,
            layout=layout,
            inputs=inputs,
            targets=targets,
            parameters=parameters,
            learning_rate=lr,
            configs=configs,
            default_config=default,
            published=published,
            errata=tuple(raw.get("errata", [])),
        )

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
        )
