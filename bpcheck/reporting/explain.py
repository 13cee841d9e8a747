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
from bpcheck.verify import formulas
from bpcheck.verify.check import choose
from bpcheck.verify.mistakes import CONSISTENT
from bpcheck.verify.printed import from_printed
from bpcheck.verify.values import Written

_TOKEN = re.compile(r"\{([^{}]+)\}")


def template(case: Case, q: str) -> str:
    """q's right-hand side with every named value in braces: '{w5} * {out_h1} + ...', derived
    from the case's network (bpcheck/verify/formulas.py), in the post's form where the post
    writes it otherwise (dE_total/dw5 as its three factors)."""
    t = _table(case)
    if q not in t:
        raise KeyError(q)
    return t.display(q).text


_TABLES: dict[int, formulas.Table] = {}


def _table(case: Case) -> formulas.Table:
    """The case's formula table under its default rule (floats: only its texts are read)."""
    if id(case) not in _TABLES:
        _TABLES[id(case)] = formulas.table(case, case.config, arith.FLOAT64)
    return _TABLES[id(case)]


def symbolic(t: str) -> str:
    return _TOKEN.sub(lambda m: m.group(1), t)


def numeric(t: str, values: dict[str, str]) -> str:
    """The template with each name's value; a negative value right after a minus sign in brackets."""

    def value(m: re.Match[str]) -> str:
        v = values.get(m.group(1), m.group(1))
        return f"({v})" if v.startswith("-") and t[: m.start()].rstrip().endswith("-") else v

    return _TOKEN.sub(value, t)


def givens(case: Case, dtype: str) -> dict[str, float]:
    """Parameters, inputs, targets and eta as a `dtype` backend holds them."""
    out: dict[str, float] = dict(rounded_parameters(case, dtype))
    lay = case.layout
    for n, (x, t) in enumerate(zip(case.inputs, case.targets)):
        out.update({lay.ex(i, n): arith.round_to(dtype, v) for i, v in zip(lay.inputs, x)})
        out.update({lay.ex(f"target_{o}", n): arith.round_to(dtype, v) for o, v in zip(lay.outputs, t)})
    out["eta"] = arith.round_to(dtype, case.learning_rate)
    return out


def explain(
    case: Case,
    q: str,
    names: list[str],
    dtype: str = "float64",
    written: dict[str, Written] | None = None,
    computed: engine.Computed | None = None,
) -> str:
    """The explanation of `q` as text; KeyError for a name the case does not have. `written`:
    a person's values (a values file): the formula with their numbers too."""
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
    errors: list[tuple[str, str]] = []
    if computed is None:
        computed = engine.Engine([case], names, [dtype], trajectories=False).result()
    for (_, cell), got in computed.values.items():
        label = cell.id.removesuffix(f"-{dtype}").replace(f"-{dtype}-", "-")
        values = {q: v for (q, _), v in got.items()}
        broken = next((v for v in values.values() if isinstance(v, str)), None)
        if broken is None:
            sources.append((label, values))
        else:  # a backend that breaks is a result, not a crash
            errors.append((label, broken))
    pad = max(len(label) for label in ["exact", "post", "yours", *(n for n, _ in sources), *(n for n, _ in errors)]) + 1
    note = ""
    if q.endswith("+") and q[:-1] in case.layout.biases and not case.config.update_biases:
        note = f"  (the rule {case.default_config} updates no biases)"
    lines = [head, "", f"{q} = {symbolic(t)}{note}", ""]
    printed = {f.quantity: f.value for f in case.published}
    if dtype == "float64" and q in printed:
        post = {f: printed.get(f) or (f"{given[f]:g}" if f in given else "?") for f in factors}
        lines.append(f"{'post':<{pad}}{q} = {numeric(t, post)} = {printed[q]}")
        derived = from_printed(case, next(f for f in case.published if f.quantity == q))
        if derived is not None:
            lines.append(f"{'':<{pad}}not the exact value: it follows {derived.describe(case.default_config)}")
    if written is not None:
        lines += yours(case, q, written, pad)
    for label, vals in sources:
        shown = {f: _fmt(vals.get(f, given.get(f))) for f in factors}
        result = vals.get(q)
        tail = ""
        if label != "exact" and result is not None:
            tail = f"  ({ulps(float(result), exact[q], dtype):.3g} ULPs from exact)"
        lines.append(f"{label:<{pad}}{q} = {numeric(t, shown)} = {_fmt(result, 17)}{tail}")
    lines += [f"{label:<{pad}}{broken}" for label, broken in errors]
    subs = [(f, template(case, f)) for f in factors if f not in given and _has_template(case, f)]
    if subs:
        lines += ["", "where"] + [f"  {f} = {symbolic(s)}" for f, s in subs]
    return "\n".join(lines)


def yours(case: Case, q: str, written: dict[str, Written], pad: int = 11) -> list[str]:
    """The formula with the person's own numbers: each input as they wrote it (or, marked *,
    computed from what they wrote), what that gives, and how their own value stands (the
    walk's status), under the sign convention their deltas are written in."""
    check, walk = choose(case, case.config, written)
    f = check.table.display(q)
    shown: dict[str, str] = {}
    values = []
    with check.a.context():
        for d in f.deps:
            if d in written:
                shown[d], v = written[d].text, check.env[d]
            elif d in check.fixed:
                v = check.fixed[d]
                shown[d] = _fmt(v)
            else:
                way = next(iter(check.own.options(d)), None)
                v = way.value(check.env) if way is not None else check.exact[d]
                shown[d] = _fmt(v) + "*"
            values.append(v)
        result = _fmt(f.fn(*values))
    line = f"{'yours':<{pad}}{q} = {numeric(f.text, shown)} = {result}"
    c = walk.get(q)
    if c is not None:
        status = f"carried from {', '.join(c.carried_from)}" if c.carried_from else c.status
        mistakes = f"; as {', '.join(c.explained_by)} gives" if c.explained_by else ""
        line += f"  (you wrote {c.given}: {status}{mistakes})"
    out = [line]
    if any(v.endswith("*") for v in shown.values()):
        out.append(f"{'':<{pad}}* not in your file: computed from the values you wrote")
    if walk.convention and q.startswith("delta_"):
        out.append(f"{'':<{pad}}your deltas are delta = -dE/dnet: {CONSISTENT}")
    return out


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
