"""Exception hierarchy of hsi-conform.

Exceptions are for the tool failing and for :func:`hsi_conform.validate`; nonconformance found by a check is
data (a :class:`~hsi_conform.finding.Finding`), never an exception. Every class keeps its parts as keyword
attributes and builds ``str()`` from them, and declares the :class:`ExitCode` the command line exits with when
it escapes a command.
"""

from __future__ import annotations

import enum
import errno
import signal
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from hsi_conform.finding import Report

__all__ = [
    "ConfigError",
    "ConformanceError",
    "ContainerError",
    "ConverterNotFoundError",
    "ConverterUnavailableError",
    "ExitCode",
    "FieldValueError",
    "HsiConformError",
    "InUseError",
    "InputUnreadableError",
    "Interrupted",
    "NoSpaceError",
    "NotAnEnviHeaderError",
    "UnknownSelectorError",
]


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
    ExitCode.UNREADABLE: "an input cannot be read at all (missing, not a file, I/O error), or an output cannot be "
                         "written (disk full, file too large, destination in use by another run)",
    ExitCode.INTERNAL: "internal error: a bug in hsi-conform (please report it)",
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


class NotAnEnviHeaderError(HsiConformError):
    """The text is not an ENVI header at all (e.g. the first line is not ``ENVI``).

    Attributes:
        reason: What is wrong.
        offset: Byte offset of the problem in the header text.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, reason: str, offset: int = 0) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(reason, offset)

    def __str__(self) -> str:
        return f"not an ENVI header at byte {self.offset}: {self.reason}"


class FieldValueError(HsiConformError):
    """A header field value cannot be interpreted as its kind.

    Attributes:
        field: Normalised header key.
        item: 0-based list item index, or None for the whole value.
        reason: What is wrong with the value.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, field: str, item: int | None, reason: str) -> None:
        self.field = field
        self.item = item
        self.reason = reason
        super().__init__(field, item, reason)

    def __str__(self) -> str:
        where = self.field if self.item is None else f"{self.field}[{self.item}]"
        return f"invalid value for {where!r}: {self.reason}"


class ContainerError(HsiConformError):
    """The container (or one member of it) cannot be used as required.

    Attributes:
        member: Member path inside the container, or None for the archive itself.
        reason: What is wrong.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, member: str | None, reason: str) -> None:
        self.member = member
        self.reason = reason
        super().__init__(member, reason)

    def __str__(self) -> str:
        if self.member is None:
            return f"container error: {self.reason}"
        return f"container error in member {self.member!r}: {self.reason}"


class InputUnreadableError(HsiConformError):
    """The input cannot be read at all (missing, not a file, I/O error).

    Attributes:
        path: The input path as given.
        reason: Why it cannot be read.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(path, reason)

    def __str__(self) -> str:
        return f"cannot read {self.path!r}: {self.reason}"


class ConfigError(HsiConformError):
    """Invalid configuration or command-line policy.

    Attributes:
        reason: What is wrong.
        source: The configuration file, when the problem comes from one.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE

    def __init__(self, reason: str, source: str | None = None) -> None:
        self.reason = reason
        self.source = source
        super().__init__(reason, source)

    def __str__(self) -> str:
        if self.source is None:
            return f"configuration error: {self.reason}"
        return f"configuration error in {self.source}: {self.reason}"


class UnknownSelectorError(ConfigError):
    """A rule selector (``select``, ``ignore`` or a ``severity`` key) matches no rule.

    Attributes:
        selector: The selector as given.
        suggestions: The nearest rule ids or names, best first (possibly none).
        retired: Why the rule was retired, when the selector names a retired rule; else None.
        source: The configuration file, when the selector comes from one.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE

    def __init__(self, selector: str, suggestions: Sequence[str] = (), retired: str | None = None,
                 source: str | None = None) -> None:
        self.selector = selector
        self.suggestions = tuple(suggestions)
        self.retired = retired
        super().__init__(self._describe(), source)
        self.args = (selector, self.suggestions, retired, source)  # what __init__ takes, so that it pickles

    def _describe(self) -> str:
        if self.retired is not None:
            return f"rule {self.selector!r} is retired: {self.retired}"
        hint = f"did you mean {', '.join(self.suggestions)}?" if self.suggestions else "see: hsi-conform rules"
        return f"no rule matches {self.selector!r} ({hint})"


