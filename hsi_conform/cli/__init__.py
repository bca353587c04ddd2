"""The ``hsi-conform`` command line: one module per subcommand group, wired together in :mod:`.main`."""

from __future__ import annotations

from hsi_conform.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
