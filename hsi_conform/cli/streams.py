"""``-`` on the command line means the standard streams, never a file named ``-`` (spec/cli.md#streams).

``validate -`` reads one container from standard input, spooled to a temporary file (a ZIP is read from its end);
``validate -o -`` writes a report to standard output. A command that writes a container, an HDF5 or a TIFF file
refuses ``-``: those formats are written by seeking, which a pipe cannot do.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

from hsi_conform.errors import ConfigError

__all__ = ["STDIN_NAME", "STDIO", "file_destination", "file_source", "spool_stdin"]

STDIO = "-"
"""What stands for standard input or output."""

STDIN_NAME = "<stdin>"
"""How reports name a container read from standard input."""


def file_destination(text: str) -> Path:
    """Argument type of a destination that must be a file or folder: ``-`` is refused (exit 2) with the reason."""
    if text == STDIO:
        raise argparse.ArgumentTypeError("'-' (standard output) cannot be given here: the output is written by "
                                         "seeking, which a pipe cannot do; give a file name")
    return Path(text)


def file_source(text: str) -> Path:
    """Argument type of a source that must be a file or folder: ``-`` is refused (exit 2) with the reason."""
    if text == STDIO:
        raise argparse.ArgumentTypeError("'-' (standard input) cannot be given here: give a file or folder "
                                         "(only validate's PATH reads a container from standard input)")
    return Path(text)


def name_source(text: str) -> str:
    """As :func:`file_source`, but kept as given: a URL must reach the command unmangled (``Path`` folds ``//``)."""
    return str(file_source(text)) if text == STDIO else text


def name_destination(text: str) -> str:
    """As :func:`file_destination`, but kept as given (a URL reaches the command unmangled, to be judged there)."""
    return str(file_destination(text)) if text == STDIO else text


def spool_stdin(stack: contextlib.ExitStack) -> Path:
    """Copy standard input to a temporary file removed when ``stack`` closes; return its path.

    Raises:
        ConfigError: standard input is a terminal (nothing was piped in).
    """
    if sys.stdin is None or sys.stdin.isatty():
        raise ConfigError("'-' reads a container from standard input, but it is a terminal: pipe one in "
                          "(hsi-conform validate - < scene.hsi)")
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hsi-conform-stdin-")))
    path = folder / "stdin.hsi"
    with path.open("wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
    return path
