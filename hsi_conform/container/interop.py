"""Hand a container's arrays to other libraries without extracting anything.

Spectral Python (SPy) opens an ENVI image by file name plus byte offset, so it can read the cube straight
from inside the ``.hsi`` file: :func:`to_spectral` builds its image object at the member's data offset, with
everything ``spectral.envi.open`` would set from the header.
"""

from __future__ import annotations

from typing import Any

from hsi_conform.container.reader import Container, CubeLayout
from hsi_conform.errors import ContainerError, ConverterUnavailableError, FieldValueError
from hsi_conform.header import Header
from hsi_conform.members import CUBE_DATA, DATA_SUFFIX, HEADER_SUFFIX, header_of


def spy_header(container: Container, header_member: str) -> dict[str, Any]:
    """Return a header as SPy's ``read_envi_header`` would: lower-case keys, strings and lists of strings.

    As in SPy, ``description`` is one text (the braces' content), not a list.
    """
    header = container.read_header(header_member)
    result = {entry.key: list(entry.items) if entry.items is not None else entry.value_raw
              for entry in header.entries()}
    description = header.get("description")
    if description is not None:
        text = description.value_raw.strip()
        result["description"] = text[1:-1].strip() if text.startswith("{") and text.endswith("}") else text
    return result


def to_spectral(container: Container, data: str = CUBE_DATA) -> Any:
    """Return a SPy image (``BsqFile``/``BilFile``/``BipFile``) reading ``data`` inside the container in place.

    The image carries what ``spectral.envi.open`` sets from the header: ``bands.centers`` (``wavelength``),
    ``bands.bandwidths`` (``fwhm``), ``bands.band_unit`` (``wavelength units``), ``bands.band_quantity``
    (``"Wavelength"`` when there are wavelengths), ``scale_factor`` (``reflectance scale factor``, which SPy's
    ``load()`` divides by, as for any ENVI file), and ``metadata`` with ``bbl`` as integers and ``description`` as
    one text. A list field whose items are not all numbers is left out, as SPy leaves it.

    Raises:
        ConverterUnavailableError: spectral is not installed.
        ContainerError: the member is missing, compressed or smaller than its header says, or a field SPy
            interprets (``wavelength``) is invalid.
    """
    try:
        from spectral.io import envi
        from spectral.io.bilfile import BilFile
        from spectral.io.bipfile import BipFile
        from spectral.io.bsqfile import BsqFile
    except ImportError as exc:
        raise ConverterUnavailableError("spectral", ("spectral",)) from exc
    header_member = header_of(data) if data.endswith(DATA_SUFFIX) else data + HEADER_SUFFIX
    container.open_array(data)  # validates presence, storage and size before SPy sees the file
    header = container.read_header(header_member)
    layout = CubeLayout.from_header(header)
    h = spy_header(container, header_member)
    h.update({"header offset": "0", "byte order": str(int(layout.byte_order)),
              "interleave": layout.interleave.value, "data type": str(int(layout.data_type))})
    bbl = _numbers(h.get("bbl"))
    if bbl is not None:
        h["bbl"] = [int(v) for v in bbl]
    params = envi.gen_params(h)
    info = container.info(data)
    if not info.stored:
        raise ContainerError(data, "member is compressed; SPy cannot read it in place")
    params.filename = str(info.file)
    params.offset = info.offset + layout.header_offset
    cls = {"bil": BilFile, "bip": BipFile}.get(layout.interleave.value, BsqFile)
    image = cls(params, h)
    _describe_bands(image, header, h)
    return image


def _describe_bands(image: Any, header: Header, h: dict[str, Any]) -> None:
    """Set the band and scale attributes ``spectral.envi.open`` sets (with its leniency: any count of values)."""
    centers = _numbers(h.get("wavelength"))
    if centers is not None:
        image.bands.centers = centers
        image.bands.band_quantity = "Wavelength"
    image.bands.bandwidths = _numbers(h.get("fwhm"))
    units = h.get("wavelength units")
    image.bands.band_unit = units.strip() if isinstance(units, str) else None
    try:
        factor = header.value("reflectance scale factor")
    except FieldValueError:
        factor = None
    image.scale_factor = float(factor) if isinstance(factor, int | float) and factor else 1.0


def _numbers(items: Any) -> list[float] | None:
    """Return a list field's items as numbers, None when it is absent, not a list or not all numbers (as SPy)."""
    if not isinstance(items, list):
        return None
    try:
        return [float(v) for v in items]
    except ValueError:
        return None
