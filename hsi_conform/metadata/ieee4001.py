"""A container's IEEE 4001 camera metadata: one entry per crosswalk row whose field, members or vendor key it has.

The document (format ``hsi-conform/ieee4001-metadata``) lists each IEEE 4001 characteristic with its value and where
it came from; names are provisional where the crosswalk says so (spec/metadata-crosswalk.md#ieee4001-names). The
same document, imported with ``hsi-conform metadata --from``, is what the FLD rules on camera metadata read
(spec/metadata-crosswalk.md#camera-metadata).
"""

from __future__ import annotations

from typing import Any

from hsi_conform.container.reader import Container
from hsi_conform.crosswalk import CrosswalkRow, crosswalk
from hsi_conform.members import CUBE_HEADER
from hsi_conform.metadata.stac import container_name
from hsi_conform.metadata.values import value

__all__ = ["ieee4001_document"]


def ieee4001_document(container: Container) -> dict[str, Any]:
    """Return the IEEE 4001 metadata document of a container."""
    table = crosswalk()
    entries = [e for row in table.rows if row.ieee4001 for e in [_entry(container, row)] if e is not None]
    return {
        "format": table.ieee4001["format"],
        "version": table.ieee4001["version"],
        "standard": table.ieee4001["standard"],
        "names": table.ieee4001["names"],
        "source": container_name(container),
        "metadata": entries,
    }


def _entry(container: Container, row: CrosswalkRow) -> dict[str, Any] | None:
    entry: dict[str, Any] = {"characteristic": row.ieee4001, "provisional": row.provisional}
    if row.field is not None:
        found = value(container.header, row.field)
        if found is None:
            return None
        entry |= {"value": list(found) if isinstance(found, tuple) else found, "from": f"{CUBE_HEADER}: {row.field}"}
        if row.field in ("wavelength", "fwhm"):
            unit = value(container.header, "wavelength units")
            if isinstance(unit, str):
                entry["unit"] = unit
        return entry
    if row.members and all(m in container for m in row.members):
        return entry | {"value": row.note, "from": ", ".join(row.members)}
    for key in (*row.specim, *row.headwall):
        found = value(container.header, key) if row.field is None else None
        if found is not None:  # a vendor key the importer kept (lower-cased, spec/specim-mapping.md)
            shown = list(found) if isinstance(found, tuple) else found
            return entry | {"value": shown, "from": f"{CUBE_HEADER}: {key}"}
    return None
