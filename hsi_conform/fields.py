"""THE field table: every header field of D4.1 sections 2.4-2.9 (and the ENVI fields they lean on).

Everything else reads this table: the typed view (:meth:`Header.value`), the ``FLD`` rules, the converter
mapping tables (which name fields by :attr:`FieldSpec.key`), the generated spec/fields.md and the test
strategies. Keys the table does not know are kept verbatim and typed as free strings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from hsi_conform.errors import DatasetError


class Kind(enum.StrEnum):
    """The value kind of a field."""

    INT = "int"
    """A decimal integer."""
    FLOAT = "float"
    """A decimal floating-point number."""
    STRING = "string"
    """A scalar string (commas are part of it)."""
    TEXT = "text"
    """Opaque free text, usually in braces; commas, ``=`` and line breaks are part of it."""
    INT_LIST = "int-list"
    """A brace list of integers."""
    FLOAT_LIST = "float-list"
    """A brace list of numbers."""
    STRING_LIST = "string-list"
    """A brace list of strings."""
    ENUM = "enum"
    """One of :attr:`FieldSpec.allowed` (see the enums below)."""
    DATE = "date"
    """An ISO 8601 date or date-time in one of the forms of spec 2.7."""
    FILENAME = "filename"
    """The name of a member of the container."""
    ANY = "any"
    """A field the table does not know: kept verbatim, scalar or list."""


class Scope(enum.StrEnum):
    """Where in a container an ENVI header sits (fields can be mandatory in some scopes only)."""

    ROOT = "root"
    """``data.hdr``."""
    PREVIEW = "preview"
    """``preview.hdr`` and ``preview_<lod>.hdr``."""
    REFERENCE = "reference"
    """``Reference/white.hdr`` and ``Reference/black.hdr``."""
    EXPLORATION = "exploration"
    """ENVI headers under ``Exploration/`` (classification file)."""


ALL_SCOPES = frozenset(Scope)


class DataType(enum.IntEnum):
    """ENVI ``data type`` codes (spec 2.4); 7, 8, 10 and 11 are not defined."""

    UINT8 = 1
    """8-bit unsigned integer."""
    INT16 = 2
    """16-bit signed integer."""
    INT32 = 3
    """32-bit signed integer."""
    FLOAT32 = 4
    """32-bit IEEE float."""
    FLOAT64 = 5
    """64-bit IEEE float."""
    COMPLEX64 = 6
    """Pair of 32-bit floats."""
    COMPLEX128 = 9
    """Pair of 64-bit floats."""
    UINT16 = 12
    """16-bit unsigned integer."""
    UINT32 = 13
    """32-bit unsigned integer."""
    INT64 = 14
    """64-bit signed integer (not supported by ENVI itself nor GDAL < 3.7)."""
    UINT64 = 15
    """64-bit unsigned integer (not supported by ENVI itself nor GDAL < 3.7)."""

    def dtype(self, byte_order: int = 0) -> np.dtype[np.generic]:
        """Return the numpy dtype with explicit byte order (0: little endian, 1: big endian)."""
        return np.dtype(_DTYPE_CODES[self]).newbyteorder(">" if byte_order == 1 else "<")

    @property
    def itemsize(self) -> int:
        """Bytes per value."""
        return np.dtype(_DTYPE_CODES[self]).itemsize

    @classmethod
    def from_dtype(cls, dtype: np.dtype[np.generic]) -> DataType:
        """Return the code of a numpy dtype (any byte order).

        Raises:
            DatasetError: the dtype has no ENVI code (e.g. int8, float16, bool); a ``ValueError``.
        """
        code = np.dtype(dtype).newbyteorder("=").str[1:]
        for member, name in _DTYPE_CODES.items():
            if np.dtype(name).str[1:] == code:
                return member
        raise DatasetError(f"numpy dtype {dtype} has no ENVI data type")


_DTYPE_CODES = {
    DataType.UINT8: "u1", DataType.INT16: "i2", DataType.INT32: "i4", DataType.FLOAT32: "f4",
    DataType.FLOAT64: "f8", DataType.COMPLEX64: "c8", DataType.COMPLEX128: "c16", DataType.UINT16: "u2",
    DataType.UINT32: "u4", DataType.INT64: "i8", DataType.UINT64: "u8",
}


class Interleave(enum.StrEnum):
    """Data ``interleave`` (spec 2.4); read case-insensitively, written in lower case."""

    BSQ = "bsq"
    """Band sequential: (bands, lines, samples)."""
    BIL = "bil"
    """Band interleaved by line: (lines, bands, samples)."""
    BIP = "bip"
    """Band interleaved by pixel: (lines, samples, bands)."""

    def shape(self, lines: int, samples: int, bands: int) -> tuple[int, int, int]:
        """Return the array shape of a cube stored with this interleave."""
        return {
            Interleave.BSQ: (bands, lines, samples),
            Interleave.BIL: (lines, bands, samples),
            Interleave.BIP: (lines, samples, bands),
        }[self]


class ByteOrder(enum.IntEnum):
    """``byte order`` (spec 2.4)."""

    LITTLE = 0
    """Least significant byte first (Intel)."""
    BIG = 1
    """Most significant byte first (network, IEEE)."""


#: ``file type`` values for ENVI files in the root (spec 2.4: "must set the file type to ENVI Standard").
ROOT_FILE_TYPES = ("ENVI Standard",)
#: ``file type`` values of a compressed cube, in ``data.hdr`` only (spec 2.4's "future values"; spec/jpegxl.md).
CUBE_FILE_TYPES = ("JPEGXL",)
#: ``file type`` values the spec names for files in ``Exploration/``.
EXPLORATION_FILE_TYPES = ("ENVI Standard", "ENVI Classification", "ENVI FFT", "PCA")
#: ``sensor type`` values that name no sensor (ENVI's own default, which GDAL's test files carry): they link to no
#: camera file (spec/semantics.md#sensor-type); compared case-insensitively.
NO_SENSOR_TYPES = ("Unknown",)
#: Wavelength units of ENVI (``wavelength units``, compared case-insensitively), each with its UDUNITS spelling
#: for CF attributes (None: an index or unknown, no physical unit).
WAVELENGTH_UNITS: dict[str, str | None] = {
    "Micrometers": "um", "um": "um", "Nanometers": "nm", "nm": "nm", "Millimeters": "mm", "mm": "mm",
    "Centimeters": "cm", "cm": "cm", "Meters": "m", "m": "m", "Wavenumber": "cm-1", "Angstroms": "angstrom",
    "GHz": "GHz", "MHz": "MHz", "Index": None, "Unknown": None,
}
#: Spellings of wavelength units that real headers use and ENVI's vocabulary does not have (compared
#: case-insensitively), each with the unit of :data:`WAVELENGTH_UNITS` it means. Importers write the ENVI unit
#: instead (GDAL and ENVI understand only ENVI's spellings); the validator reports them (FLD011), naming it
#: (spec/semantics.md#wavelength-units).
WAVELENGTH_UNIT_SYNONYMS: dict[str, str] = {
    "nanometer": "Nanometers", "nanometre": "Nanometers", "nanometres": "Nanometers",
    "micrometer": "Micrometers", "micrometre": "Micrometers", "micrometres": "Micrometers",
    "micron": "Micrometers", "microns": "Micrometers", "\u00b5m": "Micrometers", "\u03bcm": "Micrometers",
    "millimeter": "Millimeters", "millimetre": "Millimeters", "millimetres": "Millimeters",
    "centimeter": "Centimeters", "centimetre": "Centimeters", "centimetres": "Centimeters",
    "meter": "Meters", "metre": "Meters", "metres": "Meters",
    "angstrom": "Angstroms", "\u00e5ngstr\u00f6m": "Angstroms", "\u00e5ngstr\u00f6ms": "Angstroms",
    "\u00e5": "Angstroms",
    "wavenumbers": "Wavenumber", "cm-1": "Wavenumber", "cm^-1": "Wavenumber", "1/cm": "Wavenumber",
    "cm\u207b\u00b9": "Wavenumber",
}
_ENVI_UNITS = {k.lower(): k for k in WAVELENGTH_UNITS}
_UDUNITS = {k.lower(): v for k, v in WAVELENGTH_UNITS.items()}


def envi_wavelength_unit(value: str) -> str | None:
    """Return the ENVI unit a ``wavelength units`` value means, spelled as in :data:`WAVELENGTH_UNITS`.

    ENVI's own units in any case (``nanometers`` -> ``Nanometers``) and the spellings of
    :data:`WAVELENGTH_UNIT_SYNONYMS` (``micron`` -> ``Micrometers``, ``\u00c5`` -> ``Angstroms``); None for anything
    else.
    """
    word = value.strip().lower()
    return _ENVI_UNITS.get(word) or WAVELENGTH_UNIT_SYNONYMS.get(word)


def wavelength_udunits(value: str) -> str | None:
    """Return the UDUNITS spelling of a ``wavelength units`` value (None when it names no unit of the table)."""
    unit = envi_wavelength_unit(value)
    return None if unit is None else _UDUNITS[unit.lower()]


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    """One header field.

    Attributes:
        key: the normalised key (lower case, single spaces).
        kind: the value kind.
        section: the D4.1 section that defines it (``"ENVI"`` for ENVI fields D4.1 does not list).
        anchor: the anchor of the field in spec/fields.md.
        required_in: scopes in which the field is mandatory.
        recommended_in: scopes in which the field should be present (a WARNING when missing).
        count: the list-length rule: ``"bands"``, ``"classes"``, ``"3*classes"``, ``"1|3"``, ``"2"``, ``"3"``.
        allowed: the allowed values of an ``ENUM`` field (as written in canonical headers).
        minimum: the smallest allowed number (inclusive), if any.
        positive: numbers must be > 0.
        nonfinite: NaN and infinities are allowed.
        summary: one line.
    """

    key: str
    kind: Kind
    section: str
    summary: str
    required_in: frozenset[Scope] = frozenset()
    recommended_in: frozenset[Scope] = frozenset()
    count: str | None = None
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    positive: bool = False
    nonfinite: bool = False

    @property
    def anchor(self) -> str:
        """The anchor of the field in spec/fields.md."""
        return "fields.md#" + self.key.replace(" ", "-")

    @property
    def is_list(self) -> bool:
        """The value is a brace list."""
        return self.kind in (Kind.INT_LIST, Kind.FLOAT_LIST, Kind.STRING_LIST)


def _f(key: str, kind: Kind, section: str, summary: str, **kw: object) -> FieldSpec:
    return FieldSpec(key=key, kind=kind, section=section, summary=summary, **kw)  # type: ignore[arg-type]


_HSI = frozenset({Scope.ROOT})
_WAVE_SHOULD = frozenset({Scope.PREVIEW, Scope.REFERENCE})

FIELDS: tuple[FieldSpec, ...] = (
    # 2.4 Mandatory fields following the original ENVI standard
    _f("bands", Kind.INT, "2.4", "Number of spectral bands.", required_in=ALL_SCOPES, positive=True),
    _f("lines", Kind.INT, "2.4", "Number of lines per band.", required_in=ALL_SCOPES, positive=True),
    _f("samples", Kind.INT, "2.4", "Number of samples (pixels) per line.", required_in=ALL_SCOPES,
       positive=True),
    _f("byte order", Kind.ENUM, "2.4", "0 = little endian, 1 = big endian.", required_in=ALL_SCOPES,
       allowed=("0", "1")),
    _f("data type", Kind.ENUM, "2.4", "ENVI data type code.", required_in=ALL_SCOPES,
       allowed=tuple(str(int(d)) for d in DataType)),
    _f("file type", Kind.STRING, "2.4", "ENVI file type; `ENVI Standard` in the root (`JPEGXL`: a compressed cube).",
       required_in=ALL_SCOPES),
    _f("interleave", Kind.ENUM, "2.4", "bsq, bil or bip.", required_in=ALL_SCOPES,
       allowed=tuple(i.value for i in Interleave)),
    _f("header offset", Kind.INT, "2.4", "Bytes of embedded header before the data (default 0).",
       minimum=0),
    # 2.5 Mandatory fields of the proposed HSI format
    _f("wavelength", Kind.FLOAT_LIST, "2.5", "Centre wavelength of each band.", required_in=_HSI,
       recommended_in=_WAVE_SHOULD, count="bands", positive=True),
    # 2.6 Optional fields for visualization
    _f("band names", Kind.STRING_LIST, "2.6", "Name of each band.", count="bands"),
    _f("default bands", Kind.INT_LIST, "2.6", "1-based band numbers for grey or RGB display.", count="1|3",
       minimum=1),
    _f("pixel size", Kind.STRING_LIST, "2.6", "x and y pixel size in metres (`{x, y[, units=...]}`)."),
    _f("reflectance scale factor", Kind.FLOAT, "2.6", "Divide the data by this to get 0-1 reflectance.",
       positive=True),
    _f("data offset values", Kind.FLOAT_LIST, "2.6", "Offset of each band (a per-band list, as in ENVI).",
       count="bands"),
    _f("description", Kind.TEXT, "2.6", "Free text describing the image or its processing."),
    _f("read procedures", Kind.STRING_LIST, "2.6", "Processing steps to re-enact before display."),
    # 2.7 Optional fields for searching and grouping
    _f("acquisition time", Kind.DATE, "2.7", "ISO 8601 date or date-time of the acquisition."),
    _f("problem", Kind.STRING_LIST, "2.7", "Problem keywords (tags)."),
    _f("series", Kind.STRING, "2.7", "Series ID grouping targets with the same problem."),
    _f("target", Kind.STRING, "2.7", "Target or scene ID."),
    _f("target info", Kind.STRING_LIST, "2.7", "Searchable information about the target."),
    _f("measurement", Kind.STRING, "2.7", "ID of this measurement."),
    _f("sensor type", Kind.STRING, "2.7", "Name of a camera file under Metadata/."),
    _f("device", Kind.STRING, "2.7", "ID of the camera setup or measuring device."),
    _f("optics", Kind.STRING_LIST, "2.7", "Optics tags (microscope, macro, ...)."),
    # 2.8 Further optional metadata and configuration fields
    _f("fwhm", Kind.FLOAT_LIST, "2.8", "Full width at half maximum of each band.", count="bands",
       positive=True),
    _f("temperature", Kind.FLOAT, "2.8", "Camera temperature in degrees Celsius."),
    # 2.9 Optional classification and labeling fields
    _f("class", Kind.STRING, "2.9", "Class of the whole image."),
    _f("classification file", Kind.FILENAME, "2.9", "ENVI classification file in Exploration/."),
    _f("classes", Kind.INT, "2.9", "Number of classes, unclassified included.", positive=True),
    _f("class lookup", Kind.INT_LIST, "2.9", "RGB colour of each class (0-255 triples).",
       count="3*classes", minimum=0),
    _f("class names", Kind.STRING_LIST, "2.9", "Name of each class (and of its mask file).", count="classes"),
    _f("bounding boxes", Kind.FILENAME, "2.9", "CSV file of bounding boxes in Exploration/."),
    # ENVI fields the spec relies on without listing them (spec/fields.md#envi-fields)
    _f("wavelength units", Kind.STRING, "ENVI", "Unit of wavelength and fwhm.",
       recommended_in=frozenset({Scope.ROOT})),
    _f("data ignore value", Kind.FLOAT, "ENVI", "Value marking missing data.", nonfinite=True),
    _f("data gain values", Kind.FLOAT_LIST, "ENVI", "Gain of each band.", count="bands"),
    _f("bbl", Kind.FLOAT_LIST, "ENVI", "Bad band list: 1 good, 0 bad.", count="bands"),
    _f("map info", Kind.STRING_LIST, "ENVI", "Geographic reference (kept verbatim)."),
    _f("coordinate system string", Kind.TEXT, "ENVI", "WKT of the coordinate system (opaque)."),
    _f("x start", Kind.INT, "ENVI", "Image x coordinate of the first sample."),
    _f("y start", Kind.INT, "ENVI", "Image y coordinate of the first line."),
)

BY_KEY: dict[str, FieldSpec] = {f.key: f for f in FIELDS}
#: Fields whose list items may hold balanced nested braces: the procedures of ``read procedures``
#: (spec/semantics.md#nesting). The canonical writer writes such items, FLD013 reports nesting anywhere else.
NESTED_LIST_FIELDS = frozenset({"read procedures"})
_OPAQUE = frozenset(f.key for f in FIELDS if f.kind is Kind.TEXT)


def field_spec(key: str) -> FieldSpec:
    """Return the spec of a normalised key; unknown keys get a verbatim ``ANY`` spec."""
    spec = BY_KEY.get(key)
    if spec is None:
        return FieldSpec(key=key, kind=Kind.ANY, section="custom", summary="A field D4.1 does not define.")
    return spec


def is_opaque_text(key: str) -> bool:
    """Return whether a normalised key holds opaque free text (its braces enclose one string, not a list)."""
    return key in _OPAQUE


def required_fields(scope: Scope) -> tuple[FieldSpec, ...]:
    """Return the fields mandatory in headers of a scope."""
    return tuple(f for f in FIELDS if scope in f.required_in)
