"""Parse header bytes or text into the lossless :class:`~hsi_conform.header.model.Header` model.

Lenient parse, strict judgement (spec/header-syntax.md, its principle): every header that starts with the
``ENVI`` magic parses; each deviation from the grammar or from spec/header-syntax.md becomes a
:class:`~hsi_conform.header.model.Diagnostic`. This module decodes the input and checks the magic and the size
limit (spec/header-syntax.md#limits); :meth:`Header.from_text <hsi_conform.header.model.Header.from_text>` does
the rest.
"""

from __future__ import annotations

from hsi_conform.errors import NotAnEnviHeaderError
from hsi_conform.header.model import Header
from hsi_conform.header.scan import MAX_PER_CODE
from hsi_conform.limits import DEFAULT_LIMITS

__all__ = ["DEFAULT_MAX_BYTES", "MAX_PER_CODE", "parse_header", "parse_text"]

#: Largest header accepted (bytes): ``max_header_bytes`` of the default limits. Real headers reach ~50 kB; GDAL
#: gives up at 10 MiB per value.
DEFAULT_MAX_BYTES = DEFAULT_LIMITS.max_header_bytes

_BOM = b"\xef\xbb\xbf"


def parse_header(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Header:
    """Parse an ENVI header into the lossless model.

    Args:
        data: the header as bytes (decoded as UTF-8; other bytes are kept and reported) or as text.
        max_bytes: refuse larger input (a safety cap; the default is far above any real header).

    Returns:
        The header; ``header.to_bytes()`` equals ``data`` (encoded as UTF-8 when it was text) and
        ``header.diagnostics`` lists every deviation from spec/header-syntax.md.

    Raises:
        NotAnEnviHeaderError: the input does not start with the ``ENVI`` magic (after an optional BOM and
            blanks), or is larger than ``max_bytes``.
    """
    if len(data) > max_bytes:
        raise NotAnEnviHeaderError(f"header is larger than {max_bytes} bytes", max_bytes)
    if isinstance(data, (bytes, bytearray, memoryview)):  # a tuple: checked faster than a union
        raw = data if type(data) is bytes else bytes(data)
        bom = raw.startswith(_BOM)
        text = raw[3 if bom else 0 :].decode("utf-8", "surrogateescape")
    else:
        bom = data.startswith("\ufeff")
        text = data[1:] if bom else data
    if not text.startswith("ENVI") and not text.lstrip(" \t").startswith("ENVI"):
        raise NotAnEnviHeaderError("the first line is not the ENVI magic", 3 if bom else 0)
    return Header.from_text(text, bom=bom)


def parse_text(text: str, *, bom: bool = False) -> Header:
    """Parse decoded header text that starts with the magic (see :func:`parse_header`)."""
    return Header.from_text(text, bom=bom)
