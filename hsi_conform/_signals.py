"""Signals as exceptions: SIGINT, SIGTERM and SIGHUP stop a command cleanly (spec/safety.md#faults).

The command line runs every command inside :func:`handlers`. Each of the three signals then raises
:class:`~hsi_conform.errors.Interrupted` (a ``KeyboardInterrupt`` carrying the signal number) in the main thread,
so every writer removes its temp (:mod:`hsi_conform._atomic` does on any exception) and the command exits
``128 + N``.

Python runs a signal handler between two bytecodes of the main thread, wherever they are. When that is inside a
weakref callback or a ``__del__`` (h5py runs some on every write), the exception is reported as "ignored" and
lost, and the command would go on. So the handler also records the signal, and every loop that streams data calls
:func:`checkpoint` between blocks: it raises again while a signal is recorded. Publishing runs under
:func:`deferred`: a signal arriving during the renames that publish a group of files waits until they are done.
Cleaning up (removing temps, releasing locks) runs under :func:`shielded`, so a second Ctrl-C cannot cut it.

:func:`checkpoint` also raises the audit event ``hsi_conform.checkpoint`` (:func:`sys.audit`): a point between two
blocks of a write, where fault-injection tests stop a writer.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from hsi_conform.errors import Interrupted

__all__ = ["SIGNALS", "checkpoint", "deferred", "handlers", "received", "shielded"]

#: The signals turned into :class:`~hsi_conform.errors.Interrupted` (those the platform has).
SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

_received: int | None = None
_defer_depth = 0


def received() -> int | None:
    """Return the first signal received while :func:`handlers` are installed, or None."""
    return _received


def checkpoint() -> None:
    """Raise :class:`~hsi_conform.errors.Interrupted` when a signal was received (outside :func:`deferred`).

    Cheap: loops that stream data call it once per block.
    """
    sys.audit("hsi_conform.checkpoint")
    if _received is not None and _defer_depth == 0:
        raise Interrupted(_received)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Run a block that must not be cut by a signal (the renames that publish); raise after it when one came.

    A signal received before the block raises at its start, so nothing is published after a signal.
    """
    checkpoint()
    with shielded():
        yield
    checkpoint()


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Run a block that a signal must not cut (cleaning up); the signal stays recorded and raises later.

    Unlike :func:`deferred` it never raises, so it also runs while an interruption is already propagating.
    """
    global _defer_depth
    _defer_depth += 1
    try:
        yield
    finally:
        _defer_depth -= 1


def _handle(signum: int, frame: FrameType | None) -> None:
    global _received
    del frame
    if _received is None:
        _received = signum
    if _defer_depth == 0:
        raise Interrupted(signum)


@contextlib.contextmanager
def handlers() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into :class:`~hsi_conform.errors.Interrupted` for the block.

    The previous handlers are restored and the received signal forgotten afterwards. Outside the main thread
    (where Python cannot set handlers) the block runs unchanged.
    """
    global _received
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _handle) for sig in SIGNALS}
    unraisable = sys.unraisablehook
    sys.unraisablehook = _quiet(unraisable)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        sys.unraisablehook = unraisable
        _received = None


def _quiet(previous: Callable[[Any], object]) -> Callable[[Any], None]:
    """Return an unraisable hook that drops our interruptions (the next checkpoint raises them again)."""

    def hook(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, Interrupted):
            previous(unraisable)

    return hook
