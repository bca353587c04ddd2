"""The header fixes of the JPEG-XL profile (spec/jpegxl.md): FLD031 adds the mark, FLD006 keeps the type."""

from __future__ import annotations

from hsi_conform.fields import Scope
from hsi_conform.fix.headers import HEADER_FIXERS
from hsi_conform.header import parse_header

_HEADER = b"ENVI\nsamples = 4\nlines = 3\nbands = 2\nfile type = %s\ndata type = 12\ninterleave = bsq\nbyte order = 0\n"


def test_fld031_adds_file_compression_to_a_jpegxl_cube_header_only() -> None:
    fixed = HEADER_FIXERS["FLD031"](parse_header(_HEADER % b"JPEGXL"), Scope.ROOT)
    assert fixed is not None and fixed.to_bytes() == _HEADER % b"JPEGXL" + b"file compression = 1\n"
    assert HEADER_FIXERS["FLD031"](fixed, Scope.ROOT) is None  # already marked
    assert HEADER_FIXERS["FLD031"](parse_header(_HEADER % b"ENVI Standard"), Scope.ROOT) is None
    assert HEADER_FIXERS["FLD031"](parse_header(_HEADER % b"JPEGXL"), Scope.PREVIEW) is None


def test_fld006_respells_a_misspelt_jpegxl_in_data_hdr_instead_of_calling_it_envi_standard() -> None:
    fixed = HEADER_FIXERS["FLD006"](parse_header(_HEADER % b"jpegXL"), Scope.ROOT)
    assert fixed is not None and fixed.value("file type") == "JPEGXL"
    preview = HEADER_FIXERS["FLD006"](parse_header(_HEADER % b"jpegXL"), Scope.PREVIEW)
    assert preview is not None and preview.value("file type") == "ENVI Standard"  # never compressed there
