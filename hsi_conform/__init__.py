"""hsi-conform: reference toolkit for the HyperImage ``.hsi`` hyperspectral container.

The public API::

    header = hsi_conform.parse_header(data)      # lossless header model + syntax diagnostics
    with hsi_conform.open("x.hsi") as c:         # strict ZIP reader, zero-copy cube memmap
        c.cube, c.header.value("wavelength")
    report = hsi_conform.check("x.hsi")          # graded findings (never raises for content problems)
    hsi_conform.info("x.h5")                     # layout, wavelengths, members...: `hsi-conform info` as a dict
    cube = hsi_conform.apply_procedures(c)       # the header's read procedures re-enacted
    r = hsi_conform.reflectance(c)               # calibrated with Reference/ (spec/calibration.md)
    with hsi_conform.open("s3://bucket/x.hsi") as c:   # any fsspec URL: ranged reads, a lazy cube (spec/remote.md)
        c.read_band(0)
    hsi_conform.migrate("raw/", "s3://bucket/hsi")     # a tree to validated containers, resumable (spec/batch.md)

Every exception class (``hsi_conform.errors``) is importable from here too: ``except hsi_conform.HsiConformError``.
"""

from __future__ import annotations

from hsi_conform._version import __version__
from hsi_conform.container.interop import to_spectral
from hsi_conform.container.opening import open_container as open
from hsi_conform.container.reader import Container, CubeLayout
from hsi_conform.container.write import write_container
from hsi_conform.converters.info import info
from hsi_conform.converters.migrate import migrate
from hsi_conform.errors import (
    CalibrationError,
    ConfigError,
    ConformanceError,
    ContainerClosedError,
    ContainerError,
    ContainerVerifyError,
    ConverterNotFoundError,
    ConverterUnavailableError,
    DataBudgetError,
    DatasetError,
    DestinationExistsError,
    ExitCode,
    FieldValueError,
    HsiConformError,
    InapplicableProcedureError,
    InputNotFoundError,
    InputUnreadableError,
    InternalError,
    Interrupted,
    InUseError,
    InvalidArgumentError,
    MemberCrcError,
    MemberNameError,
    MissingDependencyError,
    MutationError,
    NonconformantSourceError,
    NoSpaceError,
    NoSuchFieldError,
    NoSuchMemberError,
    NotAnEnviHeaderError,
    OutputIsInputError,
    OutputUnwritableError,
    ProcedureError,
    QuantizationError,
    UnknownOptionError,
    UnknownSelectorError,
)
from hsi_conform.header import Header, parse_header
from hsi_conform.pipeline.calibrate import Calibrated, calibrate
from hsi_conform.pipeline.calibration import reflectance
from hsi_conform.pipeline.previews import block_reduce, preview_levels, write_previews
from hsi_conform.pipeline.procedures import apply_procedures
from hsi_conform.validate import check, validate

__all__ = ["Calibrated", "CalibrationError", "ConfigError", "ConformanceError", "Container", "ContainerClosedError",
           "ContainerError", "ContainerVerifyError", "ConverterNotFoundError", "ConverterUnavailableError",
           "CubeLayout", "DataBudgetError", "DatasetError", "DestinationExistsError",
           "ExitCode", "FieldValueError", "Header", "HsiConformError",
           "InUseError", "InapplicableProcedureError", "InputNotFoundError", "InputUnreadableError", "InternalError",
           "Interrupted", "InvalidArgumentError", "MemberCrcError", "MemberNameError", "MissingDependencyError",
           "MutationError",
           "NoSpaceError", "NoSuchFieldError", "NoSuchMemberError", "NonconformantSourceError", "NotAnEnviHeaderError",
           "OutputIsInputError", "OutputUnwritableError", "ProcedureError", "QuantizationError", "UnknownOptionError",
           "UnknownSelectorError", "__version__", "apply_procedures", "block_reduce", "calibrate", "check", "info",
           "migrate", "open", "parse_header", "preview_levels", "reflectance", "to_spectral", "validate",
           "write_container", "write_previews"]
