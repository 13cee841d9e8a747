"""The catalogue of known mistakes. Each is the correct training step with one piece swapped:
a formula of the step's table (bpcheck/verify/formulas.py), the update rule, or the batch
reduction. Most come from the post's reader comments (the `source` says whose). A patch is
written once for any network it can be made on (`applies` says where not: a 2-2-2 slip needs
the post's 2-2-2 network, leaving out the 1/2 needs a half-SSE loss). Beside the mistakes, one
convention: delta = -dE/dnet with the update w + eta * delta * x (`SIGN_CONVENTION`), the same
descent written with the other sign; verify checks values under it rather than calling it wrong.

`run(mistake, case, config, a)` gives every quantity of the step as the mistake computes it;
a wrong value is *explained* by a mistake whose value it matches at the precision written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bpcheck.reference import backprop as bp
from bpcheck.reference.arith import Arithmetic
from bpcheck.reference.case import Case, Config
from bpcheck.verify import formulas

Num = Any
Patch = Callable[[formulas.Table, Case], None]


@dataclass(frozen=True, eq=False)
class Mistake:
    id: str
    title: str
    source: str
    patch: Patch | None = None  # swaps formulas of the table
    config: dict[str, Any] | None = None  # or: the update rule with these fields changed
    reduction: str | None = None  # or: the batch reduction used instead of the case's
    needs: tuple[int, ...] | None = None  # layer sizes the patch is written for (None: any it applies to)
    applies: Callable[[Case], str | None] | None = None  # why the patch cannot be made on a case (None: it can)
    kind: str = "mistake"  # or "convention": a consistent variant, not a mistake

    def not_applicable(self, case: Case, config: Config) -> str | None:
        """Why this mistake cannot be made on this case and rule (None: it can)."""
        if self.kind != "mistake":
            return "a convention, not a mistake"
        if self.patch is not None:
            if self.needs and case.layout.sizes != self.needs:
                return f"written for a {'-'.join(map(str, self.needs))} network"
            if self.needs and not case.layout.has_connection_pieces:
                return "written for one example"
        why = self.applies(case) if self.applies else None
        if why:
            return why
        if self.config and all(getattr(config, k) == v for k, v in self.config.items()):
            return f"the rule {config.name!r} already does this"
        if self.reduction is not None:
            if case.layout.batch == 1:
                return "one example: the mean and the sum of one error are the same"
            if case.spec.reduction == self.reduction:
                return f"the case already uses reduction = {self.reduction}"
        return None


def correct_step(case: Case, params: dict[str, float], config: Config, a: Arithmetic, sign: int = 1) -> dict[str, Num]:
    """Every quantity of one step, by the formula table (reference.trace's step, operation for
    operation); `sign` -1: the deltas as -dE/dnet."""
    with a.context():
        t = formulas.table(case, config, a, sign)
        return _named(case, formulas.evaluate(t, formulas.leaves(case, params, a)))


def run(
    m: Mistake, case: Case, params: dict[str, float], config: Config, a: Arithmetic, sign: int = 1
) -> dict[str, Num]:
    """Every quantity of the step as the mistake computes it."""
    with a.context():
        return _named(case, formulas.evaluate(table_of(m, case, config, a, sign), formulas.leaves(case, params, a)))


def table_of(m: Mistake, case: Case, config: Config, a: Arithmetic, sign: int = 1) -> formulas.Table:
    """The step's table as the mistake has it: under its rule, with its reduction, patched."""
    if m.config:
        config = replace(config, **m.config)
    if m.reduction:
        case = replace(case, spec=replace(case.spec, reduction=m.reduction))
    t = formulas.table(case, config, a, sign)
    if m.patch is not None:
        m.patch(t, case)
    return t


def _named(case: Case, values: dict[str, Num]) -> dict[str, Num]:
    return {q.name: values[q.name] for q in case.layout.step_quantities}


# --- where a patch applies ---------------------------------------------------------------------


def _one_hidden_layer(case: Case) -> str | None:
    if not case.layout.has_connection_pieces:
        return "needs one hidden layer and one example (the post's chain pieces)"
    return None


def _square(layer: int) -> Callable[[Case], str | None]:
    def why(case: Case) -> str | None:
        s = case.layout.sizes
        if len(s) != 3:
            return "needs one hidden layer"
        if s[layer] != s[layer + 1]:
            return f"needs a square weight matrix there, not {s[layer]} -> {s[layer + 1]}"
        return _one_hidden_layer(case)

    return why


