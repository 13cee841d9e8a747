"""A backend's own code failing, told apart from the user stopping the run.

Every call into a backend (a framework's import, a factory, a plug-in's methods) may raise
anything: an Exception, but also SystemExit (a plug-in calling sys.exit), GeneratorExit or a
KeyboardInterrupt of its own. Each is a result (a backend that cannot load is unavailable, a
method that raises is a failed cell, both with `describe(err)` as the reason), never a crash.

The one exception that must go on is a real interrupt (Ctrl-C, SIGINT): while `watching()` is
active in the main thread, SIGINT sets a flag before raising KeyboardInterrupt, so `genuine`
tells that KeyboardInterrupt from one the backend raised itself. Worker processes ignore
SIGINT (bpcheck/engine.py), so there every KeyboardInterrupt is the backend's. Where no
handler of ours is installed (another thread, SIGINT ignored or handled by someone else) a
real interrupt never reaches the backend's call as a KeyboardInterrupt, so there too it is
the backend's own.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_interrupted = threading.Event()


def describe(err: BaseException) -> str:
    """'<ExceptionType>: <the first line of its message>' (the type alone for no message)."""
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def interrupted() -> bool:
    """Whether a real SIGINT arrived while `watching()` was active."""
    return _interrupted.is_set()


def genuine(err: BaseException) -> bool:
    """Whether `err` must stop the run: a KeyboardInterrupt from a real SIGINT, not the backend's."""
    return isinstance(err, KeyboardInterrupt) and interrupted()


def reraise_if_interrupted() -> None:
    """After a backend's call: a real SIGINT that the backend swallowed still stops the run."""
    if interrupted():
        raise KeyboardInterrupt


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _interrupted.set()
    raise KeyboardInterrupt


@contextmanager
def watching() -> Iterator[None]:
    """Marks every real SIGINT while active (see the module docstring). Installed only in the
    main thread over Python's default handler; nested uses, and anywhere else, change nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    _interrupted.clear()
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _interrupted.clear()
