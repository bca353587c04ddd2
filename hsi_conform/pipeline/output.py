"""Write a pipeline result: a new container made of a source container's members, a new cube, new members.

Every stage of the pipeline (calibration, ``read procedures``, previews) publishes through :func:`publish`: the
members it does not touch are copied byte for byte from the source, the new cube streams in slabs (a
:class:`~hsi_conform.container.write.ComputedCube` is computed while written), and the destination appears
atomically or not at all (spec/safety.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform._lock import lock
from hsi_conform._outputs import refuse_output_on_input
from hsi_conform._space import ensure_room
from hsi_conform.container.jpegxl import JpegXlArray
from hsi_conform.container.jxl_index import is_jpegxl, plain_header
from hsi_conform.container.reader import Container
from hsi_conform.container.thumbnail import thumbnail_fits, written_thumbnail
from hsi_conform.container.write import CubeSource, iter_chunks
from hsi_conform.container.zipwrite import ContainerWriter, WrittenMember
from hsi_conform.converters.base import Blob
from hsi_conform.errors import InvalidArgumentError, OutputUnwritableError
from hsi_conform.header import Header
from hsi_conform.members import CUBE_DATA, CUBE_HEADER, CUBE_INDEX, THUMBNAIL
from hsi_conform.remote import RemoteArray

__all__ = ["Content", "Later", "local_array", "publish"]


@dataclass(frozen=True, slots=True)
class Later:
    """A member made when the writer reaches it, after every member before it is written.

    A record of digests taken while the cube is computed and written (the calibration record) is written after
    the cube, so its digests cost no pass before the writer starts (spec/pipeline.md#overlap).

    Attributes:
        make: Returns the member's bytes.
        size: The bytes it will have, for the room check before writing.
    """

    make: Callable[[], bytes]
    size: int


Content = bytes | CubeSource | Later
"""What :func:`publish` writes into a member: bytes, an array (or computed cube) streamed in slabs, or bytes made
when the writer reaches the member."""


def publish(source: Container, dest: str | os.PathLike[str], *, header: Header | None = None,
            cube: CubeSource | None = None, add: Mapping[str, Content] | None = None, drop: Iterable[str] = (),
            thumbnail: bool = True) -> Path:
    """Write ``dest``: the members of ``source`` with a new header, cube and members, published atomically.

    Args:
        source: the open source container (its members are copied byte for byte unless replaced or dropped).
        dest: the new ``.hsi`` file; never one of the source's files.
        header: the new ``data.hdr`` (None keeps the source's bytes).
        cube: the new ``data.envi`` in the storage order ``header`` describes (None keeps the source's bytes).
        add: members to add, or to replace in place (same name): bytes, arrays, computed cubes or
            :class:`Later` members; a ``thumbnail.jpg`` given here is written as given.
        drop: members of the source not to copy.
        thumbnail: render ``thumbnail.jpg`` from the cube as written, when the cube changed or the source has
            none (spec/previews.md#thumbnail); False writes none for a new cube (the source's would be stale)
            and keeps the source's otherwise.

    Returns:
        The destination path.

    Raises:
        OutputIsInputError: ``dest`` is one of the source's files (nothing is written).
        NoSpaceError: the members do not fit on the destination's filesystem (checked before writing).
        InUseError: another writer holds the destination.
        InputUnreadableError, ContainerError: a source member cannot be read.
        OutputUnwritableError: the destination cannot be written (it keeps its old content).
    """
    path = Path(OutputUnwritableError.checked_path(dest))
    refuse_output_on_input([path], [source.path])
    if cube is not None and is_jpegxl(header or source.header):
        # The new cube is written uncompressed: its header says so, and the band-group index goes
        # (spec/jpegxl.md#converting).
        header, drop = plain_header(header or source.header), {*drop, CUBE_INDEX}
    content = _members(source, header, cube, dict(add or {}), set(drop))
    new_cube = cube is not None or header is not None
    given = THUMBNAIL in (add or {})
    if new_cube and not given:
        content.pop(THUMBNAIL, None)  # the source's shows the old cube
    render = thumbnail and not given and (new_cube or THUMBNAIL not in source) and thumbnail_fits(content)
    ensure_room(path, sum(_size(source, c) for c in content.values()))
    with lock(path), ContainerWriter(path) as zw:
        for name, item in content.items():
            written = _write(zw, source, name, item)
            if name == CUBE_DATA and render:
                zw.add_bytes(THUMBNAIL, written_thumbnail(zw, written, header or source.header))
    return path


def _members(source: Container, header: Header | None, cube: CubeSource | None, add: dict[str, Content],
             drop: set[str]) -> dict[str, Content | str]:
    """Return every member to write in order: new content, or the name of the source member to copy."""
    content: dict[str, Content | str] = {}
    for name in source.names:
        if name in drop or name.endswith("/"):
            continue
        content[name] = add.pop(name) if name in add else name
    if header is not None:
        content[CUBE_HEADER] = header.to_bytes()
    if cube is not None:
        content[CUBE_DATA] = cube
    content.update(add)
    return content


def _size(source: Container, item: Content | str) -> int:
    if isinstance(item, str):
        return source.info(item).size
    if isinstance(item, Later):
        return item.size
    return len(item) if isinstance(item, bytes) else item.nbytes


def _write(zw: ContainerWriter, source: Container, name: str, item: Content | str) -> WrittenMember:
    if isinstance(item, bytes):
        return zw.add_bytes(name, item)
    if isinstance(item, Later):
        return zw.add_bytes(name, item.make())
    if isinstance(item, str):
        info = source.info(item)
        return zw.add_stream(name, Blob(info.file, info.offset, info.size).spans(), info.size)
    return zw.add_stream(name, iter_chunks(item), item.nbytes)


def local_array(array: np.ndarray[Any, Any] | RemoteArray, what: str) -> np.ndarray[Any, Any]:
    """Return ``array`` when it maps a local file; refuse a container read by URL (spec/pipeline.md#outputs).

    A JPEG-XL cube (spec/jpegxl.md#converting) is returned decoded, in a temporary file.

    The stages that write a container copy the source's members from its file, so they need a local container.

    Raises:
        InvalidArgumentError: the array is a :class:`~hsi_conform.remote.RemoteArray`.
    """
    if isinstance(array, np.ndarray):
        return array
    if isinstance(array, JpegXlArray):
        return array.decoded()  # a compressed cube is decoded once, into a temporary file
    raise InvalidArgumentError(f"{what} needs a local container, not one read by URL: download it first")
