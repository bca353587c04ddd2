"""Command-line interface (placeholder until the subcommands land)."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Run the ``hsi-conform`` command line and return the exit code."""
    return 0