def _several_outputs(case: Case) -> str | None:
    if len(case.layout.outputs) < 2:
        return "one output: there is no other output to leave out"
    return _one_hidden_layer(case)


def _error_derivative(case: Case) -> str | None:
    if case.spec.loss not in ("half-sse", "mse"):
        return f"the {case.spec.loss} loss takes its output delta from the logits"
    return None


def _half_sse(case: Case) -> str | None:
    return None if case.spec.loss == "half-sse" else "the case's loss has no 1/2"


def _hidden(case: Case) -> str | None:
    return None if len(case.spec.sizes) > 2 else "no hidden layer"


def _sigmoid(case: Case) -> str | None:
    return None if "sigmoid" in case.spec.activations else "no sigmoid layer"


def _biases(case: Case) -> str | None:
    return None if case.layout.biases else "the network has no biases"


def _shared_bias(case: Case) -> str | None:
    return None if case.spec.bias == "shared-per-layer" else "no bias shared by a layer"


# --- the patches ---------------------------------------------------------------------------


def _set(t: formulas.Table, name: str, deps: list[str], fn: Callable[..., Num], text: str) -> None:
    t[name] = formulas.Formula(tuple(deps), fn, text)


def _flip(t: formulas.Table) -> Callable[[Num], Num]:
    return (lambda x: -x) if t.sign < 0 else formulas.same


def w6_for_w7(t: formulas.Table, case: Case) -> None:
    _set(t, "dnet_o2/dout_h1", ["w6"], formulas.same, "{w6}")


def transposed_output_weights(t: formulas.Table, case: Case) -> None:
    lay = case.layout
    for k, o in enumerate(lay.outputs):
        for j, h in enumerate(lay.hidden):
            w = lay.w_output[j][k]
            _set(t, f"dnet_{o}/dout_{h}", [w], formulas.same, f"{{{w}}}")


def w6_w7_gradients_swapped(t: formulas.Table, case: Case) -> None:
    flip = _flip(t)
    _set(t, "dE_total/dw6", ["delta_o2", "out_h1"], lambda d, x: flip(d * x), "{delta_o2} * {out_h1}")
    _set(t, "dE_total/dw7", ["delta_o1", "out_h2"], lambda d, x: flip(d * x), "{delta_o1} * {out_h2}")


def erratum_w3(t: formulas.Table, case: Case) -> None:
    f = t["net_h1"]
    _set(t, "net_h1", ["w1", "w3", *f.deps[2:]], f.fn, f.text.replace("{w2}", "{w3}"))


def transposed_input_weights(t: formulas.Table, case: Case) -> None:
    lay = case.layout
    for j, h in enumerate(lay.hidden):
        f = t[f"net_{h}"]
        row = [lay.w_hidden[k][j] for k in range(len(lay.inputs))]
        text = " + ".join(f"{{{w}}} * {{{i}}}" for w, i in zip(row, lay.inputs))
        _set(t, f"net_{h}", [*row, *f.deps[len(row) :]], f.fn, text)


def learning_rate(times: int) -> Patch:
    """Every update with eta applied `times` times (0: not at all, 2: eta * eta)."""

    def patch(t: formulas.Table, case: Case) -> None:
        for name, f in list(t.items()):
            if name.endswith("+") and "eta" in f.deps:
                fn = lambda v, eta, g, k=times: v - (eta**k if k else 1) * g  # noqa: E731
                p, g = name[:-1], f.deps[2]
                _set(t, name, list(f.deps), fn, f"{{{p}}} - {'{eta} * ' * times}{{{g}}}")

    return patch


def one_output_only(t: formulas.Table, case: Case) -> None:
    first = case.layout.outputs[0]
    for h in case.layout.hidden:
        _set(t, f"dE_total/dout_{h}", [f"dE_{first}/dout_{h}"], formulas.same, f"{{dE_{first}/dout_{h}}}")


def no_derivative(layer: str) -> Patch:
    def patch(t: formulas.Table, case: Case) -> None:
        lay, flip = case.layout, _flip(t)
        labels = lay.outputs if layer == "output" else [x for row in lay.labels[1:-1] for x in row]
        for x in labels:
            for n in range(lay.batch):
                go = lay.ex(f"dE_total/dout_{x}", n)
                _set(t, lay.ex(f"delta_{x}", n), [go], flip, f"{'-' if t.sign < 0 else ''}{{{go}}}")

    return patch


