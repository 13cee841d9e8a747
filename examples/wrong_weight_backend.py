"""The minimal backend with H. Taner Unal's slip: dE_o2/dout_h1 taken through w6 (h2->o1)
instead of w7 (h1->o2). Deliberately wrong; `bpcheck verify` must find it:

    bpcheck verify --backend examples.wrong_weight_backend:WrongWeight --case mazur-2015
"""

from __future__ import annotations

from typing import Any

from examples.minimal_backend import MinimalBackend


class WrongWeight(MinimalBackend):
    name = "wrong-weight"

    def _step(self, case: Any, p: dict[str, float], output_first: bool, update_biases: bool) -> dict[str, float]:
        q = super()._step(case, p, output_first, update_biases)
        q["dnet_o2/dout_h1"] = p["w6"]  # the slip: should be w7
        q["dE_o2/dout_h1"] = q["delta_o2"] * p["w6"]
        q["dE_total/dout_h1"] = q["dE_o1/dout_h1"] + q["dE_o2/dout_h1"]
        q["delta_h1"] = q["dE_total/dout_h1"] * q["dout_h1/dnet_h1"]
        q["dE_total/db1"] = q["delta_h1"] + q["delta_h2"]
        for w, i in zip(case.layout.w_hidden[0], case.layout.inputs):
            q[f"dE_total/d{w}"] = q["delta_h1"] * dict(zip(case.layout.inputs, case.inputs[0]))[i]
            q[f"{w}+"] = p[w] - case.learning_rate * q[f"dE_total/d{w}"]
        return q
