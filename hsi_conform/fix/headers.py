"""The header fixers of ``hsi-conform fix``: one small function per rule id, each an edit of the lossless model.

A fixer takes a parsed header and the scope of its member and returns the fixed header, or None when it cannot
fix what the rule reports (spec/fix.md#header-fixes). Every fixer rebuilds the header from the text of its lines
with only the affected lines (or line endings, or the BOM) changed, so every other byte stays as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from hsi_conform.container.jxl_index import COMPRESSED_MARK, is_jpegxl
from hsi_conform.errors import FieldValueError
from hsi_conform.fields import CUBE_FILE_TYPES, EXPLORATION_FILE_TYPES, ROOT_FILE_TYPES, Scope, envi_wavelength_unit
from hsi_conform.header import Entry, Header, Magic
from hsi_conform.header.diagnostics import BY_CODE

__all__ = ["HEADER_FIXERS", "HeaderFixer", "infer_wavelength_unit"]

HeaderFixer = Callable[[Header, "Scope | None"], "Header | None"]
"""A header fixer: ``(header, scope of its member) -> fixed header`` (None: nothing it can fix)."""

_BLANKS = re.compile(r"[ \t]+")
_BREAKS = re.compile(r"\r\n|\r")
_MAGIC_TAIL = re.compile(r"[ \t]+(?=\r\n|\r|\n|$)")
_NANOMETRES = (100.0, 20_000.0)  # UV to thermal infrared, in nm
_MICROMETRES = (0.1, 20.0)  # the same range in um


def _rebuilt(header: Header, texts: list[str], *, bom: bool | None = None) -> Header | None:
    """Return the header of the new line texts, or None when nothing changed."""
    text = "".join(texts)
    keep_bom = header.bom if bom is None else bom
    if text == header.to_text() and keep_bom == header.bom:
        return None
    return Header.from_text(text, bom=keep_bom)


def _texts(header: Header) -> list[str]:
    return [line.text for line in header.lines]


def _copy(header: Header) -> Header:
    return Header.from_text(header.to_text(), bom=header.bom)


def fix_bom(header: Header, scope: Scope | None) -> Header | None:
    """HDR002: drop the UTF-8 byte order mark (the text is unchanged)."""
    return _rebuilt(header, _texts(header), bom=False)


def fix_line_endings(header: Header, scope: Scope | None) -> Header | None:
    """HDR007, HDR008, HDR009: end every line with LF (CRLF and bare CR become LF)."""
    return _rebuilt(header, [_BREAKS.sub("\n", text) for text in _texts(header)])


def fix_final_newline(header: Header, scope: Scope | None) -> Header | None:
    """HDR010: end the last line with the header's own line ending."""
    text = header.to_text()
    if not text or text.endswith(("\n", "\r")):
        return None
    eol = "\r\n" if "\r\n" in text else "\n"
    return _rebuilt(header, [*_texts(header), eol])


def fix_magic_blanks(header: Header, scope: Scope | None) -> Header | None:
    """HDR006: remove the blanks after ``ENVI`` on the first line."""
    return _rebuilt(header, [_MAGIC_TAIL.sub("", line.text, count=1) if isinstance(line, Magic) else line.text
                             for line in header.lines])


def _edit_keys(header: Header, spell: Callable[[str], str]) -> Header | None:
    texts = []
    for line in header.lines:
        text = line.text
        if isinstance(line, Entry):
            at = line.key_start - line.start
            text = text[:at] + spell(line.key_raw) + text[at + len(line.key_raw):]
        texts.append(text)
    return _rebuilt(header, texts)


def fix_key_case(header: Header, scope: Scope | None) -> Header | None:
    """HDR015: write every key in lower case (keys are compared case-insensitively: no reader sees a change)."""
    return _edit_keys(header, str.lower)


def fix_key_blanks(header: Header, scope: Scope | None) -> Header | None:
    """HDR016: separate the words of every key by one space."""
    return _edit_keys(header, lambda key: _BLANKS.sub(" ", key))


def fix_separator(header: Header, scope: Scope | None) -> Header | None:
    """HDR020: separate every key from its value by `` = `` (`` =`` before an empty value)."""
    texts = []
    for line in header.lines:
        text = line.text
        if isinstance(line, Entry):
            key_end = line.key_start + len(line.key_raw) - line.start
            value_at = line.value_start - line.start
            at_end = value_at >= len(text) or text[value_at] in "\r\n"
            text = text[:key_end] + (" =" if at_end else " = ") + text[value_at:]
        texts.append(text)
    return _rebuilt(header, texts)


def fix_trailing_comma(header: Header, scope: Scope | None) -> Header | None:
    """HDR026: remove the comma that ends a list (the items are unchanged)."""
    texts = []
    for line in header.lines:
        text = line.text
        if isinstance(line, Entry) and line.is_list and line.closed and not line.opaque:
            inner = line.value_raw[1:-1]
            if inner.rstrip(" \t\r\n").endswith(","):
                comma = line.value_start - line.start + 1 + inner.rfind(",")
                text = text[:comma] + text[comma + 1:]
        texts.append(text)
    return _rebuilt(header, texts)


def fix_duplicate_keys(header: Header, scope: Scope | None) -> Header | None:
    """HDR017 (unsafe): keep the last entry of a duplicated key, as SPy and GDAL read it, and drop the others."""
    last = {entry.key: entry for entry in header.entries()}
    return _rebuilt(header, [line.text for line in header.lines
                             if not isinstance(line, Entry) or last[line.key] is line])


