"""What a dataset is, at a glance: ``hsi_conform.info(path)`` and ``hsi-conform info`` (spec/cli-tools.md#info).

Like ``gdalinfo`` and ``rio info``: the cube's layout (and, in a container, where its bytes start and how they are
aligned), the wavelengths, the georeferencing GDAL would read, every member with its size and kind, the preview
levels, the references, the ``read procedures`` and the thumbnail's size. A ``.hsi`` file, an expanded folder or a
URL is read as a container (nothing but the ZIP directory, the headers and the thumbnail); any other format through
its converter's reader, as ``convert`` reads it. The result is plain JSON data that ``spec/info.schema.json``
describes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.container.jpeg import jpeg_size
from hsi_conform.container.layout import CubeLayout
from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container
from hsi_conform.converters.base import HsiDataset, dataset_members, payload_bytes, payload_size
from hsi_conform.converters.registry import detect, get_converter
from hsi_conform.errors import HsiConformError
from hsi_conform.header import Header
from hsi_conform.header.georef import georeferencing
from hsi_conform.members import CUBE_DATA, REFERENCE_DIR, THUMBNAIL, MemberKind, classify_member
from hsi_conform.remote.urls import is_url

#: The largest alignment reported: the container writer aligns ``.envi`` data to 4096 bytes (a memory page).
MAX_ALIGNMENT = 4096

#: The ``format`` value of a container read directly (the name of its converter).
CONTAINER_FORMAT = "hsi"
CONTAINER_SUFFIX = ".hsi"


def info(source: str | os.PathLike[str], *, from_format: str | None = None,
         storage_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Describe a container or any dataset a converter reads (spec/cli-tools.md#info; ``spec/info.schema.json``).

    Args:
        source: a ``.hsi`` file, an expanded container folder, a URL of a container, or a file or folder of
            another format (ENVI, SPECIM, legacy, HDF5, TIFF).
        from_format: the converter to read ``source`` with (default: detected; ``hsi`` for URLs).
        storage_options: fsspec options for a URL.

    Raises:
        InputUnreadableError: the source is missing or cannot be read (``InputNotFoundError`` when missing).
        ConverterNotFoundError: no converter reads it (or ``from_format`` names none).
        ConverterUnavailableError: only a converter whose extra is missing reads it.
        ContainerError, DatasetError: the container or dataset is malformed past describing.
    """
    if is_url(source) or from_format == CONTAINER_FORMAT:
        return _container_info(str(source), storage_options)
    path = Path(source)
    if not path.exists():
        from hsi_conform.errors import InputNotFoundError

        raise InputNotFoundError(str(path))
    if from_format is None and path.suffix.lower() == CONTAINER_SUFFIX:  # the strict reader says what is wrong
        return _container_info(path, storage_options)
    converter = get_converter(from_format) if from_format is not None else detect(path)
    if converter.name == CONTAINER_FORMAT:
        return _container_info(path, storage_options)
    dataset = converter.read(path, {})
    return _dataset_info(str(source), converter.name, dataset)


def _container_info(source: str | Path, storage_options: Mapping[str, Any] | None) -> dict[str, Any]:
    with open_container(source, storage_options) as c:
        header = c.header
        data = c.info(CUBE_DATA) if CUBE_DATA in c else None
        members = [(m.name, m.size) for m in c.members]
        previews = {lod: c.read_header(_preview_header(lod)) for lod in c.previews}
        thumbnail = c.read_bytes(THUMBNAIL) if THUMBNAIL in c else None
        described = _describe(str(source), CONTAINER_FORMAT, header, members, previews, _reference_names(c),
                              thumbnail, offset=None if data is None else data.offset,
                              stored=data is not None and data.stored)
        if described["cube"] is not None and data is not None:
            described["cube"]["size"] = data.size
        return described


def _preview_header(lod: str) -> str:
    from hsi_conform.members import HEADER_SUFFIX, preview_stem

    return preview_stem(lod) + HEADER_SUFFIX


def _reference_names(c: Container) -> list[str]:
    return [classify_member(n).reference or n for n in c.names
            if n.startswith(REFERENCE_DIR) and classify_member(n).kind is MemberKind.REFERENCE_HEADER]


