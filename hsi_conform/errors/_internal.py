"""Broken guarantees (bugs, exit 4) and the interruption by a signal (spec/safety.md#errors)."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, ClassVar

from hsi_conform.errors._codes import ExitCode, HsiConformError

if TYPE_CHECKING:
    from hsi_conform.container.zipread import ZipIssue


class InternalError(HsiConformError, AssertionError):
    """hsi-conform broke one of its own guarantees: a bug, never the input's fault (also an ``AssertionError``).

    Raised where a bug is detected rather than crashed into: a rule that crashed inside the validator (seen by
    the test kit's oracle and the fuzz targets), a parsed header that does not reproduce its bytes.

    Attributes:
        reason: What went wrong.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)

    def __str__(self) -> str:
        return f"internal error (a bug): {self.reason}"


class ContainerVerifyError(InternalError):
    """A written container failed strict verification, so nothing was published.

    Every writer checks names and sizes before writing, so this means a bug in the writer (or storage that
    changed the bytes).

    Attributes:
        reason: What the verification found.
        issues: The issues the strict reader reported (may be empty for a value mismatch).
    """

    exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL

    def __init__(self, reason: str, issues: tuple[ZipIssue, ...] = ()) -> None:
        super().__init__(reason)
        self.issues = issues
        self.args = (reason, issues)  # the constructor's arguments, so the error pickles


class MutationError(InternalError):
    """A mutation of the test kit's catalogue left its container unchanged (a bug in the mutation)."""

    exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL


class Interrupted(KeyboardInterrupt):
    """The command was stopped by SIGINT, SIGTERM or SIGHUP (raised by the handlers of :mod:`hsi_conform._signals`).

    A ``KeyboardInterrupt``, not an :class:`HsiConformError`: it must pass through ``except Exception`` (a batch
    that records a failure per dataset and goes on must stop here instead), and every writer removes its temp on
    it as on Ctrl-C.

    Attributes:
        signum: The signal number.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signum)

    @property
    def exit_code(self) -> ExitCode:
        """``128 + signum`` (130 for Ctrl-C)."""
        return ExitCode.for_signal(self.signum)

    def __str__(self) -> str:
        return f"stopped by {signal.Signals(self.signum).name}"
