"""The metadata crosswalk: D4.1/ENVI fields, IEEE 4001 characteristics, STAC, CF and vendor keys (one table).

The table is data, ``converters/crosswalk.toml``; this module loads and checks it once. A row names a field of
:mod:`hsi_conform.fields` (or the members whose presence states the characteristic), so a row can never name a field
the field table does not have. ``spec/metadata-crosswalk.md`` is rendered from it, the exporters of
``hsi-conform metadata`` read their names from it and the FLD rules on IEEE 4001 camera metadata read its groups
(spec/metadata-crosswalk.md).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hsi_conform._resources import data_file
from hsi_conform.fields import BY_KEY

__all__ = ["Crosswalk", "CrosswalkRow", "crosswalk", "parse_crosswalk"]

_COLUMNS = frozenset({"field", "members", "ieee4001", "provisional", "group", "stac", "cf", "specim", "headwall",
                      "note"})


@dataclass(frozen=True, slots=True, kw_only=True)
class CrosswalkRow:
    """One row of the crosswalk.

    Attributes:
        field: the header field (a key of :data:`hsi_conform.fields.BY_KEY`); None when no field carries it.
        members: members whose presence (all of them) states the characteristic instead of a field.
        ieee4001: the IEEE 4001 characteristic or metadata item ("" when the standard has none).
        provisional: the IEEE 4001 name is taken from Skauli et al. 2025, not from the published standard.
        group: the group of IEEE 4001 camera metadata a partner should provide (``camera``, ...), or "".
        stac: the STAC field, "" when none.
        cf: the CF (or ACDD) attribute, "" when none.
        specim: SPECIM header keys that carry it.
        headwall: Headwall header keys that carry it.
        note: what the mapping does.
    """

    field: str | None = None
    members: tuple[str, ...] = ()
    ieee4001: str = ""
    provisional: bool = True
    group: str = ""
    stac: str = ""
    cf: str = ""
    specim: tuple[str, ...] = ()
    headwall: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Crosswalk:
    """The crosswalk table.

    Attributes:
        rows: the rows, in the table's order.
        groups: each IEEE 4001 group with what it describes.
        ieee4001: the ``[ieee4001]`` section: the standard, the source of the names, the document format.
    """

    rows: tuple[CrosswalkRow, ...]
    groups: Mapping[str, str]
    ieee4001: Mapping[str, Any]

    def by_field(self, key: str) -> tuple[CrosswalkRow, ...]:
        """Return the rows of a header field."""
        return tuple(r for r in self.rows if r.field == key)

    def in_group(self, group: str) -> tuple[CrosswalkRow, ...]:
        """Return the rows of an IEEE 4001 group."""
        return tuple(r for r in self.rows if r.group == group)

    def characteristics(self) -> tuple[str, ...]:
        """Return the IEEE 4001 names of the table, each once, in its order."""
        return tuple(dict.fromkeys(r.ieee4001 for r in self.rows if r.ieee4001))


def parse_crosswalk(data: Mapping[str, Any]) -> Crosswalk:
    """Return the crosswalk of a parsed table.

    Raises:
        ValueError: a row names a field the field table does not have, a group the table does not declare, a
            column the table does not know, or neither a field, members nor an IEEE 4001 name.
    """
    groups = dict(data.get("groups", {}))
    rows = []
    for i, raw in enumerate(data.get("row", [])):
        unknown = set(raw) - _COLUMNS
        if unknown:
            raise ValueError(f"crosswalk row {i}: unknown columns {sorted(unknown)}")
        row = CrosswalkRow(
            field=raw.get("field"), members=tuple(raw.get("members", ())), ieee4001=raw.get("ieee4001", ""),
            provisional=raw.get("provisional", True), group=raw.get("group", ""), stac=raw.get("stac", ""),
            cf=raw.get("cf", ""), specim=tuple(raw.get("specim", ())), headwall=tuple(raw.get("headwall", ())),
            note=raw.get("note", ""))
        if row.field is not None and row.field not in BY_KEY:
            raise ValueError(f"crosswalk row {i}: {row.field!r} is not a field of hsi_conform.fields")
        if row.group and row.group not in groups:
            raise ValueError(f"crosswalk row {i}: group {row.group!r} is not declared in [groups]")
        if row.field is None and not row.members and not row.ieee4001:
            raise ValueError(f"crosswalk row {i}: names neither a field, members nor an IEEE 4001 characteristic")
        rows.append(row)
    return Crosswalk(rows=tuple(rows), groups=groups, ieee4001=dict(data.get("ieee4001", {})))


@functools.cache
def crosswalk() -> Crosswalk:
    """Return the shipped crosswalk, ``converters/crosswalk.toml`` (read and checked once)."""
    with data_file("converters", "crosswalk.toml").open("rb") as f:
        return parse_crosswalk(tomllib.load(f))
