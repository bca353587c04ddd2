"""A one-line progress display on stderr, shown only on a terminal (no dependency on tqdm)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Count finished items and redraw ``[ n/total] label`` in place; silent when the stream is not a TTY.

    Args:
        total: number of items expected.
        stream: where to draw (default ``sys.stderr``).
        enabled: force drawing on or off (default: only when ``stream`` is a terminal).
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.total = total
        self.done = 0
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._start = time.monotonic()
        self._width = 0

    def advance(self, label: str = "") -> None:
        """Mark one more item done and redraw the line."""
        self.done += 1
        if not self._enabled:
            return
        width = len(str(self.total))
        elapsed = time.monotonic() - self._start
        text = f"[{self.done:>{width}}/{self.total}] {elapsed:6.1f}s {label}"[:119]
        pad = max(0, self._width - len(text))
        self._stream.write("\r" + text + " " * pad)
        self._stream.flush()
        self._width = len(text)

    def close(self) -> None:
        """End the line (only if something was drawn)."""
        if self._enabled and self._width:
            self._stream.write("\n")
            self._stream.flush()
        self._width = 0
