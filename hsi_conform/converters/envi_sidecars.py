"""Sidecar files beside an imported ENVI pair: GDAL's ``.aux.xml`` and ENVI's ``.sta`` (spec/envi-mapping.md#sidecars).

* **Found** by their owners' conventions: ``<data file>.aux.xml`` is the GDAL PAM file of the data file GDAL
  opened; the data file's name with its extension replaced by ``.sta`` holds ENVI's statistics (GDAL's ENVI
  driver looks there too).
* **Kept** byte for byte as ``Metadata/<file name>``.
* **Used where the header lacks the field**, each use a note: from the ``.aux.xml``, ``wavelength`` (with
  ``wavelength units``), ``fwhm`` and ``data ignore value``. GDAL keeps them in three places, read in this order:
  the dataset's ``ENVI`` metadata domain (``wavelength = {...}`` as in a header), every band's own items
  (``wavelength``, ``wavelength_units``, ``fwhm``; ``NoDataValue``), and every band's ``IMAGERY`` domain
  (``CENTRAL_WAVELENGTH_UM``, ``FWHM_UM``, in micrometres). A list is used only when it has one number per band,
  a nodata value only when every band has the same. The ``.sta`` holds binary statistics that no header field
  carries: it is kept, not used.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from pathlib import Path

from hsi_conform.converters.base import Blob, HsiDataset
from hsi_conform.fields import envi_wavelength_unit
from hsi_conform.header import Header
from hsi_conform.header.lists import split_list

__all__ = ["MAX_AUX_BYTES", "apply_sidecars", "aux_fields", "sidecar_names"]

#: Largest ``.aux.xml`` parsed (a bigger one is kept, not used).
MAX_AUX_BYTES = 16 * 1024 * 1024
_AUX = ".aux.xml"
_STA = ".sta"
_METADATA = "Metadata/"
#: Micrometres in one unit of an ``IMAGERY`` value's target (``wavelength units`` as ENVI spells them).
_PER_MICROMETRE = {"Micrometers": 1.0, "um": 1.0, "Nanometers": 1000.0, "nm": 1000.0, "Millimeters": 1e-3,
                   "mm": 1e-3}

Items = dict[tuple[str, str], str]
"""``(domain, key) -> text`` of one band's (or the dataset's) metadata items."""


def sidecar_names(data: Path) -> list[str]:
    """Return the names of the sidecar files a data file may have beside it (GDAL's and ENVI's conventions)."""
    return [data.name + _AUX, Path(data.name).with_suffix(_STA).name if data.suffix else data.name + _STA]


def apply_sidecars(dataset: HsiDataset, files: Iterable[Path]) -> None:
    """Keep each sidecar as ``Metadata/<name>`` and take the fields the header lacks from an ``.aux.xml``."""
    for path in files:
        member = _METADATA + path.name
        dataset.members[member] = Blob(path, 0, path.stat().st_size)
        dataset.notes.append(f"{path.name} kept as {member}")
        if path.name.lower().endswith(_AUX):
            _use_aux(dataset, path)


def _use_aux(dataset: HsiDataset, path: Path) -> None:
    if path.stat().st_size > MAX_AUX_BYTES:
        dataset.notes.append(f"{path.name} is larger than {MAX_AUX_BYTES} bytes: not read")
        return
    try:
        found = aux_fields(path.read_bytes(), int(dataset.header.value("bands")), _units(dataset.header))
    except (ET.ParseError, ValueError) as exc:
        dataset.notes.append(f"{path.name} is not a GDAL PAM file ({exc}): not read")
        return
    if dataset.header.get("wavelength") is not None:
        found.pop("wavelength units", None)  # the unit of the sidecar's wavelengths, not of the header's
    for key, value in found.items():
        if dataset.header.get(key) is None:
            dataset.header.set(key, value)
            dataset.notes.append(f"{key} taken from {path.name} (the header has none)")


def _units(header: Header) -> str | None:
    entry = header.get("wavelength units")
    return None if entry is None else entry.value_raw.strip()


def aux_fields(xml: bytes, bands: int, units: str | None = None) -> dict[str, str | list[str]]:
    """Return the header fields a GDAL PAM file holds for a cube of ``bands`` bands (values as header text).

    Args:
        xml: the ``.aux.xml`` bytes.
        bands: the header's band count; a per-band list of another length is not used.
        units: the header's ``wavelength units``, if any (micrometre values of the ``IMAGERY`` domain are
            converted to it when ENVI's vocabulary names it).

    Raises:
        ET.ParseError: not XML.
        ValueError: not a ``PAMDataset``.
    """
    root = ET.fromstring(xml)
    if root.tag != "PAMDataset":
        raise ValueError(f"root element <{root.tag}>, not <PAMDataset>")
    dataset = _items(root)
    per_band = {int(b.get("band", "0")): b for b in root.findall("PAMRasterBand") if b.get("band", "").isdigit()}
    band_items = [_items(per_band[n]) if n in per_band else {} for n in range(1, bands + 1)]
    out: dict[str, str | list[str]] = {}
    wavelength_units = dataset.get(("ENVI", "wavelength_units")) or _same(band_items, ("", "wavelength_units"))
    wavelength_units = wavelength_units and (envi_wavelength_unit(wavelength_units) or wavelength_units)
    wavelength = _envi_list(dataset, "wavelength", bands) or _band_list(band_items, ("", "wavelength"))
    fwhm = _envi_list(dataset, "fwhm", bands) or _band_list(band_items, ("", "fwhm"))
    target = units or wavelength_units
    if wavelength is None:
        wavelength = _micrometres(band_items, "CENTRAL_WAVELENGTH_UM", target or "Micrometers")
        wavelength_units = wavelength_units if wavelength is None else target or "Micrometers"
    if fwhm is None and (target or wavelength_units):
        fwhm = _micrometres(band_items, "FWHM_UM", str(target or wavelength_units))
    nodata = dataset.get(("ENVI", "data_ignore_value")) or _same(
        [_nodata(per_band[n]) if n in per_band else {} for n in range(1, bands + 1)], ("", ""))
    for key, value in (("wavelength", wavelength), ("wavelength units", wavelength_units if wavelength else None),
                       ("fwhm", fwhm), ("data ignore value", nodata if nodata and _is_number(nodata) else None)):
        if value is not None:
            out[key] = value
    return out


def _items(element: ET.Element) -> Items:
    """Return the ``MDI`` items of an element's ``Metadata`` children by ``(domain, key)``."""
    return {(md.get("domain", ""), mdi.get("key", "")): (mdi.text or "").strip()
            for md in element.findall("Metadata") for mdi in md.findall("MDI")}


