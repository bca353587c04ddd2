"""Exception hierarchy of hsi-conform.

Exceptions are for the tool failing and for :func:`hsi_conform.validate`; nonconformance found by a check is
data (a :class:`~hsi_conform.finding.Finding`), never an exception. Every class keeps its parts as keyword
attributes and builds ``str()`` from them, and declares the :class:`ExitCode` the command line exits with when
it escapes a command.

Where a function used to raise a builtin exception (``ValueError`` for a bad argument or bad data, ``OSError`` for
a file that cannot be read or written, ``AssertionError`` for a broken guarantee), the class that replaces it keeps
that builtin as a second base, so ``except ValueError`` and ``except OSError`` in callers still work. Every class of
hsi-conform's exceptions lives in this package (spec/safety.md#errors), in one module per kind of failure
(`_codes`, `_inputs`, `_files`, `_usage`, `_internal`); import them from here, where they are named.
"""

from __future__ import annotations

from hsi_conform.errors._codes import ExitCode, HsiConformError
from hsi_conform.errors._files import (
    DestinationExistsError,
    InputNotFoundError,
    InputUnreadableError,
    InUseError,
    NoSpaceError,
    OutputUnwritableError,
)
from hsi_conform.errors._inputs import (
    ContainerClosedError,
    ContainerError,
    DataBudgetError,
    FieldValueError,
    InapplicableProcedureError,
    MemberCrcError,
    MemberNameError,
    NoSuchFieldError,
    NoSuchMemberError,
    NotAnEnviHeaderError,
    ProcedureError,
)
from hsi_conform.errors._internal import ContainerVerifyError, InternalError, Interrupted, MutationError
from hsi_conform.errors._usage import (
    CalibrationError,
    ConfigError,
    ConformanceError,
    ConverterNotFoundError,
    ConverterUnavailableError,
    DatasetError,
    InvalidArgumentError,
    MissingDependencyError,
    NonconformantSourceError,
    OutputIsInputError,
    QuantizationError,
    UnknownOptionError,
    UnknownSelectorError,
)

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
    "MemberCrcError",
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


# Public names: the classes are documented, pickled and reported as hsi_conform.errors.X, wherever they are defined.
for _name in __all__:
    _cls = globals()[_name]
    if isinstance(_cls, type) and _cls.__module__.startswith(__name__ + "."):
        _cls.__module__ = __name__
del _name, _cls
