"""Exception hierarchy of hsi-conform.

Exceptions are for the tool failing and for :func:`hsi_conform.validate`; nonconformance found by a check is
data (a :class:`~hsi_conform.finding.Finding`), never an exception. Every class keeps its parts as keyword
attributes and builds ``str()`` from them, and declares the :class:`ExitCode` the command line exits with when
it escapes a command.

Where a function used to raise a builtin exception (``ValueError`` for a bad argument or bad data, ``OSError`` for
a file that cannot be read or written, ``AssertionError`` for a broken guarantee), the class that replaces it keeps
that builtin as a second base, so ``except ValueError`` and ``except OSError`` in callers still work. Every class of
hsi-conform's exceptions lives here (spec/safety.md#errors).
"""

from __future__ import annotations

import enum
import errno
import os
import signal
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, Self

if TYPE_CHECKING:
    from hsi_conform.container.zipread import ZipIssue
    from hsi_conform.finding import Finding, Report

__all__ = [
    "CalibrationError",
    "ConfigError",
    "ConformanceError",
    "ContainerClosedError",
    "ContainerError",
    "ContainerVerifyError",
    "ConverterNotFoundError",
    "ConverterUnavailableError",
    "DataBudgetError",
    "DatasetError",
    "DestinationExistsError",
    "ExitCode",
    "FieldValueError",
    "HsiConformError",
    "InUseError",
    "InapplicableProcedureError",
    "InputNotFoundError",
    "InputUnreadableError",
    "InternalError",
    "Interrupted",
    "InvalidArgumentError",
    "MemberNameError",
    "MissingDependencyError",
    "MutationError",
    "NoSpaceError",
    "NoSuchFieldError",
    "NoSuchMemberError",
    "NonconformantSourceError",
    "NotAnEnviHeaderError",
    "OutputIsInputError",
    "OutputUnwritableError",
    "ProcedureError",
    "QuantizationError",
    "UnknownOptionError",
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


class NoSuchFieldError(HsiConformError, KeyError):
    """A header has no field of that key; also a ``KeyError`` (``header["samples"]``).

    Attributes:
        key: The key as given.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)

    def __str__(self) -> str:
        return f"the header has no field {self.key!r}"


class ProcedureError(HsiConformError, ValueError):
    """An item of ``read procedures`` that is not a valid procedure (also a ``ValueError``).

    Attributes:
        reason: What is wrong, e.g. ``"crop range 5:2 ends before it starts"``.
        item: The 0-based index of the item in the list (None when a single item was parsed).
        column: The 1-based column in the item's text where parsing failed, if known.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, reason: str, *, item: int | None = None, column: int | None = None) -> None:
        self.reason = reason
        self.item = item
        self.column = column
        where = "" if item is None else f"item {item}: "
        super().__init__(where + reason)


class InapplicableProcedureError(ProcedureError):
    """A ``read procedures`` list that cannot be re-enacted on its cube; nothing is written then.

    Raised by the executor (:func:`hsi_conform.apply_procedures`, spec/procedures.md#errors) for an invalid or
    unknown procedure, a crop beyond the cube, a merge whose cube is missing, outside the container's folder or
    of other bands, a micro-service the caller did not allow or that is not installed. The procedure list is at
    fault, as a nonconformant file is: the exit code is ``NONCONFORMANT``. Also a ``ValueError``.

    Attributes:
        reason: What is wrong.
        item: The 0-based index of the procedure in the list (None when the whole list is concerned).
        finding: The finding this stands for, with the rule that names the problem (``FLD022`` for a crop
            beyond the cube, ...) and its location (``data.hdr``, field ``read procedures``, the item), or None
            when no rule covers it.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.NONCONFORMANT

    def __init__(self, reason: str, *, item: int | None = None, finding: Finding | None = None) -> None:
        super().__init__(reason, item=item)
        self.finding = finding
        self.args = (reason, item, finding)  # what __reduce__ hands back, so that it pickles

    def __reduce__(self) -> tuple[type[InapplicableProcedureError], tuple[str], dict[str, object]]:
        return type(self), (self.reason,), {"item": self.item, "finding": self.finding, "args": self.args}

    def __str__(self) -> str:
        rule = f" [{self.finding.rule}]" if self.finding is not None else ""
        where = "" if self.item is None else f"item {self.item}: "
        return f"cannot re-enact read procedures{rule}: {where}{self.reason}"


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


class NoSuchMemberError(ContainerError, KeyError):
    """The container has no member of that name; also a ``KeyError`` (``container["x.txt"]``, ``info("x.txt")``).

    Attributes:
        member: The name as given.
        reason: ``"no such member"``.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, member: str, reason: str = "no such member") -> None:
        super().__init__(member, reason)


class ContainerClosedError(ContainerError, ValueError):
    """A container used after :meth:`~hsi_conform.container.reader.Container.close` (also a ``ValueError``).

    Like a closed file's ``ValueError: I/O operation on closed file`` and rasterio's "Dataset is closed": the
    caller's mistake, as an invalid argument is (exit code ``USAGE``). Arrays handed out before closing stay
    valid.

    Attributes:
        member: None.
        reason: ``"container is closed"``.
        location: The container as given (a path or a URL).
    """

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE

    def __init__(self, location: str, reason: str = "container is closed") -> None:
        self.location = location
        super().__init__(None, reason)
        self.args = (location, reason)  # what __init__ takes, so that it pickles

    def __str__(self) -> str:
        return f"{self.reason}: {self.location}"


class MemberNameError(ContainerError, ValueError):
    """A member name that a writer refuses: it could land outside the destination on some OS, or is not portable.

    Judged by the one name policy of the strict reader (spec/safety.md#refused-names). A ``ValueError`` too, as the
    container writer raised before. The exit code is ``NONCONFORMANT``: the source holding the name is at fault.

    Attributes:
        member: The name as given.
        codes: The name policy's codes (``name-traversal``, ``name-drive``, ...).
    """

    exit_code: ClassVar[ExitCode] = ExitCode.NONCONFORMANT

    def __init__(self, member: str, codes: Sequence[str]) -> None:
        self.codes = tuple(codes)
        super().__init__(member, f"refused member name ({', '.join(self.codes)})")
        self.args = (member, self.codes)  # what __init__ takes, so that it pickles

    def __str__(self) -> str:
        return (f"refusing to write the member name {self.member!r} ({', '.join(self.codes)}): it could land "
                "outside the destination or is not portable; nothing was written")


class MemberCrcError(ContainerError):
    """A member copied verbatim from a container does not match the CRC-32 its central directory gives it.

    A writer that checks a member's CRC from the bytes it copies (the ENVI export's ``data.envi``,
    spec/safety.md#crc-while-copying) raises it and publishes nothing; ``convert`` then judges the source in full
    and reports it as a :class:`NonconformantSourceError`, as it would have before the copy. The exit code is
    ``NONCONFORMANT``.

    Attributes:
        member: The member.
        reason: The CRC found and the one expected.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.NONCONFORMANT


class DataBudgetError(ContainerError):
    """A conversion would write more than the source holds: members share bytes of a file.

    An overlap bomb makes thousands of members out of one region of the file; every writer refuses it before
    writing anything (spec/safety.md#overlaps). The exit code is ``NONCONFORMANT``.

    Attributes:
        member: The member that reads bytes another member reads.
        reason: What is wrong.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.NONCONFORMANT

    def __str__(self) -> str:
        return f"refusing to convert: member {self.member!r} {self.reason}; nothing was written"


class _FileError(HsiConformError, OSError):
    """Base of the errors about one file: also an ``OSError``, with ``errno``, ``strerror`` and ``filename`` set.

    Attributes:
        path: The file as given.
        reason: What went wrong.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, path: str, reason: str, errno: int | None = None) -> None:
        self.path = path
        self.reason = reason
        super().__init__(path, reason)
        # OSError would read (path, reason) as (errno, strerror): set its attributes to what they mean
        self.errno, self.strerror, self.filename = errno, reason, path

    def __reduce__(self) -> tuple[type[Self], tuple[str, str, int | None]]:
        return type(self), (self.path, self.reason, self.errno)

    @classmethod
    def checked_path(cls, path: str | os.PathLike[str]) -> str:
        """Return ``path`` as a string, or raise this error when no file can have that name (a NUL byte)."""
        text = os.fspath(path)
        if "\0" in text:  # os functions raise ValueError for it, not OSError
            raise cls(text, "the path contains a NUL byte")
        return text

    @classmethod
    def from_os_error(cls, path: str, exc: OSError) -> Self:
        """Return the error for ``exc`` raised on ``path`` (its ``strerror`` and ``errno`` are kept)."""
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != path else ""
        return cls(path, f"{exc.strerror or exc}{where}", exc.errno)


class InputUnreadableError(_FileError):
    """The input cannot be read at all (missing, not a file, I/O error); also an ``OSError``.

    A missing input (``errno.ENOENT``) is an :class:`InputNotFoundError`, also a ``FileNotFoundError``.

    Attributes:
        path: The input path as given.
        reason: Why it cannot be read.
        errno: The ``errno`` of the underlying ``OSError``, when there was one.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __new__(cls, *args: object, **kwargs: object) -> Self:
        """Return an :class:`InputNotFoundError` for ``errno.ENOENT``, as ``OSError(ENOENT, ...)`` is one."""
        code = kwargs.get("errno", args[2] if len(args) > 2 else None)
        if cls is InputUnreadableError and code == _ENOENT:
            return super().__new__(InputNotFoundError, *args)  # type: ignore[return-value]
        return super().__new__(cls, *args)

    def __str__(self) -> str:
        return f"cannot read {self.path!r}: {self.reason}"


class InputNotFoundError(InputUnreadableError, FileNotFoundError):
    """The input does not exist (``ENOENT``); also a ``FileNotFoundError``.

    :class:`InputUnreadableError` built with ``errno.ENOENT`` (by :meth:`~InputUnreadableError.from_os_error`, or
    directly) is one of these, so ``except FileNotFoundError`` catches a missing input as it catches ``open()``'s.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, path: str, reason: str = "no such file or directory", errno: int | None = None) -> None:
        super().__init__(path, reason, _ENOENT if errno is None else errno)


_ENOENT = errno.ENOENT


class OutputUnwritableError(_FileError):
    """An output cannot be written (its folder is missing, permission denied, disk full); also an ``OSError``.

    Nothing is left behind: writers publish atomically, so the destination keeps its old content.

    Attributes:
        path: The destination as given.
        reason: Why it cannot be written.
        errno: The ``errno`` of the underlying ``OSError``, when there was one.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNWRITABLE

    def __str__(self) -> str:
        return f"cannot write {self.path!r}: {self.reason}"


class DestinationExistsError(OutputUnwritableError, FileExistsError):
    """The command line's destination exists and ``--overwrite`` was not given; also a ``FileExistsError``.

    Attributes:
        path: The destination as given.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNWRITABLE

    def __init__(self, path: str, reason: str = "it exists (give --overwrite to replace it)",
                 errno: int | None = None) -> None:
        super().__init__(path, reason, _EEXIST if errno is None else errno)


_EEXIST = errno.EEXIST


class ConfigError(HsiConformError, ValueError):
    """Invalid configuration or command-line policy (also a ``ValueError``).

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


class UnknownOptionError(ConfigError):
    """Options that neither converter of a conversion declares (exit code 2, like every ConfigError).

    Attributes:
        unknown: the options nobody accepts.
        accepted: what each converter accepts, by role (``"envi writer"`` -> ``("sidecar",)``).
    """

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE

    def __init__(self, unknown: Sequence[str], accepted: Mapping[str, Sequence[str]]) -> None:
        self.unknown = tuple(unknown)
        self.accepted = {role: tuple(names) for role, names in accepted.items()}
        offers = "; ".join(f"the {role} accepts {', '.join(names) if names else 'no options'}"
                           for role, names in self.accepted.items())
        super().__init__(f"unknown option(s) {', '.join(self.unknown)}: {offers}")
        self.args = (self.unknown, self.accepted)  # the constructor's arguments, so the error pickles


class OutputIsInputError(ConfigError):
    """An output path is an input: the same path, the same file (hard or symbolic link), inside or around it.

    Nothing is read or written when this is raised (spec/safety.md#output-is-input). A usage error (exit 2).

    Attributes:
        output: The output path as given.
        input_path: The input path it clashes with.
        relation: How: ``"is"``, ``"is the same file as"``, ``"lies inside"`` or ``"contains"``.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE

    def __init__(self, output: str, input_path: str, relation: str) -> None:
        self.output = output
        self.input_path = input_path
        self.relation = relation
        super().__init__(f"the output {output} {relation} the input {input_path}; nothing was written")
        self.args = (output, input_path, relation)  # what __init__ takes, so that it pickles

    def __str__(self) -> str:
        return self.reason


class InvalidArgumentError(HsiConformError, ValueError):
    """A function got an argument value it cannot work with (a caller's mistake; also a ``ValueError``).

    Examples: a negative count, an alignment that is not a power of two, an unknown feature or report format.

    Attributes:
        reason: What is wrong.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)

    def __str__(self) -> str:
        return self.reason


class CalibrationError(HsiConformError, ValueError):
    """A container that cannot be calibrated to reflectance (also a ``ValueError``); nothing is written then.

    Examples: no white or black reference, a reference whose samples or bands differ from the cube's, a cube that
    is reflectance already (spec/calibration.md#refused).

    Attributes:
        reason: What is wrong.
        member: The member concerned, when there is one.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE

    def __init__(self, reason: str, member: str | None = None) -> None:
        self.reason = reason
        self.member = member
        super().__init__(reason, member)

    def __str__(self) -> str:
        where = "" if self.member is None else f"{self.member}: "
        return f"cannot calibrate: {where}{self.reason}"


class DatasetError(HsiConformError, ValueError):
    """Data that cannot be written as given (also a ``ValueError``); nothing is written then.

    Examples: an array that is not 3-D or whose dtype has no ENVI data type, header fields that contradict the
    array, a member name no container may hold, a member whose data is not as long as declared.

    Attributes:
        reason: What is wrong.
        member: The member concerned, when there is one.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, reason: str, member: str | None = None) -> None:
        self.reason = reason
        self.member = member
        super().__init__(reason, member)

    def __str__(self) -> str:
        return self.reason if self.member is None else f"{self.member!r}: {self.reason}"


class QuantizationError(DatasetError):
    """The cube cannot be quantised as asked (non-finite values, or not floating point).

    Attributes:
        reason: What is wrong.
        count: How many values are concerned.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, reason: str, count: int = 0) -> None:
        self.count = count
        super().__init__(reason)
        self.args = (reason, count)  # the constructor's arguments, so the error pickles

    def __str__(self) -> str:
        return f"cannot quantise: {self.reason}" + (f" ({self.count} values)" if self.count else "")


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


class MissingDependencyError(HsiConformError):
    """An optional dependency that a task needs is not installed (e.g. fsspec to read a URL).

    Attributes:
        task: What could not be done, e.g. ``"reading 's3://bucket/x.hsi'"``.
        requires: Distribution or import names that are missing.
        extra: The pip extra that installs them (None: they are installed by name).
        hint: What the missing package's own error said, when it said more.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, task: str, requires: Sequence[str] = (), extra: str | None = "remote", hint: str = "") -> None:
        self.task = task
        self.requires = tuple(requires)
        self.extra = extra
        self.hint = hint
        super().__init__(task, self.requires, extra, hint)

    @property
    def install_command(self) -> str:
        """The pip command that installs the missing dependencies."""
        if self.extra is None:
            return "pip install " + " ".join(self.requires)
        return f"pip install 'hsi-conform[{self.extra}]'"

    def __str__(self) -> str:
        needs = f" ({self.hint or 'needs ' + ', '.join(self.requires)})" if self.requires or self.hint else ""
        return f"{self.task} needs an optional dependency{needs}; install it with: {self.install_command}"


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


class NonconformantSourceError(ConformanceError):
    """``convert`` refuses a source that does not conform (give ``allow_nonconformant`` to convert it anyway).

    Nothing is written when this is raised (spec/safety.md#nonconformant-sources).

    Attributes:
        report: The source's report.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.NONCONFORMANT

    def __str__(self) -> str:
        return (f"refusing to convert a nonconformant source ({super().__str__()}); "
                "--allow-nonconformant converts it anyway")


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

    exit_code: ClassVar[ExitCode] = ExitCode.UNWRITABLE

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

    exit_code: ClassVar[ExitCode] = ExitCode.UNWRITABLE

    def __init__(self, path: str, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        super().__init__(path, pid)

    def __str__(self) -> str:
        owner = f"pid {self.pid}" if self.pid is not None else "another process"
        return f"{self.path!r} is in use by {owner}; nothing was written (try again when it has finished)"