def _dataset_info(source: str, fmt: str, dataset: HsiDataset) -> dict[str, Any]:
    payloads = dataset_members(dataset)
    members = [(name, _size(payloads[name])) for name in dataset.member_names() if name in payloads]
    thumbnail = dataset.members.get(THUMBNAIL)
    previews = {lod: item.header for lod, item in dataset.previews.items()}
    return _describe(source, fmt, dataset.header, members, previews, list(dataset.references),
                     None if thumbnail is None else payload_bytes(thumbnail), offset=None, stored=False)


def _size(payload: Any) -> int:
    return int(payload.nbytes) if isinstance(payload, np.ndarray) else payload_size(payload)


def _describe(source: str, fmt: str, header: Header, members: list[tuple[str, int]], previews: Mapping[str, Header],
              references: list[str], thumbnail: bytes | None, *, offset: int | None, stored: bool) -> dict[str, Any]:
    layout = _layout(header)
    size = jpeg_size(thumbnail) if thumbnail is not None else None
    return {
        "source": source,
        "format": fmt,
        "layout": layout,
        "cube": None if offset is None else _cube(offset, stored, layout),
        "wavelengths": _wavelengths(header),
        "georeferencing": _georeferencing(header),
        "members": [{"name": name, "size": size, "kind": classify_member(name).kind.value}
                    for name, size in members],
        "previews": [{"level": lod, **_dimensions(h)} for lod, h in sorted(previews.items())],
        "references": sorted(references),
        "procedures": _procedures(header),
        "thumbnail": None if size is None else {"width": size[0], "height": size[1]},
    }


def _layout(header: Header) -> dict[str, Any] | None:
    """Return the layout fields, or None when the header does not give a readable layout (``validate`` says why)."""
    try:
        layout = CubeLayout.from_header(header)
    except HsiConformError:
        return None
    return {"lines": layout.lines, "samples": layout.samples, "bands": layout.bands,
            "data_type": int(layout.data_type), "dtype": layout.dtype.newbyteorder("=").name,
            "interleave": layout.interleave.value, "byte_order": int(layout.byte_order),
            "header_offset": layout.header_offset, "bytes": layout.nbytes}


def _cube(offset: int, stored: bool, layout: dict[str, Any] | None) -> dict[str, Any]:
    """Where ``data.envi``'s bytes start in the container and the largest power of two (up to a page) dividing it."""
    alignment = 1
    while alignment < MAX_ALIGNMENT and offset % (alignment * 2) == 0:
        alignment *= 2
    itemsize = np.dtype(layout["dtype"]).itemsize if layout is not None else 1
    start = offset + (layout["header_offset"] if layout is not None else 0)
    return {"member": CUBE_DATA, "offset": offset, "alignment": alignment, "stored": stored,
            "mappable": stored and start % itemsize == 0}


def _dimensions(header: Header) -> dict[str, int | None]:
    try:
        layout = CubeLayout.from_header(header)
    except HsiConformError:
        return {"lines": None, "samples": None, "bands": None}
    return {"lines": layout.lines, "samples": layout.samples, "bands": layout.bands}


def _wavelengths(header: Header) -> dict[str, Any] | None:
    try:
        values = header.value("wavelength")
        units = header.value("wavelength units")
    except HsiConformError:
        return None
    if not values:
        return None
    numbers = [float(v) for v in values]
    return {"count": len(numbers), "first": numbers[0], "last": numbers[-1], "min": min(numbers),
            "max": max(numbers), "units": None if units is None else str(units)}


def _georeferencing(header: Header) -> dict[str, Any] | None:
    try:
        geo = georeferencing(header)
    except HsiConformError:
        return None
    if geo is None:
        return None
    crs = geo.crs
    return {"crs": None if crs is None else {"name": crs.name, "epsg": crs.epsg, "geographic": crs.geographic,
                                             "wkt": crs.wkt},
            "transform": None if geo.transform is None else list(geo.transform)}


def _procedures(header: Header) -> list[str]:
    entry = header.get("read procedures")
    if entry is None:
        return []
    if not entry.is_list:
        return [entry.value_raw.strip()] if entry.value_raw.strip() else []
    return [item.strip() for item in entry.items or ()]
