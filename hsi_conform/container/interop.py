"""Hand a container's arrays to other libraries without extracting anything.

Spectral Python (SPy) opens an ENVI image by file name plus byte offset, so it can read the cube straight
from inside the ``.hsi`` file: :func:`to_spectral` builds its image object at the member's data offset.
"""

from __future__ import annotations

from typing import Any

from hsi_conform.container.reader import Container, CubeLayout
from hsi_conform.errors import ContainerError, ConverterUnavailableError, FieldValueError
from hsi_conform.header import Header
from hsi_conform.members import CUBE_DATA, DATA_SUFFIX, HEADER_SUFFIX, header_of


def spy_header(container: Container, header_member: str) -> dict[str, Any]:
    """Return a header as SPy's ``read_envi_header`` would: lower-case keys, strings and lists of strings."""
    header = container.read_header(header_member)
    return {entry.key: list(entry.items) if entry.items is not None else entry.value_raw
            for entry in header.entries()}


def to_spectral(container: Container, data: str = CUBE_DATA) -> Any:
    """Return a SPy image (``BsqFile``/``BilFile``/``BipFile``) reading ``data`` inside the container in place.

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
    centers = _wavelengths(header, header_member)
    h = spy_header(container, header_member)
    h.update({"header offset": "0", "byte order": str(int(layout.byte_order)),
              "interleave": layout.interleave.value, "data type": str(int(layout.data_type))})
    params = envi.gen_params(h)
    info = container.info(data)
    if not info.stored:
        raise ContainerError(data, "member is compressed; SPy cannot read it in place")
    params.filename = str(info.file)
    params.offset = info.offset + layout.header_offset
    cls = {"bil": BilFile, "bip": BipFile}.get(layout.interleave.value, BsqFile)
    image = cls(params, h)
    if centers is not None:
        image.bands.centers = centers
    return image


def _wavelengths(header: Header, member: str) -> list[float] | None:
    """Return the typed ``wavelength`` values (SPy would convert the raw text itself, and fail on bad items)."""
    try:
        values = header.value("wavelength")
    except FieldValueError as exc:
        raise ContainerError(member, str(exc)) from exc
    return None if values is None else [float(w) for w in values]
