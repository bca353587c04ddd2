"""Progress on standard error, only on a terminal, erased when done (spec/cli.md#progress).

Kept in the standard library rather than ``rich`` or ``tqdm``: progress is part of the core command (no extra), two
small classes do what it needs (a counter naming the item in progress; a timer for one long job), and the line
is erased on close, so nothing of it stays in a terminal's scroll-back or reaches a pipe.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Activity", "Progress"]

_WIDTH = 119


class _Line:
    """One line redrawn in place; erased (not left behind) on :meth:`erase`."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self._stream = stream
        self._enabled = enabled
        self._width = 0
        self._lock = threading.Lock()

    def draw(self, text: str) -> None:
        if not self._enabled:
            return
        text = text[:_WIDTH]
        with self._lock:
            self._stream.write("\r" + text + " " * max(0, self._width - len(text)))
            self._stream.flush()
            self._width = len(text)

    def erase(self) -> None:
        with self._lock:
            if self._enabled and self._width:
                self._stream.write("\r" + " " * self._width + "\r")
                self._stream.flush()
            self._width = 0


class Progress:
    """Count items and redraw ``what [n/total] 1.2s item``; silent when the stream is not a terminal.

    Call :meth:`start` with the item about to be worked on (the line names it while it runs), :meth:`advance` when
    it is done, :meth:`close` at the end (the line is erased).

    Args:
        total: number of items expected.
        stream: where to draw (default ``sys.stderr``).
        enabled: force drawing on or off (default: only when ``stream`` is a terminal).
        what: what the job does (``"migrating"``), shown first.
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, enabled: bool | None = None,
                 what: str = "") -> None:
        self.total = total
        self.done = 0
        out = stream or sys.stderr
        self._line = _Line(out, out.isatty() if enabled is None else enabled)
        self._what = f"{what} " if what else ""
        self._start = time.monotonic()
        self._count = threading.Lock()

    def _draw(self, number: int, label: str) -> None:
        width = len(str(self.total))
        elapsed = time.monotonic() - self._start
        self._line.draw(f"{self._what}[{number:>{width}}/{self.total}] {elapsed:6.1f}s {label}")

    def start(self, label: str) -> None:
        """Show ``label`` as the item now in progress."""
        self._draw(min(self.done + 1, self.total), label)

    def advance(self, label: str = "") -> None:
        """Mark one more item done (``label``: the one that finished)."""
        with self._count:  # threads may finish items at once (corpus run)
            self.done += 1
            number = self.done
        self._draw(number, label)

    def close(self) -> None:
        """Erase the line (only if something was drawn)."""
        self._line.erase()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class Activity:
    """While one long job runs, show ``label`` and the elapsed time, redrawn every ``interval`` seconds; erased on exit.

    A background thread draws, so the job needs no callbacks; nothing is drawn when the stream is not a terminal or
    the job ends within the first ``interval``.
    """

    def __init__(self, label: str, *, stream: TextIO | None = None, enabled: bool | None = None,
                 interval: float = 0.25) -> None:
        out = stream or sys.stderr
        self._line = _Line(out, out.isatty() if enabled is None else enabled)
        self._enabled = out.isatty() if enabled is None else enabled
        self._label = label
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.wait(self._interval):
            self._line.draw(f"{self._label} {time.monotonic() - start:6.1f}s")

    def __enter__(self) -> Activity:
        if self._enabled:
            self._thread = threading.Thread(target=self._run, name="hsi-conform-activity", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._line.erase()
