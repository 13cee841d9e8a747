"""`reference`: the hand-written backprop of reference/backprop.py on Python floats (float64)
or NumPy float32 scalars (float32)."""

from __future__ import annotations

from bpcheck.backends.base import FORWARD_STAGES, GRADIENT_STAGES, PLAIN
from bpcheck.backends.protocol import Training
from bpcheck.reference import arith
from bpcheck.reference.case import Case, Config
from bpcheck.reference.trace import step_trace, train


class ReferenceBackend:
    name = "reference"

    def devices(self) -> list[str]:
        return ["cpu"]

    def _trace(
        self, case: Case, params: dict[str, float], config: Config, dtype: str, stages: frozenset[str]
    ) -> dict[str, float]:
        named = step_trace(case, params, config, arith.for_dtype(dtype))
        stage = case.layout.stage_of
        return {k: float(v) for k, v in named.items() if stage[k] in stages}

    def forward(self, case: Case, params: dict[str, float], dtype: str, device: str) -> dict[str, float]:
        return self._trace(case, params, PLAIN, dtype, FORWARD_STAGES)

    def gradients(self, case: Case, params: dict[str, float], dtype: str, device: str) -> dict[str, float]:
        return self._trace(case, params, PLAIN, dtype, GRADIENT_STAGES)

    def step(self, case: Case, params: dict[str, float], config: Config, dtype: str, device: str) -> dict[str, float]:
        updates = self._trace(case, params, config, dtype, frozenset({"update"}))
        return {k.removesuffix("+"): v for k, v in updates.items()}

    def train(
        self, case: Case, params: dict[str, float], config: Config, steps: int, dtype: str, device: str
    ) -> Training:
        result = train(case, params, config, steps, arith.for_dtype(dtype))
        return Training({k: float(v) for k, v in result.params.items()}, [float(e) for e in result.losses])