class ConverterNotFoundError(HsiConformError):
    """No installed converter accepts the source.

    Attributes:
        source: The input that no converter accepted.
        candidates: Names of the installed converters that were tried.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, source: str, candidates: Sequence[str] = ()) -> None:
        self.source = source
        self.candidates = tuple(candidates)
        super().__init__(source, candidates)

    def __str__(self) -> str:
        tried = ", ".join(self.candidates) if self.candidates else "none installed"
        return f"no converter accepts {self.source!r} (tried: {tried})"


class ConverterUnavailableError(HsiConformError):
    """A converter matches but its optional dependencies are not installed.

    Attributes:
        name: Converter name.
        requires: Distribution or import names the converter needs.
        extra: The pip extra that installs them (defaults to the converter name).
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, name: str, requires: Sequence[str] = (), extra: str | None = None) -> None:
        self.name = name
        self.requires = tuple(requires)
        self.extra = extra or name
        super().__init__(name, requires, extra)

    @property
    def install_command(self) -> str:
        """The pip command that installs the missing dependencies."""
        return f"pip install 'hsi-conform[{self.extra}]'"

    def __str__(self) -> str:
        needs = f" (needs {', '.join(self.requires)})" if self.requires else ""
        return f"converter {self.name!r} is unavailable{needs}; install it with: {self.install_command}"


class ConformanceError(HsiConformError):
    """Raised by ``validate()`` when the input does not conform; ``str()`` is the best match.

    Attributes:
        report: The full report.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.NONCONFORMANT

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(report)

    def __str__(self) -> str:
        best = self.report.best_match()
        if best is None:
            return f"{self.report.path}: not conformant"
        return f"{self.report.path}: {best}"


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


class NoSpaceError(HsiConformError, OSError):
    """An output does not fit: its filesystem is full (ENOSPC, EDQUOT) or the file-size limit is reached (EFBIG).

    Raised before writing when the size is known, or when a write fails; either way the temp file is removed and
    the destination is untouched. Also an ``OSError`` (with ``errno`` and ``filename``), as before it existed.

    Attributes:
        path: The destination.
        errno: ``ENOSPC``, ``EDQUOT`` or ``EFBIG``.
        needed: Bytes the output needs, when known.
        available: Bytes free on the filesystem (``ENOSPC``), or the file-size limit (``EFBIG``), when known.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, path: str, code: int, needed: int | None = None, available: int | None = None) -> None:
        OSError.__init__(self, code, _NO_SPACE_REASONS.get(code, "no space left"), path)
        self.path = path
        self.needed = needed
        self.available = available

    def __reduce__(self) -> tuple[type[NoSpaceError], tuple[str, int, int | None, int | None]]:
        return type(self), (self.path, self.errno or errno.ENOSPC, self.needed, self.available)

    def __str__(self) -> str:
        sizes = ""
        if self.needed is not None and self.available is not None:
            what = "the limit is" if self.errno == errno.EFBIG else "free:"
            sizes = f" (needs {self.needed} bytes, {what} {self.available})"
        return f"cannot write {self.path!r}: {self.strerror}{sizes}; nothing was written"


_NO_SPACE_REASONS: Mapping[int, str] = {
    errno.ENOSPC: "no space left on its device",
    errno.EFBIG: "file too large for the file-size limit (ulimit -f)",
    getattr(errno, "EDQUOT", errno.ENOSPC): "disk quota exceeded",
}


class InUseError(HsiConformError):
    """Another process (or thread) is writing the same destination; nothing was written.

    Attributes:
        path: The destination.
        pid: The process holding its lock, when known.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, path: str, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        super().__init__(path, pid)

    def __str__(self) -> str:
        owner = f"pid {self.pid}" if self.pid is not None else "another process"
        return f"{self.path!r} is in use by {owner}; nothing was written (try again when it has finished)"
