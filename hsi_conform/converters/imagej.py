"""What the ``imagej`` TIFF profile shows ImageJ of a header, and what it cannot (spec/tiff-mapping.md#imagej).

ImageJ holds a label per slice (the band's wavelength), a spatial calibration (pixel width and height in a unit)
and free text (``Info``: the verbatim header, which the reverse read parses). Every other field reaches ImageJ
only inside that text: the map position and CRS, ``data ignore value``, ``fwhm``... The writer says which in a
note. Names are data: ``[imagej]`` of ``converters/tiff.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hsi_conform.container.thumbnail import thumbnail_for
from hsi_conform.converters._stream import band_values, safe_value
from hsi_conform.converters.base import HsiDataset, mapping_table, payload_bytes
from hsi_conform.errors import FieldValueError, HsiConformError
from hsi_conform.header import Header
from hsi_conform.header.mapinfo import parse_map_info
from hsi_conform.members import THUMBNAIL

_TABLE = mapping_table("tiff")
_IJ = _TABLE["imagej"]


@dataclass(frozen=True, slots=True)
class ImageJView:
    """The ImageJ metadata of one cube.

    Attributes:
        metadata: tifffile's ``metadata`` for an ImageJ hyperstack (axes, Info, Labels, unit).
        resolution: pixels per calibration unit in x and y (tifffile's ``resolution``); None without ``map info``.
        not_shown: the header fields ImageJ gets only as ``Info`` text.
    """

    metadata: dict[str, Any]
    resolution: tuple[float, float] | None = None
    not_shown: list[str] = field(default_factory=list)

    @property
    def note(self) -> str | None:
        """Return what the conversion says about the fields ImageJ cannot show (None: it shows them all)."""
        if not self.not_shown:
            return None
        return (f"imagej profile: ImageJ shows {', '.join(self.not_shown)} only as text (Info); "
                "they come back from it when the TIFF is read back")


def imagej_view(header: Header, bands: int) -> ImageJView:
    """Return the ImageJ metadata of a header: slice labels, calibration, Info, and what ImageJ cannot show."""
    fields = _TABLE["header_fields"]
    waves = band_values(header, fields["wavelength"], bands, float)
    units = safe_value(header, fields["wavelength_units"]) or ""
    metadata: dict[str, Any] = {"axes": _IJ["axes"], "Info": header.to_text()}
    if waves:
        metadata["Labels"] = [_IJ["label_format"].format(wavelength=w, units=units).strip() for w in waves]
    resolution = None
    try:
        info = parse_map_info(header.value("map info") or ())
    except FieldValueError:
        info = None
    if info is not None:
        unit = (info.units or "").strip().lower()
        metadata["unit"] = _IJ["calibration_units"].get(unit, unit or _IJ["default_calibration_unit"])
        resolution = (1.0 / abs(info.pixel_size[0]), 1.0 / abs(info.pixel_size[1]))
    shown_as_text = [key for key in _IJ["not_shown"] if key in header]
    return ImageJView(metadata=metadata, resolution=resolution, not_shown=shown_as_text)


def derived_thumbnail(dataset: HsiDataset, name: str) -> bool:
    """Whether ``name`` is a thumbnail that the cube renders again (derived data: dropping it loses nothing).

    A container read back from the TIFF gets the same bytes, rendered by the same rule (spec/previews.md#thumbnail).
    """
    if name != THUMBNAIL or name not in dataset.members:
        return False
    try:
        return payload_bytes(dataset.members[name]) == thumbnail_for(dataset.header, dataset.cube)
    except HsiConformError:
        return False
