"""A minimal backend an outsider could write: the post's network in plain Python floats,
every number named in the project's vocabulary. Try it:

    bpcheck verify --backend examples.minimal_backend:MinimalBackend --case mazur-2015

It does only the post's kind of network (one hidden sigmoid layer, half-SSE, shared biases,
one example) and says so with NotImplementedError for any other case: `bpcheck verify` then
skips that case with a note instead of counting it as a failure. float32 is refused the same way.
"""

from __future__ import annotations

import math
from typing import Any

from bpcheck.backends.protocol import Training


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


class MinimalBackend:
    name = "minimal"

    def devices(self) -> list[str]:
        return ["cpu"]

    def _check(self, case: Any, dtype: str) -> None:
        if not case.is_posts_network:
            raise NotImplementedError("only the post's kind of network")
        if dtype != "float64":
            raise NotImplementedError("only float64")

    def _step(self, case: Any, p: dict[str, float], output_first: bool, update_biases: bool) -> dict[str, float]:
        """One training step: every intermediate under its vocabulary name."""
        lay, q = case.layout, {}
        x, t = dict(zip(lay.inputs, case.inputs[0])), dict(zip(lay.outputs, case.targets[0]))
        for h, ws in zip(lay.hidden, lay.w_hidden):
            q[f"net_{h}"] = sum(p[w] * x[i] for w, i in zip(ws, lay.inputs)) + p["b1"]
            q[f"out_{h}"] = sigmoid(q[f"net_{h}"])
        for o, ws in zip(lay.outputs, lay.w_output):
            q[f"net_{o}"] = sum(p[w] * q[f"out_{h}"] for w, h in zip(ws, lay.hidden)) + p["b2"]
            q[f"out_{o}"] = sigmoid(q[f"net_{o}"])
            q[f"E_{o}"] = 0.5 * (t[o] - q[f"out_{o}"]) ** 2
            q[f"dE_total/dout_{o}"] = -(t[o] - q[f"out_{o}"])
            q[f"dout_{o}/dnet_{o}"] = q[f"out_{o}"] * (1 - q[f"out_{o}"])
            q[f"delta_{o}"] = q[f"dE_total/dout_{o}"] * q[f"dout_{o}/dnet_{o}"]
            for w, h in zip(ws, lay.hidden):
                q[f"dnet_{o}/d{w}"] = q[f"out_{h}"]
                q[f"dE_total/d{w}"] = q[f"delta_{o}"] * q[f"out_{h}"]
                q[f"{w}+"] = p[w] - case.learning_rate * q[f"dE_total/d{w}"]
        q["E_total"] = sum(q[f"E_{o}"] for o in lay.outputs)
        for j, (h, ws) in enumerate(zip(lay.hidden, lay.w_hidden)):
            for o, row in zip(lay.outputs, lay.w_output):
                q[f"dnet_{o}/dout_{h}"] = q[f"{row[j]}+"] if output_first else p[row[j]]
                q[f"dE_{o}/dout_{h}"] = q[f"delta_{o}"] * q[f"dnet_{o}/dout_{h}"]
            q[f"dE_total/dout_{h}"] = sum(q[f"dE_{o}/dout_{h}"] for o in lay.outputs)
            q[f"dout_{h}/dnet_{h}"] = q[f"out_{h}"] * (1 - q[f"out_{h}"])
            q[f"delta_{h}"] = q[f"dE_total/dout_{h}"] * q[f"dout_{h}/dnet_{h}"]
            for w, i in zip(ws, lay.inputs):
                q[f"dnet_{h}/d{w}"] = x[i]
                q[f"dE_total/d{w}"] = q[f"delta_{h}"] * x[i]
                q[f"{w}+"] = p[w] - case.learning_rate * q[f"dE_total/d{w}"]
        q["dE_total/db1"] = sum(q[f"delta_{h}"] for h in lay.hidden)
        q["dE_total/db2"] = sum(q[f"delta_{o}"] for o in lay.outputs)
        for b in ("b1", "b2"):
            q[f"{b}+"] = p[b] - case.learning_rate * q[f"dE_total/d{b}"] if update_biases else p[b]
        return q

    def _stages(self, case: Any, p: dict[str, float], dtype: str, stages: set[str]) -> dict[str, float]:
        self._check(case, dtype)
        q = self._step(case, p, False, False)
        return {k: v for k, v in q.items() if case.layout.stage_of[k] in stages}

    def forward(self, case: Any, params: dict[str, float], dtype: str, device: str) -> dict[str, float]:
        return self._stages(case, params, dtype, {"forward", "error"})

    def gradients(self, case: Any, params: dict[str, float], dtype: str, device: str) -> dict[str, float]:
        return self._stages(case, params, dtype, {"output-chain", "hidden-chain", "gradient"})

    def step(self, case: Any, params: dict[str, float], config: Any, dtype: str, device: str) -> dict[str, float]:
        self._check(case, dtype)
        q = self._step(case, params, config.update_order == "output-first", config.update_biases)
        return {p: q[f"{p}+"] for p in case.layout.parameters}

    def train(self, case: Any, params: dict[str, float], config: Any, steps: int, dtype: str, device: str) -> Training:
        losses = []
        for _ in range(steps):
            losses.append(self.forward(case, params, dtype, device)["E_total"])
            params = self.step(case, params, config, dtype, device)
        return Training(params, losses)