def derivative_from_net(t: formulas.Table, case: Case) -> None:
    lay = case.layout
    for l, kind in enumerate(case.spec.activations):
        if kind != "sigmoid":
            continue
        for x in lay.labels[l + 1]:
            for n in range(lay.batch):
                z = lay.ex(f"net_{x}", n)
                _set(t, lay.ex(f"dout_{x}/dnet_{x}", n), [z], bp.logistic_derivative, f"{{{z}}} * (1 - {{{z}}})")


def without_one_half(t: formulas.Table, case: Case) -> None:
    lay = case.layout
    for o in lay.outputs:
        for n in range(lay.batch):
            tg, y, go = lay.ex(f"target_{o}", n), lay.ex(f"out_{o}", n), lay.ex(f"dE_total/dout_{o}", n)
            _set(t, lay.ex(f"E_{o}", n), [tg, y], lambda tg, y: (tg - y) ** 2, f"({{{tg}}} - {{{y}}})^2")
            f = t[go]
            _set(t, go, list(f.deps), lambda *v, f=f: 2 * f.fn(*v), f.text.replace("-(", "-2 * (", 1))


def sign_flipped(t: formulas.Table, case: Case) -> None:
    lay = case.layout
    for o in lay.outputs:
        for n in range(lay.batch):
            tg, y, go = lay.ex(f"target_{o}", n), lay.ex(f"out_{o}", n), lay.ex(f"dE_total/dout_{o}", n)
            f = t[go]
            text = f"{{{tg}}} - {{{y}}}" if f.text == f"-({{{tg}}} - {{{y}}})" else f"-({f.text})"
            _set(t, go, list(f.deps), lambda *v, f=f: -f.fn(*v), text)


def bias_from_one_neuron(t: formulas.Table, case: Case) -> None:
    lay, flip = case.layout, _flip(t)
    for l, names in enumerate(lay.b):
        for b in names:
            first = [lay.ex(f"delta_{lay.labels[l + 1][0]}", n) for n in range(lay.batch)]
            text = " + ".join(f"{{{d}}}" for d in first)
            _set(t, f"dE_total/d{b}", first, lambda *d: flip(bp.total(d)), f"-({text})" if t.sign < 0 else text)


