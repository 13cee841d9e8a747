"""Where a number comes from: a quantity's chain-rule line in the post's notation, then the same
line with each factor's value per source (the post's printed figures, the exact oracle, every
backend), written like the post's worked lines:

    dE_total/dw5 = dE_total/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5
    post       dE_total/dw5 = 0.74136507 * 0.186815602 * 0.593269992 = 0.082167041
"""

from __future__ import annotations

import re
from typing import Any

from bpcheck import engine
from bpcheck.reference import arith
from bpcheck.reference.case import Case
from bpcheck.reference.oracle import exact_step, rounded_parameters
from bpcheck.reference.quantities import split_trajectory_name
from bpcheck.reference.ulps import ulps

_TOKEN = re.compile(r"\{([^{}]+)\}")
_NAME = re.compile(r"[A-Za-z_][\w/]*(?:\[\d+\])?")


def template(case: Case, q: str) -> str:
    """q's right-hand side with every named value in braces: '{w5} * {out_h1} + ...'."""
    lay = case.layout
    if case.is_posts_network:
        post = _post_template(case, q)
        if post is not None:
            return post
    formula = next((x.formula for x in lay.step_quantities if x.name == q), None)
    if formula is None:
        raise KeyError(q)
    known = _known_names(case)
    return _NAME.sub(lambda m: f"{{{m.group(0)}}}" if m.group(0) in known else m.group(0), formula)


def _post_template(case: Case, q: str) -> str | None:
    lay = case.layout
    outputs = lay.outputs
    if q.startswith("out_"):
        return f"1 / (1 + e^(-{{net_{q[4:]}}}))"
    if q.startswith("E_o"):
        o = q[2:]
        return f"1/2 * ({{target_{o}}} - {{out_{o}}})^2"
    if q == "E_total":
        return " + ".join(f"{{E_{o}}}" for o in outputs)
    m = re.fullmatch(r"dE_total/dout_(\w+)", q)
    if m and m.group(1) in outputs:
        return f"-({{target_{m.group(1)}}} - {{out_{m.group(1)}}})"
    if m:
        return " + ".join(f"{{dE_{o}/dout_{m.group(1)}}}" for o in outputs)
    m = re.fullmatch(r"dout_(\w+)/dnet_\1", q)
    if m:
        return f"{{out_{m.group(1)}}} * (1 - {{out_{m.group(1)}}})"
    m = re.fullmatch(r"delta_(\w+)", q)
    if m:
        return f"{{dE_total/dout_{m.group(1)}}} * {{dout_{m.group(1)}/dnet_{m.group(1)}}}"
    m = re.fullmatch(r"dE_(o\d+)/dout_(h\d+)", q)
    if m:
        return f"{{delta_{m.group(1)}}} * {{dnet_{m.group(1)}/dout_{m.group(2)}}}"
    m = re.fullmatch(r"dE_total/d(w\d+)", q)
    if m:
        for l, layer in enumerate(lay.w):
            for j, row in enumerate(layer):
                if m.group(1) in row:
                    n = lay.labels[l + 1][j]
                    return f"{{dE_total/dout_{n}}} * {{dout_{n}/dnet_{n}}} * {{dnet_{n}/d{m.group(1)}}}"
    m = re.fullmatch(r"dE_total/d(b\d+)", q)
    if m:
        l = int(m.group(1)[1:]) - 1
        return " + ".join(f"{{delta_{n}}} * 1" for n in lay.labels[l + 1])
    if q.endswith("+"):
        p = q[:-1]
        if p in lay.biases and not case.config.update_biases:
            return f"{{{p}}}"
        return f"{{{p}}} - {{eta}} * {{dE_total/d{p}}}"
    return None


def _known_names(case: Case) -> set[str]:
    lay = case.layout
    names = {q.name for q in lay.step_quantities} | set(lay.parameters) | {"eta"}
    names |= set(lay.inputs) | {f"target_{o}" for o in lay.outputs}
    return names


def symbolic(t: str) -> str:
    return _TOKEN.sub(lambda m: m.group(1), t)


def numeric(t: str, values: dict[str, str]) -> str:
    return _TOKEN.sub(lambda m: values.get(m.group(1), m.group(1)), t)


def givens(case: Case, dtype: str) -> dict[str, float]:
    """Parameters, inputs, targets and eta as a `dtype` backend holds them."""
    out: dict[str, float] = dict(rounded_parameters(case, dtype))
    out.update({i: arith.round_to(dtype, v) for i, v in zip(case.layout.inputs, case.inputs[0])})
    out.update({f"target_{o}": arith.round_to(dtype, v) for o, v in zip(case.layout.outputs, case.targets[0])})
    out["eta"] = arith.round_to(dtype, case.learning_rate)
    return out


def explain(case: Case, q: str, names: list[str], dtype: str = "float64") -> str:
    """The explanation of `q` as text; KeyError for a name the case does not have."""
    split = split_trajectory_name(q)
    base = split[0] if split else q
    t = template(case, base)
    head = f"{q}  ({case.name}, rule {case.default_config}, {dtype})"
    if split:
        return "\n".join(
            [
                head,
                "",
                f"{q} is {base} after {split[1]} training updates: no single chain of one step.",
                f"Each step computes {base} = {symbolic(t)}; `bpcheck run --case {case.name}` checks it.",
            ]
        )
    factors = list(dict.fromkeys(_TOKEN.findall(t)))
    given = givens(case, dtype)
    exact = exact_step(case, dtype)
    sources: list[tuple[str, dict[str, Any]]] = [("exact", exact)]
    errors: list[str] = []
    computed = engine.Engine([case], names, [dtype], trajectories=False).result()
    for (_, cell), got in computed.values.items():
        label = cell.id.removesuffix(f"-{dtype}").replace(f"-{dtype}-", "-")
        values = {q: v for (q, _), v in got.items()}
        broken = next((v for v in values.values() if isinstance(v, str)), None)
        if broken is None:
            sources.append((label, values))
        else:  # a backend that breaks is a result, not a crash
            errors.append(f"{label:<10} {broken}")
    note = ""
    if q.endswith("+") and q[:-1] in case.layout.biases and not case.config.update_biases:
        note = f"  (the rule {case.default_config} updates no biases)"
    lines = [head, "", f"{q} = {symbolic(t)}{note}", ""]
    printed = {f.quantity: f.value for f in case.published}
    if dtype == "float64" and q in printed:
        post = {f: printed.get(f) or (f"{given[f]:g}" if f in given else "?") for f in factors}
        lines.append(f"{'post':<10} {q} = {numeric(t, post)} = {printed[q]}")
    for label, vals in sources:
        shown = {f: _fmt(vals.get(f, given.get(f))) for f in factors}
        result = vals.get(q)
        tail = ""
        if label != "exact" and result is not None:
            tail = f"  ({ulps(float(result), exact[q], dtype):.3g} ULPs from exact)"
        lines.append(f"{label:<10} {q} = {numeric(t, shown)} = {_fmt(result, 17)}{tail}")
    lines += errors
    subs = [(f, template(case, f)) for f in factors if f not in given and _has_template(case, f)]
    if subs:
        lines += ["", "where"] + [f"  {f} = {symbolic(s)}" for f, s in subs]
    return "\n".join(lines)


def _has_template(case: Case, q: str) -> bool:
    try:
        template(case, q)
        return True
    except KeyError:
        return False


def _fmt(x: Any, digits: int = 12) -> str:
    if x is None:
        return "?"
    return format(float(x), f".{digits}g")
