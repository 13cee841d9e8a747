"""The catalogue of known mistakes. Each is the correct training step with one piece swapped:
a formula of the step's table (bpcheck/verify/formulas.py), the update rule, or the batch
reduction. Most come from the post's reader comments (the `source` says whose).

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
from bpcheck.reference.trace import step_trace
from bpcheck.verify import formulas

Num = Any
Patch = Callable[[formulas.Table, Case], None]


@dataclass(frozen=True, eq=False)
class Mistake:
    id: str
    title: str
    source: str
    patch: Patch | None = None  # swaps formulas of the table (the post's kind of network only)
    config: dict[str, Any] | None = None  # or: the update rule with these fields changed
    reduction: str | None = None  # or: the batch reduction used instead of the case's
    needs: tuple[int, ...] | None = None  # layer sizes the patch is written for (None: any post-shaped)

    def not_applicable(self, case: Case, config: Config) -> str | None:
        """Why this mistake cannot be made on this case and rule (None: it can)."""
        if self.patch is not None:
            if not case.is_posts_network:
                return "written for the post's kind of network (one hidden sigmoid layer, half-SSE, one example)"
            if self.needs and case.layout.sizes != self.needs:
                return f"written for a {'-'.join(map(str, self.needs))} network"
        if self.config and all(getattr(config, k) == v for k, v in self.config.items()):
            return f"the rule {config.name!r} already does this"
        if self.reduction is not None:
            if case.layout.batch == 1:
                return "one example: the mean and the sum of one error are the same"
            if case.spec.reduction == self.reduction:
                return f"the case already uses reduction = {self.reduction}"
        return None


def correct_step(case: Case, params: dict[str, float], config: Config, a: Arithmetic) -> dict[str, Num]:
    """Every quantity of one step: the formula table for the post's kind of network, the
    general reference (reference.trace) otherwise."""
    if not case.is_posts_network:
        return step_trace(case, params, config, a)
    with a.context():
        return _named(case, formulas.evaluate(formulas.table(case, config, a), formulas.leaves(case, params, a)))


def run(m: Mistake, case: Case, params: dict[str, float], config: Config, a: Arithmetic) -> dict[str, Num]:
    """Every quantity of the step as the mistake computes it."""
    if m.config:
        config = replace(config, **m.config)
    if m.reduction:
        case = replace(case, spec=replace(case.spec, reduction=m.reduction))
    if m.patch is None:
        return correct_step(case, params, config, a)
    with a.context():
        t = formulas.table(case, config, a)
        m.patch(t, case)
        return _named(case, formulas.evaluate(t, formulas.leaves(case, params, a)))


def _named(case: Case, values: dict[str, Num]) -> dict[str, Num]:
    return {q.name: values[q.name] for q in case.layout.step_quantities}


# --- the patches ---------------------------------------------------------------------------


def _set(t: formulas.Table, name: str, deps: list[str], fn: Callable[..., Num], text: str) -> None:
    t[name] = formulas.Formula(tuple(deps), fn, text)


def w6_for_w7(t: formulas.Table, case: Case) -> None:
    _set(t, "dnet_o2/dout_h1", ["w6"], formulas.same, "w6")


def transposed_output_weights(t: formulas.Table, case: Case) -> None:
    lay = case.layout
    for k, o in enumerate(lay.outputs):
        for j, h in enumerate(lay.hidden):
            _set(t, f"dnet_{o}/dout_{h}", [lay.w_output[j][k]], formulas.same, lay.w_output[j][k])


def w6_w7_gradients_swapped(t: formulas.Table, case: Case) -> None:
    _set(t, "dE_total/dw6", ["delta_o2", "out_h1"], bp.gradient, "delta_o2 * out_h1")
    _set(t, "dE_total/dw7", ["delta_o1", "out_h2"], bp.gradient, "delta_o1 * out_h2")


def erratum_w3(t: formulas.Table, case: Case) -> None:
    f = t["net_h1"]
    _set(t, "net_h1", ["w1", "w3", *f.deps[2:]], f.fn, "w1 * i1 + w3 * i2")


def transposed_input_weights(t: formulas.Table, case: Case) -> None:
    lay = case.layout
    for j, h in enumerate(lay.hidden):
        f = t[f"net_{h}"]
        row = [lay.w_hidden[k][j] for k in range(len(lay.inputs))]
        _set(
            t, f"net_{h}", [*row, *f.deps[len(row) :]], f.fn, " + ".join(f"{w} * {i}" for w, i in zip(row, lay.inputs))
        )


def learning_rate(times: int) -> Patch:
    """Every update with eta applied `times` times (0: not at all, 2: eta * eta)."""

    def patch(t: formulas.Table, case: Case) -> None:
        for name, f in list(t.items()):
            if name.endswith("+") and "eta" in f.deps:
                fn = lambda v, eta, g, k=times: v - (eta**k if k else 1) * g  # noqa: E731
                _set(t, name, list(f.deps), fn, f"{name[:-1]} - {'eta * ' * times}dE_total/d{name[:-1]}")

    return patch


def one_output_only(t: formulas.Table, case: Case) -> None:
    first = case.layout.outputs[0]
    for h in case.layout.hidden:
        _set(t, f"dE_total/dout_{h}", [f"dE_{first}/dout_{h}"], formulas.same, f"dE_{first}/dout_{h}")


def no_derivative(layer: str) -> Patch:
    def patch(t: formulas.Table, case: Case) -> None:
        for x in case.layout.outputs if layer == "output" else case.layout.hidden:
            _set(t, f"delta_{x}", [f"dE_total/dout_{x}"], formulas.same, f"dE_total/dout_{x}")

    return patch


def derivative_from_net(t: formulas.Table, case: Case) -> None:
    for x in case.layout.hidden + case.layout.outputs:
        _set(t, f"dout_{x}/dnet_{x}", [f"net_{x}"], bp.logistic_derivative, f"net_{x} (1 - net_{x})")


def without_one_half(t: formulas.Table, case: Case) -> None:
    for o in case.layout.outputs:
        _set(t, f"E_{o}", [f"target_{o}", f"out_{o}"], lambda tg, y: (tg - y) ** 2, "(target - out)^2")
        _set(t, f"dE_total/dout_{o}", [f"target_{o}", f"out_{o}"], lambda tg, y: -2 * (tg - y), "-2 (target - out)")


def sign_flipped(t: formulas.Table, case: Case) -> None:
    for o in case.layout.outputs:
        _set(t, f"dE_total/dout_{o}", [f"target_{o}", f"out_{o}"], lambda tg, y: tg - y, "target - out")


def bias_from_one_neuron(t: formulas.Table, case: Case) -> None:
    _set(t, "dE_total/db1", [f"delta_{case.layout.hidden[0]}"], formulas.same, "delta_h1")
    _set(t, "dE_total/db2", [f"delta_{case.layout.outputs[0]}"], formulas.same, "delta_o1")


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
        needs=(2, 2, 2),
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
        "w5..w8 updated before the hidden deltas, which then see the updated weights",
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
        "b1 and b2 updated too (b - eta * sum of the deltas they feed)",
        "Oleg (2018-12-23): 'Don't we need to update b1 and b2?'",
        config={"update_biases": True},
    ),
    Mistake(
        "biases-not-updated",
        "b1 and b2 left as they were where the rule updates them",
        "Braydon Burkhardt (2019-01-10): 'for really basic NN's ... can be left alone'",
        config={"update_biases": False},
    ),
    Mistake(
        "bias-gradient-from-one-neuron",
        "dE_total/db from one neuron's delta, not the sum over every neuron the shared bias feeds",
        "Braydon Burkhardt (2019-01-10): 'b2 is the same as w5, but without the hiddens'",
        bias_from_one_neuron,
    ),
    Mistake(
        "hidden-error-from-one-output",
        "dE_total/dout_h taken from o1 alone, leaving out what h contributes to the other outputs",
        "the post: 'out_h1 affects both out_o1 and out_o2'; Walter (2019-01-24)",
        one_output_only,
    ),
    Mistake(
        "no-activation-derivative-at-output",
        "delta_o = dE_total/dout_o, the factor out_o (1 - out_o) left out",
        "a classic slip; tests/broken_backends.py",
        no_derivative("output"),
    ),
    Mistake(
        "no-activation-derivative-at-hidden",
        "delta_h = dE_total/dout_h, the factor out_h (1 - out_h) left out",
        "a classic slip",
        no_derivative("hidden"),
    ),
    Mistake(
        "derivative-from-net",
        "the logistic's derivative taken as net (1 - net) instead of out (1 - out)",
        "the post: 'the output multiplied by 1 minus the output'",
        derivative_from_net,
    ),
    Mistake(
        "error-without-one-half",
        "E_o = (target - out)^2 and dE_total/dout_o = -2 (target - out): the 1/2 left out",
        "the post's note on the 1/2 ('so that the exponent is cancelled')",
        without_one_half,
    ),
    Mistake(
        "error-derivative-sign-flipped",
        "dE_total/dout_o = target - out instead of -(target - out)",
        "the post: '-(target - out) is sometimes expressed as out - target'",
        sign_flipped,
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

BY_ID = {m.id: m for m in CATALOGUE}