CATALOGUE: tuple[Mistake, ...] = (
    Mistake(
        "w6-for-w7",
        "dE_o2/dout_h1 taken through w6 (h2->o1) instead of w7 (h1->o2)",
        "H. Taner Unal (2018-12-10): got dE_o2/dout_h1 = -0.017144288, the post -0.019049119",
        w6_for_w7,
        needs=(2, 2, 2),
    ),
    Mistake(
        "transposed-output-weights",
        "hidden chain through w_(o->h) instead of w_(h->o): each hidden neuron's error through the other's weights",
        "readers unsure which weight connects h1 to o2 (Loftur, Braydon Burkhardt, prometheusgr)",
        transposed_output_weights,
        applies=_square(1),
    ),
    Mistake(
        "w6-w7-gradients-swapped",
        "w6 updated with the gradient of h1->o2 and w7 with that of h2->o1",
        "prometheusgr (2019-01-06): everything matched but w6+ and w7+; expected w6 to grow and w7 to shrink",
        w6_w7_gradients_swapped,
        needs=(2, 2, 2),
    ),
    Mistake(
        "erratum-w3-in-net_h1",
        "net_h1 = w1 * i1 + w3 * i2 + b1, the hidden-layer section's misprint, instead of w2",
        "the post's Hidden Layer section; Loftur (2018-12-19)",
        erratum_w3,
        needs=(2, 2, 2),
    ),
    Mistake(
        "transposed-input-weights",
        "the input-to-hidden weights read the wrong way round: net_h1 = w1 * i1 + w3 * i2, net_h2 = w2 * i1 + w4 * i2",
        "Loftur (2018-12-19) and Ali Celik (2019-02-02): 'net_h1 will be 0.25 * 0.10, not 0.2 * 0.10'",
        transposed_input_weights,
        applies=_square(0),
    ),
    Mistake(
        "learning-rate-twice",
        "the learning rate applied twice: w+ = w - eta * eta * dE_total/dw",
        "zhanna (2019-03-22): 'why n = 0.5?'",
        learning_rate(2),
    ),
    Mistake(
        "learning-rate-not-applied",
        "the learning rate left out: w+ = w - dE_total/dw",
        "the post: '(optionally multiplied by some learning rate, eta, which we'll set to 0.5)'",
        learning_rate(0),
    ),
    Mistake(
        "hidden-deltas-use-updated-output-weights",
        "the output weights (w5..w8 in the post) updated before the hidden deltas, which then see the updated weights",
        "the post: 'we use the original weights, not the updated weights'; its E_total@1 comes from this",
        config={"update_order": "output-first"},
    ),
    Mistake(
        "hidden-deltas-use-original-output-weights",
        "the hidden deltas use the original w5..w8 where the rule updates them first",
        "the converse of the above, for cases whose rule is output-first",
        config={"update_order": "simultaneous"},
    ),
    Mistake(
        "biases-updated",
        "the biases (b1 and b2 in the post) updated too (b - eta * sum of the deltas they feed)",
        "Oleg (2018-12-23): 'Don't we need to update b1 and b2?'",
        config={"update_biases": True},
        applies=_biases,
    ),
    Mistake(
        "biases-not-updated",
        "the biases left as they were where the rule updates them",
        "Braydon Burkhardt (2019-01-10): 'for really basic NN's ... can be left alone'",
        config={"update_biases": False},
        applies=_biases,
    ),
    Mistake(
        "bias-gradient-from-one-neuron",
        "dE_total/db from one neuron's delta, not the sum over every neuron the shared bias feeds",
        "Braydon Burkhardt (2019-01-10): 'b2 is the same as w5, but without the hiddens'",
        bias_from_one_neuron,
        applies=_shared_bias,
    ),
    Mistake(
        "hidden-error-from-one-output",
        "dE_total/dout_h taken from o1 alone, leaving out what h contributes to the other outputs",
        "the post: 'out_h1 affects both out_o1 and out_o2'; Walter (2019-01-24)",
        one_output_only,
        applies=_several_outputs,
    ),
    Mistake(
        "no-activation-derivative-at-output",
        "delta_o = dE_total/dout_o, the factor out_o (1 - out_o) left out",
        "a classic slip; tests/broken_backends.py",
        no_derivative("output"),
        applies=_error_derivative,
    ),
    Mistake(
        "no-activation-derivative-at-hidden",
        "delta_h = dE_total/dout_h, the factor out_h (1 - out_h) left out",
        "a classic slip",
        no_derivative("hidden"),
        applies=_hidden,
    ),
    Mistake(
        "derivative-from-net",
        "the logistic's derivative taken as net (1 - net) instead of out (1 - out)",
        "the post: 'the output multiplied by 1 minus the output'",
        derivative_from_net,
        applies=_sigmoid,
    ),
    Mistake(
        "error-without-one-half",
        "E_o = (target - out)^2 and dE_total/dout_o = -2 (target - out): the 1/2 left out",
        "the post's note on the 1/2 ('so that the exponent is cancelled')",
        without_one_half,
        applies=_half_sse,
    ),
    Mistake(
        "error-derivative-sign-flipped",
        "dE_total/dout_o = target - out instead of -(target - out)",
        "the post: '-(target - out) is sometimes expressed as out - target'",
        sign_flipped,
        applies=_error_derivative,
    ),
    Mistake(
        "batch-sum-for-mean",
        "the batch's errors and gradients summed where the case averages them",
        "Mike (2018-12-20) and Raymond Zhang (2018-12-29): average or sum over a batch?",
        reduction="sum",
    ),
    Mistake(
        "batch-mean-for-sum",
        "the batch's errors and gradients averaged where the case sums them",
        "Mike (2018-12-20) and Raymond Zhang (2018-12-29): average or sum over a batch?",
        reduction="mean",
    ),
)

#: The other sign convention for delta, beside the mistakes: not one of them.
SIGN_CONVENTION = Mistake(
    "delta-sign-convention",
    "delta = -dE/dnet (at the output (target - out) * out (1 - out)), with the update w + eta * delta * x: "
    "the same descent, written with the other sign",
    "the post: 'Some sources extract the negative sign from delta so it would be written as "
    "dE_total/dw5 = -delta_o1 out_h1'; many textbooks and lecture notes",
    kind="convention",
)
#: What verify says of values written under it.
CONSISTENT = "consistent sign convention (δ = −dE/dnet)"

CATALOGUE = (*CATALOGUE, SIGN_CONVENTION)
BY_ID = {m.id: m for m in CATALOGUE}
