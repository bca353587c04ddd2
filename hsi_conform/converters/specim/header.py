"""Normalise a SPECIM ENVI header to the container's rules (D4.1), driven by ``converters/specim.toml``.

What changes (spec/specim-mapping.md#header; header edge cases E19, E20, E30, E77, E87-E90 of
spec/header-syntax.md#edge-cases): keys are lower-cased with blanks collapsed and lines end in LF (the canonical
writer); ``file type = ENVI`` becomes ``ENVI Standard``; vendor keys whose names D4.1 redefines are renamed
(``temperature`` list -> ``sensor temperatures``, ``sensor type`` -> ``device``); ``acquisition time`` is
synthesised in ISO 8601 from the vendor date and start time; missing ``wavelength units`` are inferred from the
wavelength range and marked by a comment line; every other vendor key and comment is kept. The verbatim vendor
header is kept by the caller, so the change is lossless overall.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hsi_conform.converters.specim.table import SpecimTable, TimeForm
from hsi_conform.errors import FieldValueError, HsiConformError
from hsi_conform.fields import envi_wavelength_unit
from hsi_conform.header import Entry, Header, canonical_bytes, parse_header
from hsi_conform.header.model import normalize_key
from hsi_conform.header.serialize import format_entry
from hsi_conform.header.values import parse_date


@dataclass(slots=True)
class _Piece:
    """One line (or multi-line entry) of the header being rebuilt."""

    text: str
    key: str | None = None
    value_raw: str = ""


class _Draft:
    """The header as an editable list of pieces (vendor text kept until the canonical rewrite)."""

    def __init__(self, header: Header) -> None:
        self.pieces: list[_Piece] = []
        for line in header.lines:
            text = line.text if line.text.endswith(("\n", "\r")) else line.text + "\n"
            if isinstance(line, Entry):
                self.pieces.append(_Piece(text, line.key, line.value_raw))
            else:
                self.pieces.append(_Piece(text))

    def index(self, key: str) -> int | None:
        found = None
        for i, piece in enumerate(self.pieces):
            if piece.key == key:
                found = i
        return found

    def has(self, key: str) -> bool:
        return self.index(key) is not None

    def rename(self, key: str, new: str) -> None:
        for piece in self.pieces:
            if piece.key == key:
                piece.key, piece.text = new, f"{new} = {piece.value_raw}\n"

    def set(self, key: str, value: object, *, after: str | None = None, comment: str | None = None) -> None:
        piece = _Piece(format_entry(key, value) + "\n", key, "")
        at = self.index(key)
        if at is not None:
            self.pieces[at] = piece
            return
        anchor = self.index(after) if after else None
        at = len(self.pieces) if anchor is None else anchor + 1
        new = [piece] if comment is None else [_Piece(comment + "\n"), piece]
        self.pieces[at:at] = new

    def to_header(self) -> Header:
        text = parse_header("".join(p.text for p in self.pieces).encode("utf-8", "surrogateescape"))
        return parse_header(canonical_bytes(text))


def normalise_header(vendor: Header, table: SpecimTable, *, measurement: str | None = None,
                     replace: Mapping[str, object] | None = None,
                     comments: Sequence[str] = ()) -> tuple[Header, list[str]]:
    """Return the container form of a SPECIM header and notes on what was inferred or could not be mapped.

    Args:
        vendor: the parsed vendor header (any case, CRLF, comments).
        table: the SPECIM mapping table.
        measurement: the recording id, written as ``measurement`` when the header has none.
        replace: fields to set after normalisation (e.g. the layout of an aggregated reference).
        comments: comment lines (starting with ``;``) written after the ``ENVI`` line.
    """
    notes: list[str] = []
    draft = _Draft(vendor)
    _rename_vendor_keys(draft, table)
    _file_type(draft, vendor, table)
    _lower_values(draft, vendor, table)
    _acquisition_time(draft, vendor, table, notes)
    _wavelength_units(draft, vendor, table, notes)
    if measurement and table.measurement_from_id and not draft.has("measurement"):
        draft.set("measurement", measurement)
    for key, value in (replace or {}).items():
        draft.set(normalize_key(key), value)
    draft.pieces[1:1] = [_Piece(c + "\n") for c in comments]
    return draft.to_header(), notes


def _rename_vendor_keys(draft: _Draft, table: SpecimTable) -> None:
    for key, new in table.renames.items():
        if not draft.has(key):
            continue
        target = new if not draft.has(new) else table.rename_prefix + key
        draft.rename(key, target)


def _file_type(draft: _Draft, vendor: Header, table: SpecimTable) -> None:
    entry = vendor.get("file type")
    if entry is None:
        draft.set("file type", next(iter(table.file_types.values())), after="header offset")
        return
    spec = table.file_types.get(entry.value_raw.strip(" \t").lower())
    if spec is not None:
        draft.set("file type", spec)


def _lower_values(draft: _Draft, vendor: Header, table: SpecimTable) -> None:
    for key in table.lower_values:
        entry = vendor.get(key)
        if entry is not None and not entry.is_list and entry.value_raw != entry.value_raw.lower():
            draft.set(key, entry.value_raw.strip(" \t").lower())


def _acquisition_time(draft: _Draft, vendor: Header, table: SpecimTable, notes: list[str]) -> None:
    existing = vendor.get("acquisition time")
    if existing is not None:
        try:
            parse_date(existing.value_raw)
            return
        except FieldValueError:
            draft.rename("acquisition time", table.invalid_time_rename)
            notes.append(f"acquisition time {existing.value_raw!r} is not ISO 8601; kept as "
                         f"{table.invalid_time_rename!r}")
    iso, anchor = acquisition_time(vendor, table, notes)
    if iso is not None:
        draft.set("acquisition time", iso, after=anchor)


def acquisition_time(header: Header, table: SpecimTable, notes: list[str] | None = None) -> tuple[str | None, str]:
    """Return the ISO 8601 ``acquisition time`` of the vendor date (+ start time) and the key it came from.

    Returns ``(None, key)`` when the header has no vendor date or its form is unknown (a note says which).
    """
    notes = [] if notes is None else notes
    date_entry = next((e for k in table.date_keys if (e := header.get(k)) is not None), None)
    if date_entry is None:
        return None, ""
    date = _match_date(date_entry.value_raw.strip(" \t"), table.dates)
    if date is None:
        notes.append(f"{date_entry.key} {date_entry.value_raw!r} is in no known SPECIM date form; "
                     "no acquisition time written")
        return None, date_entry.key
    time_entry = next((e for k in table.time_keys if (e := header.get(k)) is not None), None)
    if time_entry is None:
        return date, date_entry.key
    time = _match_time(time_entry.value_raw.strip(" \t"), table.times)
    if time is None:
        notes.append(f"{time_entry.key} {time_entry.value_raw!r} is in no known SPECIM time form; "
                     "acquisition time has the date only")
        return date, date_entry.key
    return f"{date}T{time}", date_entry.key


def _match_date(text: str, forms: Sequence[TimeForm]) -> str | None:
    for form in forms:
        m = form.pattern.match(text)
        if m is None:
            continue
        try:
            day = datetime.date(int(m["year"]), int(m["month"]), int(m["day"]))
        except ValueError:
            return None
        return day.isoformat()
    return None


def _match_time(text: str, forms: Sequence[TimeForm]) -> str | None:
    for form in forms:
        m = form.pattern.match(text)
        if m is None:
            continue
        try:
            clock = datetime.time(int(m["hour"]), int(m["minute"]), int(m["second"]))
        except ValueError:
            return None
        fraction = f".{m['fraction']}" if m["fraction"] else ""
        return clock.isoformat() + fraction + form.zone
    return None


def _wavelength_units(draft: _Draft, vendor: Header, table: SpecimTable, notes: list[str]) -> None:
    entry = vendor.get("wavelength units")
    if entry is not None:
        value = entry.value_raw.strip(" \t")
        unit = envi_wavelength_unit(value)
        if unit is not None and unit.lower() != value.lower():  # a synonym, not ENVI's spelling in another case
            draft.set("wavelength units", unit)
            notes.append(f"wavelength units {value!r} written as {unit!r}")
        return
    unit = infer_wavelength_units(vendor, table)
    if unit is None:
        notes.append("wavelength units are missing and cannot be inferred from the wavelength range")
        return
    draft.set("wavelength units", unit, after="wavelength", comment=table.unit_comment)
    notes.append(f"wavelength units inferred as {unit!r} from the wavelength range")


def infer_wavelength_units(header: Header, table: SpecimTable) -> str | None:
    """Return the unit the first matching range rule gives for the header's wavelengths (None: no rule fits)."""
    try:
        values = header.value("wavelength")
    except HsiConformError:
        return None
    if not isinstance(values, tuple) or not values:
        return None
    low, high = min(values), max(values)
    return next((r.unit for r in table.unit_rules if r.min_above < low and high < r.max_below), None)
