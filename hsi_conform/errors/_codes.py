"""Exit codes and the base class of every error (spec/safety.md#errors)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import ClassVar


class ExitCode(enum.IntEnum):
    """Exit status of the ``hsi-conform`` command; the one place these numbers are defined.

    A file conforms when it has no finding at or above ``--fail-on``; a nonconformant file never exits 0.
    Each member's :attr:`meaning` says when it is used; README's exit-code table is generated from them
    (``python -m hsi_conform._docs``).
    """

    OK = 0
    NONCONFORMANT = 1
    USAGE = 2
    UNREADABLE = 3
    INTERNAL = 4
    UNWRITABLE = 5
    # 128 + the signal number, what shells report for a process stopped by that signal
    HANGUP = 129
    INTERRUPTED = 130
    TERMINATED = 143

    @property
    def meaning(self) -> str:
        """What the code tells the user (Markdown; one line of README's table)."""
        return _MEANINGS[self]

    @classmethod
    def for_signal(cls, signum: int) -> ExitCode:
        """Return ``128 + signum``, the code of a command stopped by SIGHUP, SIGINT or SIGTERM.

        Raises:
            ValueError: another signal (the command line handles only these three).
        """
        return cls(128 + signum)


_MEANINGS: Mapping[ExitCode, str] = {
    ExitCode.OK: "every file conforms (no finding at or above `--fail-on`)",
    ExitCode.NONCONFORMANT: "at least one file does not conform (hostile and broken files land here, with findings)",
    ExitCode.USAGE: "usage or configuration error",
    ExitCode.UNREADABLE: "an input cannot be read at all (missing, not a file, I/O error)",
    ExitCode.INTERNAL: "internal error: a bug in hsi-conform (please report it)",
    ExitCode.UNWRITABLE: "an output cannot be written: it exists (give `--overwrite`), its folder cannot be created, "
                         "permission denied, disk full, file too large, or in use by another run; nothing was written",
    ExitCode.HANGUP: "stopped by SIGHUP (the terminal closed); temp files removed, nothing half-written",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C, SIGINT); temp files removed, nothing half-written",
    ExitCode.TERMINATED: "stopped by SIGTERM; temp files removed, nothing half-written",
}


class HsiConformError(Exception):
    """Base class of every exception raised by hsi-conform.

    Subclasses pass their constructor arguments to ``Exception`` so that instances pickle (batch workers
    send them between processes) and override ``__str__``.

    Attributes:
        exit_code: What the command line exits with when the error escapes a command. The default, for
            errors about the input (a header, a container, a converter that cannot read it), is
            ``UNREADABLE``.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE
