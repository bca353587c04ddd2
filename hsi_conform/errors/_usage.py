"""Errors of usage and of data given to a conversion.

Configuration, arguments, datasets, converters, missing extras, nonconformant sources (spec/safety.md#errors).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from hsi_conform.errors._codes import ExitCode, HsiConformError

if TYPE_CHECKING:
    from hsi_conform.finding import Report


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
