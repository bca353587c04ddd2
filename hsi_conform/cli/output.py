"""What the command line prints, and how much: verbosity (``-q``, ``-qq``, ``-v``), colour and progress (spec/cli.md).

Verbosity is ``-v`` count minus ``-q`` count: ``-1`` prints only findings and verdicts, ``-2`` nothing on standard
output (the exit code says it; an error that stops a command still goes to standard error), ``1`` adds what is
normally left out (every skipped rule, the configuration file used, timings).

Colour follows, in this order: ``--color always|never``, ``NO_COLOR`` (set and not empty: never), ``FORCE_COLOR``
(set and not empty: always), ``TERM=dumb`` (never), then whether the stream is a terminal (spec/cli.md#colour).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from hsi_conform._progress import Activity, Progress
from hsi_conform.validate.config import COLOR_CHOICES

__all__ = ["COLOR_CHOICES", "Output", "add_volume_options", "output_of", "use_color"]

def add_volume_options(parser: argparse.ArgumentParser) -> None:
    """Add ``-q/--quiet`` and ``-v/--verbose`` (both repeatable) to a subcommand that does not define them itself."""
    if {"-q", "--quiet", "-v", "--verbose"} & set(parser._option_string_actions):
        return
    group = parser.add_argument_group("output volume")
    group.add_argument("-q", "--quiet", action="count", default=0,
                       help="print only findings and verdicts, and no progress; -qq prints nothing (the exit code "
                            "tells)")
    group.add_argument("-v", "--verbose", action="count", default=0,
                       help="also print what is normally left out (validate: every skipped rule, the "
                            "configuration file, the timing)")


def use_color(choice: str | None, stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Return whether to colour what goes to ``stream``; ``choice`` is ``--color`` (None or ``auto``: decide).

    Raises:
        ValueError: ``choice`` is not one of :data:`COLOR_CHOICES` or None.
    """
    env = os.environ if environ is None else environ
    if choice not in (None, *COLOR_CHOICES):
        raise ValueError(f"color must be one of {', '.join(COLOR_CHOICES)}, not {choice!r}")
    if choice in ("always", "never"):
        return choice == "always"
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("TERM") == "dumb":
        return False
    return stream.isatty()


@dataclass(frozen=True, slots=True)
class Output:
    """How much one command prints.

    Attributes:
        verbosity: ``-v`` count minus ``-q`` count.
        stream: Where progress goes (standard error).
    """

    verbosity: int = 0
    stream: TextIO | None = None

    @property
    def quiet(self) -> bool:
        """``-q`` or more: findings and verdicts only."""
        return self.verbosity < 0

    @property
    def verbose(self) -> bool:
        """``-v`` or more."""
        return self.verbosity > 0

    def say(self, line: str) -> None:
        """Print an informational line (what was written, notes); not with ``-q``."""
        if self.verbosity >= 0:
            print(line)

    def verdict(self, line: str) -> None:
        """Print a finding or a verdict line; not with ``-qq``."""
        if self.verbosity >= -1:
            print(line)

    def detail(self, line: str) -> None:
        """Print a line only with ``-v``."""
        if self.verbosity > 0:
            print(line)

    def _progress_stream(self) -> TextIO | None:
        stream = self.stream or sys.stderr
        return stream if not self.quiet and stream.isatty() else None

    def progress(self, total: int, what: str = "") -> Progress:
        """Return a counter of ``total`` items drawn on standard error, only on a terminal and not with ``-q``."""
        stream = self._progress_stream()
        return Progress(total, stream=stream or sys.stderr, enabled=stream is not None, what=what)

    def activity(self, label: str) -> Activity:
        """Return a context manager that shows ``label`` and the elapsed time while one long job runs."""
        stream = self._progress_stream()
        return Activity(label, stream=stream or sys.stderr, enabled=stream is not None)


def output_of(args: argparse.Namespace) -> Output:
    """Return the :class:`Output` of parsed arguments (without volume options: the default)."""
    return Output(getattr(args, "verbose", 0) - getattr(args, "quiet", 0))
