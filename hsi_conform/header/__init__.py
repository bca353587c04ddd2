"""The ENVI header: lossless model, parser, typed values and canonical writer."""

from __future__ import annotations

from hsi_conform.header.model import Blank, Comment, Diagnostic, Entry, Header, Junk, Line, Magic, Span
from hsi_conform.header.parse import DEFAULT_MAX_BYTES, parse_header
from hsi_conform.header.serialize import build_header_text, canonical_bytes

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Blank",
    "Comment",
    "Diagnostic",
    "Entry",
    "Header",
    "Junk",
    "Line",
    "Magic",
    "Span",
    "build_header_text",
    "canonical_bytes",
    "parse_header",
]
