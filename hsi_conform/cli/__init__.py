"""The ``hsi-conform`` command line: one module per subcommand group, wired together in :mod:`.main`."""

from __future__ import annotations

from hsi_conform.cli.main import build_parser, main
from hsi_conform.errors import ExitCode

__all__ = ["ExitCode", "build_parser", "main"]
