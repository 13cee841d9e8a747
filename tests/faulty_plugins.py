"""Plug-ins that misbehave rather than compute wrongly (tests/test_faults.py): each must become a
failed cell or an unavailable backend with the reason, never a traceback, never a pass.

Each is the NumPy backend with one fault: what it returns instead of numbers, what it raises
(SystemExit and KeyboardInterrupt included), what its devices() says. `Unpicklable(X)` is X
holding a lock, so the engine must run it in-process even with several jobs.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bpcheck.backends.numpy_backend import NumpyBackend


class _Faulty(NumpyBackend):
    """The NumPy backend whose gradients() goes through `_fault` (one fault a class)."""

    name = "faulty"

    def gradients(self, case: Any, params: Any, dtype: str, device: str) -> Any:
        return self._fault(super().gradients(case, params, dtype, device))

    def _fault(self, good: dict[str, float]) -> Any:
        return good


class ReturnsNaN(_Faulty):
    name = "faulty-nan"

    def _fault(self, good: dict[str, float]) -> Any:
        return dict.fromkeys(good, math.nan)


class ReturnsInf(_Faulty):
    name = "faulty-inf"

    def _fault(self, good: dict[str, float]) -> Any:
        return dict.fromkeys(good, math.inf)


class ReturnsNone(_Faulty):
    name = "faulty-none"

    def _fault(self, good: dict[str, float]) -> Any:
        return dict.fromkeys(good)


class ReturnsStrings(_Faulty):
    """Each value as the string of the right number: still not a number."""

    name = "faulty-strings"

    def _fault(self, good: dict[str, float]) -> Any:
        return {k: repr(v) for k, v in good.items()}


class ReturnsAString(_Faulty):
    name = "faulty-a-string"

    def _fault(self, good: dict[str, float]) -> Any:
        return "gradients, trust me"


class ReturnsAList(_Faulty):
    name = "faulty-a-list"

    def _fault(self, good: dict[str, float]) -> Any:
        return list(good.values())


class ReturnsTooFew(_Faulty):
    """A dict missing every gradient but one."""

    name = "faulty-too-few"

    def _fault(self, good: dict[str, float]) -> Any:
        return dict([next(iter(good.items()))])


class ReturnsArrays(_Faulty):
    name = "faulty-arrays"

    def _fault(self, good: dict[str, float]) -> Any:
        import numpy as np

        return {k: np.array([v, v]) for k, v in good.items()}


class ReturnsTensors(_Faulty):
    name = "faulty-tensors"

    def _fault(self, good: dict[str, float]) -> Any:
        import torch

        return {k: torch.tensor([v]) for k, v in good.items()}


class Raises(_Faulty):
    name = "faulty-raises"

    def _fault(self, good: dict[str, float]) -> Any:
        raise RuntimeError("CUDA error: an illegal memory access was encountered\n(and a second line)")


class Exits(_Faulty):
    name = "faulty-exits"

    def _fault(self, good: dict[str, float]) -> Any:
        sys.exit(0)


class Interrupts(_Faulty):
    """Raises KeyboardInterrupt itself: not the user's Ctrl-C."""

    name = "faulty-interrupts"

    def _fault(self, good: dict[str, float]) -> Any:
        raise KeyboardInterrupt


class Dies(_Faulty):
    """Ends its process at once, as a crash in a framework's C code would: in a worker, the run
    goes on without that worker's share."""

    name = "faulty-dies"

    def _fault(self, good: dict[str, float]) -> Any:
        os._exit(3)


class TrainReturnsNone(NumpyBackend):
    name = "faulty-train-none"

    def train(self, case: Any, params: Any, config: Any, steps: int, dtype: str, device: str) -> Any:
        return None


class DevicesRaise(NumpyBackend):
    name = "faulty-devices-raise"

    def devices(self) -> list[str]:
        raise RuntimeError("no driver found")


class NoDevices(NumpyBackend):
    name = "faulty-no-devices"

    def devices(self) -> list[str]:
        return []


class DevicesNotAList(NumpyBackend):
    name = "faulty-devices-string"

    def devices(self) -> Any:
        return "cpu"


#: The faults whose cells fail: class -> what the failed values' reason must say.
FAILING = {
    ReturnsNaN: "not a finite number: nan",
    ReturnsInf: "not a finite number: inf",
    ReturnsNone: "not a number: NoneType None",
    ReturnsStrings: "not a number: str",
    ReturnsAString: "gradients() returned str 'gradients, trust me', not a dict of quantities",
    ReturnsAList: "gradients() returned list",
    ReturnsTooFew: "missing from the backend's results",
    ReturnsArrays: "not a number: ndarray",
    Raises: "RuntimeError: CUDA error: an illegal memory access was encountered",
    Exits: "SystemExit: 0",
    Interrupts: "KeyboardInterrupt",
}
#: The faults that make the backend unavailable: class -> the status.
UNAVAILABLE = {
    DevicesRaise: "unavailable: devices() raised RuntimeError: no driver found",
    NoDevices: "unavailable: devices() returned no device",
    DevicesNotAList: "unavailable: devices() returned str 'cpu', not a list of device names",
}


class Unpicklable:
    """Makes a faulty plug-in unpicklable (it holds a lock), so it runs in-process."""

    def __init__(self, inner: Any):
        self._inner, self._lock = inner, threading.Lock()
        self.name = f"{inner.name}-unpicklable"

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._inner, attr)

    def devices(self) -> Any:
        return self._inner.devices()

    def forward(self, *args: Any) -> Any:
        return self._inner.forward(*args)

    def gradients(self, *args: Any) -> Any:
        return self._inner.gradients(*args)

    def step(self, *args: Any) -> Any:
        return self._inner.step(*args)

    def train(self, *args: Any) -> Any:
        return self._inner.train(*args)


# --- for the interrupt tests ----------------------------------------------------------------


class Sleeps(NumpyBackend):
    """Writes the file named by $BPCHECK_TEST_MARKER (if set), then sleeps a minute in forward():
    a run to interrupt or kill while it is inside a plug-in."""

    name = "sleeps"

    def forward(self, case: Any, params: Any, dtype: str, device: str) -> Any:
        marker = os.environ.get("BPCHECK_TEST_MARKER")
        if marker:
            Path(marker).write_text(str(os.getpid()))
        time.sleep(60)
        return super().forward(case, params, dtype, device)


class SignalsItself(_Faulty):
    """A real SIGINT arriving while the plug-in runs (sent by itself, as Ctrl-C would): the run
    must stop, not record a failed cell."""

    name = "signals-itself"

    def _fault(self, good: dict[str, float]) -> Any:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # the KeyboardInterrupt arrives here
        return good


class SwallowsTheInterrupt(_Faulty):
    """A real SIGINT arriving while the plug-in runs, which the plug-in catches and ignores:
    the run must still stop."""

    name = "swallows-the-interrupt"

    def _fault(self, good: dict[str, float]) -> Any:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            pass
        return good
