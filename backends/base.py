"""Shared plumbing for the bundled backends: each computes a whole training step as a
`reference.backprop.Step` of float64 lists and this base names and splits it."""

from __future__ import annotations

from reference.backprop import Step
from reference.case import Case, Config
from reference.trace import from_net, name_step

FORWARD_STAGES = frozenset({"forward", "error"})
GRADIENT_STAGES = frozenset({"output-chain", "hidden-chain", "gradient"})

#: The update rule of a plain gradient: every gradient from the same weights.
PLAIN = Config("plain-gradient", "true gradient of E_total", "simultaneous", False)


class StepBackend:
    """Implements the protocol from one method, `_step`."""

    name = "?"

    def devices(self) -> list[str]:
        return ["cpu"]

    def _step(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> Step:
        raise NotImplementedError

    def _named(
        self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str, stages: frozenset[str]
    ) -> dict[str, float]:
        named = name_step(case.layout, self._step(case, params, config, dtype, device))
        stage = case.layout.stage_of
        return {k: float(v) for k, v in named.items() if stage[k] in stages}

    def forward(self, case: Case, params: dict[str, float], dtype: str, device: str) -> dict[str, float]:
        return self._named(case, params, PLAIN, dtype, device, FORWARD_STAGES)

    def gradients(self, case: Case, params: dict[str, float], dtype: str, device: str) -> dict[str, float]:
        return self._named(case, params, PLAIN, dtype, device, GRADIENT_STAGES)

    def step(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> dict[str, float]:
        new = self._step(case, params, config, dtype, device).new
        return {k: float(v) for k, v in from_net(case.layout, new).items()}
