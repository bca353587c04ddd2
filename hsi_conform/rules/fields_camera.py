"""``FLD`` rules on the IEEE 4001 camera metadata a partner should provide (spec/metadata-crosswalk.md#camera-metadata).

Which fields, members and IEEE 4001 characteristics provide each group is the crosswalk's ``group`` column
(:mod:`hsi_conform.crosswalk`); a group is provided by the root header (a field, or for a characteristic without a
field a vendor key), by members, or by an entry of the imported IEEE 4001 document (``Metadata/ieee4001.json``).
Advice to producers: the rules are off under the ``reader`` profile.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator

from hsi_conform.crosswalk import CrosswalkRow, crosswalk
from hsi_conform.fields import NO_SENSOR_TYPES
from hsi_conform.finding import Level, Location, Problem, Severity
from hsi_conform.members import CUBE_HEADER, IMPORTED_METADATA
from hsi_conform.rules import SkipRule, rule
from hsi_conform.rules.context import CheckContext

_DOCUMENT = IMPORTED_METADATA["ieee4001"]
_NO_SENSOR = frozenset(t.lower() for t in NO_SENSOR_TYPES)
#: Fields every container has (FLD001): they cannot tell a producer who provides the group from one who does not.
_MANDATORY = frozenset({"wavelength"})
_OFF = ("reader",)


def _documented(ctx: CheckContext) -> frozenset[str]:
    """Return the characteristics the imported IEEE 4001 document has entries for (none if absent or unreadable)."""
    def read() -> frozenset[str]:
        raw = ctx.read(_DOCUMENT) if ctx.has(_DOCUMENT) else None
        try:
            doc = json.loads(raw) if raw is not None else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            return frozenset()
        entries = doc.get("metadata") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            return frozenset()
        return frozenset(e["characteristic"] for e in entries
                         if isinstance(e, dict) and isinstance(e.get("characteristic"), str) and "value" in e)

    return ctx.memo("ieee4001.documented", read)


def _row_provided(ctx: CheckContext, row: CrosswalkRow) -> bool:
    header = ctx.header(CUBE_HEADER)
    if row.field is not None and header is not None:
        entry = header.get(row.field)
        text = entry.value_raw.strip(" \t{}") if entry is not None else ""
        if text and not (row.field == "sensor type" and text.lower() in _NO_SENSOR):
            return True
    if row.members and all(ctx.has(m) for m in row.members):
        return True
    if row.field is None and header is not None and any(header.get(k) for k in (*row.specim, *row.headwall)):
        return True  # a vendor key the importer kept verbatim (`sensorid`)
    return bool(row.ieee4001) and row.ieee4001 in _documented(ctx)


@functools.cache
def _rows(group: str) -> tuple[CrosswalkRow, ...]:
    """Return the rows of a group that can tell a producer who provides it (the shipped table: found once)."""
    return tuple(r for r in crosswalk().in_group(group) if r.field not in _MANDATORY)


def _missing_group(ctx: CheckContext, group: str) -> Iterator[Problem]:
    if ctx.header(CUBE_HEADER) is None:
        raise SkipRule(f"{CUBE_HEADER} cannot be read")
    rows = _rows(group)
    if any(_row_provided(ctx, r) for r in rows):
        return
    fields = ", ".join(sorted({f"`{r.field}`" for r in rows if r.field}))
    members = "".join(f"; no {' + '.join(r.members)}" for r in rows if r.members)
    names = " / ".join(sorted({r.ieee4001 for r in rows if r.ieee4001}))
    yield Problem(f"nothing states {crosswalk().groups[group]}: no {fields} in {CUBE_HEADER}{members}; "
                  f"no {names} in {_DOCUMENT}", Location(member=CUBE_HEADER))


@rule("FLD050", "fld-camera-not-identified", severity=Severity.WARNING, level=Level.SEMANTICS,
      spec="metadata-crosswalk.md#camera-identified", off_in=_OFF)
def camera_not_identified(ctx: CheckContext) -> Iterator[Problem]:
    """Containers name their camera (IEEE 4001 camera metadata: `sensor type`, `device` or the document)."""
    yield from _missing_group(ctx, "camera")


@rule("FLD051", "fld-spectral-response-missing", severity=Severity.WARNING, level=Level.SEMANTICS,
      spec="metadata-crosswalk.md#spectral-response", off_in=_OFF)
def spectral_response_missing(ctx: CheckContext) -> Iterator[Problem]:
    """Containers state how wide each band is (IEEE 4001 spectral response: `fwhm` or the document)."""
    yield from _missing_group(ctx, "spectral-response")


@rule("FLD052", "fld-radiometric-state-unstated", severity=Severity.INFO, level=Level.SEMANTICS,
      spec="metadata-crosswalk.md#radiometric-state", off_in=_OFF)
def radiometric_state_unstated(ctx: CheckContext) -> Iterator[Problem]:
    """Containers state their radiometric calibration state (scale factor, gains, references or the document)."""
    yield from _missing_group(ctx, "radiometric")