def _set(header: Header, key: str, value: object) -> Header:
    fixed = _copy(header)
    fixed.set(key, value)
    return fixed


def _is_empty(entry: Entry | None) -> bool:
    return entry is None or (entry.items is None and not entry.value_raw.strip(" \t"))


def fix_defaultable_fields(header: Header, scope: Scope | None) -> Header | None:
    """FLD002: add ``file type = ENVI Standard`` outside Exploration/ and ``byte order = 0`` for 1-byte data.

    Both are ENVI's defaults, so a reader sees the same cube. ``byte order`` of multi-byte data is not guessed,
    and the type of an Exploration/ file is not either (several are allowed there).
    """
    fixed = header
    if _is_empty(header.get("file type")) and scope is not Scope.EXPLORATION:
        fixed = _set(fixed, "file type", ROOT_FILE_TYPES[0])
    if _is_empty(header.get("byte order")) and _one_byte(header):
        fixed = _set(fixed, "byte order", 0)
    return None if fixed is header else fixed


def _one_byte(header: Header) -> bool:
    entry = header.get("data type")
    return entry is not None and entry.items is None and entry.value_raw.strip(" \t") == "1"


def fix_file_type(header: Header, scope: Scope | None) -> Header | None:
    """FLD006: write ``ENVI Standard`` in the root, previews and references; fix only the case in Exploration/.

    A compressed cube's ``JPEGXL`` misspelt in ``data.hdr`` gets its case fixed too (spec/jpegxl.md#file-type).
    """
    entry = header.get("file type")
    if entry is None or entry.is_list:
        return None
    value = entry.value_raw.strip(" \t")
    if scope is Scope.EXPLORATION:
        spelled = next((t for t in EXPLORATION_FILE_TYPES if t.lower() == value.lower()), None)
    elif scope is Scope.ROOT and value.lower() in (t.lower() for t in CUBE_FILE_TYPES):
        # A compressed cube's type misspelt: ENVI Standard would make readers take codestreams for pixels.
        spelled = next(t for t in CUBE_FILE_TYPES if t.lower() == value.lower())
    else:
        spelled = ROOT_FILE_TYPES[0]
    return None if spelled is None or spelled == value else _set(header, "file type", spelled)


def infer_wavelength_unit(header: Header) -> str | None:
    """Return the ENVI unit a header's ``wavelength units`` means, or the one its wavelengths imply, or None.

    A known spelling (``nanometer``, ``microns``) gives its ENVI unit; otherwise wavelengths all within 100 to
    20,000 give ``Nanometers`` and all within 0.1 to 20 ``Micrometers`` (spec/fix.md#unsafe-fixes).
    """
    entry = header.get("wavelength units")
    if entry is not None and entry.items is None:
        unit = envi_wavelength_unit(entry.value_raw)
        if unit is not None:
            return unit
    try:
        values = header.value("wavelength")
    except FieldValueError:
        return None
    if not values:
        return None
    for unit, (low, high) in (("Nanometers", _NANOMETRES), ("Micrometers", _MICROMETRES)):
        if all(low <= float(v) <= high for v in values):
            return unit
    return None


def fix_wavelength_units(header: Header, scope: Scope | None) -> Header | None:
    """FLD011 (unsafe): write the ENVI unit the value or the wavelengths imply (:func:`infer_wavelength_unit`)."""
    entry = header.get("wavelength units")
    unit = infer_wavelength_unit(header)
    if entry is None or entry.is_list or unit is None:
        return None
    return _set(header, "wavelength units", unit)


def fix_jpegxl_mark(header: Header, scope: Scope | None) -> Header | None:
    """FLD031: add ``file compression = 1`` to a JPEG-XL cube's header (spec/jpegxl.md#other-readers).

    Readers of the profile ignore the field; GDAL then refuses the file instead of reading codestreams as pixels.
    """
    if scope is not Scope.ROOT or not is_jpegxl(header):
        return None
    key, value = COMPRESSED_MARK
    entry = header.get(key)
    if entry is not None and entry.value_raw.strip(" \t") == value:
        return None
    return _set(header, key, value)


def _hdr(code: str) -> str:
    return BY_CODE[code].id


HEADER_FIXERS: Mapping[str, HeaderFixer] = MappingProxyType({
    _hdr("bom"): fix_bom,
    _hdr("magic-trailing-blanks"): fix_magic_blanks,
    _hdr("line-ending-cr"): fix_line_endings,
    _hdr("line-ending-mixed"): fix_line_endings,
    _hdr("line-ending-crlf"): fix_line_endings,
    _hdr("no-final-newline"): fix_final_newline,
    _hdr("key-case"): fix_key_case,
    _hdr("key-blanks"): fix_key_blanks,
    _hdr("duplicate-key"): fix_duplicate_keys,
    _hdr("separator-spacing"): fix_separator,
    _hdr("trailing-comma"): fix_trailing_comma,
    "FLD002": fix_defaultable_fields,
    "FLD006": fix_file_type,
    "FLD011": fix_wavelength_units,
    "FLD031": fix_jpegxl_mark,
})
"""The header fixers by rule id; each rule here declares ``fix`` in the registry (a test checks both ways)."""