def _nodata(band: ET.Element) -> Items:
    text = band.findtext("NoDataValue")
    return {} if text is None else {("", ""): text.strip()}


def _same(bands: list[Items], key: tuple[str, str]) -> str | None:
    """Return the value every band has for ``key`` (None: a band lacks it, or they differ)."""
    values = {b.get(key) for b in bands}
    if len(values) != 1 or None in values:
        return None
    return values.pop()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numbers(values: list[str], bands: int) -> list[str] | None:
    return values if len(values) == bands and bands and all(_is_number(v) for v in values) else None


def _envi_list(dataset: Items, key: str, bands: int) -> list[str] | None:
    text = dataset.get(("ENVI", key))
    if text is None:
        return None
    return _numbers([v.strip() for v in split_list(text.strip().removeprefix("{").removesuffix("}")).items], bands)


def _band_list(bands: list[Items], key: tuple[str, str]) -> list[str] | None:
    values = [b.get(key) for b in bands]
    return None if None in values else _numbers([v for v in values if v is not None], len(bands))


def _micrometres(bands: list[Items], key: str, unit: str) -> list[str] | None:
    """Per-band ``IMAGERY`` values (micrometres) in ``unit``; None when a band lacks one or the unit is not a length."""
    scale = _PER_MICROMETRE.get(envi_wavelength_unit(unit) or "")
    values = _band_list(bands, ("IMAGERY", key))
    if values is None or scale is None:
        return None
    convert: Callable[[str], str] = (lambda v: v) if scale == 1.0 else (lambda v: _short(float(v) * scale))
    return [convert(v) for v in values]


def _short(value: float) -> str:
    """Return a float without the binary noise of the unit conversion (GDAL writes 3 decimals of micrometres)."""
    return repr(round(value, 9)) if math.isfinite(value) else repr(value)
