"""Text written while reports arrive and copied into a document at its end (spec/report.md#streaming).

A document whose head depends on every report (the JSON report's verdict and counts, JUnit's totals) cannot be
written as the reports arrive; its items are written to a spool instead, in memory up to 8 MiB and then in an
anonymous temporary file (removed by the system when closed), so the client holds no report and a bounded amount
of memory whatever the number of files.
"""

from __future__ import annotations

import shutil
import tempfile
from typing import TextIO

__all__ = ["Spool"]

_IN_MEMORY = 8 << 20


class Spool:
    """Items of text, in order, ``separator`` between two, to be copied out once.

    Attributes:
        items: How many were added.
    """

    def __init__(self, separator: str = "") -> None:
        # held across calls and closed by copy_to (or by the collector, should the run stop first)
        self._file = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY, mode="w+", encoding="utf-8",  # noqa: SIM115
                                                   newline="")
        self._separator = separator
        self.items = 0

    def add(self, text: str) -> None:
        """Append one item."""
        self._file.write(self._separator + text if self.items else text)
        self.items += 1

    def copy_to(self, out: TextIO) -> None:
        """Write the items to ``out`` and release the spool."""
        self._file.seek(0)
        shutil.copyfileobj(self._file, out)
        self._file.close()
