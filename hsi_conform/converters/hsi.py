"""The ``hsi`` converter: the container itself (a ``.hsi`` file or an expanded container folder).

Reading maps the arrays lazily and keeps every other member as a lazy byte range; writing streams everything
into a new container (members in the source order, ``.envi`` data 4096-aligned, published atomically). Every
member's bytes round-trip unchanged. A dataset without ``thumbnail.jpg`` (any other format's, or a container
without one) gets one rendered from the cube as written, right after ``data.envi``, unless the write option
``thumbnail`` is false (spec/previews.md#thumbnail).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hsi_conform._space import ensure_room
from hsi_conform.container.reader import Container, CubeLayout, open_container
from hsi_conform.container.thumbnail import thumbnail_fits, written_thumbnail
from hsi_conform.container.write import iter_chunks
from hsi_conform.container.zipwrite import ContainerWriter, WrittenMember
from hsi_conform.converters.base import (
    NO_OPTIONS,
    Blob,
    ConverterBase,
    EnviArray,
    HsiDataset,
    OptionSpec,
    dataset_members,
    parse_flag,
    payload_size,
    payload_spans,
)
from hsi_conform.converters.guard import guard_write
from hsi_conform.errors import ContainerError, DatasetError, FieldValueError
from hsi_conform.members import (
    CUBE_DATA,
    CUBE_HEADER,
    REFERENCES,
    THUMBNAIL,
    envi_names,
    preview_stem,
    reference_stem,
)
from hsi_conform.remote import RemoteArray


class HsiConverter(ConverterBase):
    """HyperImage ``.hsi`` container (or an expanded container folder)."""

    name: ClassVar[str] = "hsi"
    description: ClassVar[str] = "HyperImage .hsi container, or an expanded container folder"
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    suffixes: ClassVar[tuple[str, ...]] = (".hsi",)
    write_options: ClassVar[Mapping[str, OptionSpec]] = {
        "thumbnail": OptionSpec(help="render thumbnail.jpg from the cube when the source has none (false: none)",
                                default=True, parse=parse_flag),
    }

    def can_read(self, source: Path) -> bool:
        """Return whether ``source`` is a ZIP file named ``*.hsi`` or a folder holding ``data.hdr``."""
        if source.is_dir():
            return (source / CUBE_HEADER).is_file()
        if source.suffix.lower() != ".hsi" or not source.is_file():
            return False
        with open(source, "rb") as f:
            return f.read(4) == b"PK\x03\x04"

    def read(self, source: Path, options: Mapping[str, Any] = NO_OPTIONS) -> HsiDataset:
        """Read a container into the neutral dataset (nothing is loaded into memory; options: none).

        Raises:
            ContainerError: the container cannot be opened or ``data.hdr`` is missing or not ENVI.
            ConfigError: an option.
        """
        self.parsed_read_options(options)
        return read_container(open_container(source))

    def write(self, dataset: HsiDataset, dest: Path, options: Mapping[str, Any] = NO_OPTIONS) -> Path:
        """Write the dataset as a ``.hsi`` container (option ``thumbnail``: see :func:`write_dataset`).

        Raises:
            ConfigError: an option.
        """
        return write_dataset(dataset, dest, thumbnail=self.parsed_write_options(options)["thumbnail"])


def read_container(container: Container) -> HsiDataset:
    """Return the neutral dataset of an open container."""
    header = container.header
    cube, cube_raw = _array(container, CUBE_DATA, header)
    dataset = HsiDataset(header=header, cube=cube, cube_raw=cube_raw, order=list(container.names))
    for which in REFERENCES:
        if all(name in container for name in envi_names(reference_stem(which))):
            dataset.references[which] = _envi_array(container, reference_stem(which))
    for lod in container.previews:
        dataset.previews[lod] = _envi_array(container, preview_stem(lod))
    taken = set(dataset.member_names())
    for info in container.members:
        if info.name not in taken and not info.name.endswith("/"):
            dataset.members[info.name] = Blob(info.file, info.offset, info.size)
    return dataset


def write_dataset(dataset: HsiDataset, dest: Path, *, thumbnail: bool = True) -> Path:
    """Write a dataset into a new container at ``dest`` (atomically).

    Args:
        dataset: what to write; its members are written byte for byte, ``thumbnail.jpg`` included.
        dest: the new ``.hsi`` file.
        thumbnail: when the dataset has no ``thumbnail.jpg``, render one from the cube as written, right after
            ``data.envi`` (spec/previews.md#thumbnail); a cube whose header does not describe it (a nonconformant
            source) gets none, and a note in ``dataset.notes`` says why.

    Raises:
        OutputIsInputError, MemberNameError, DataBudgetError: see
            :func:`~hsi_conform.converters.guard.guard_write` (nothing is written).
        NoSpaceError: the members alone do not fit on the destination's filesystem (checked before writing).
    """
    guard_write(dataset, (dest,))
    payloads = dataset_members(dataset)
    ensure_room(dest, sum(c.nbytes if isinstance(c, np.ndarray) else payload_size(c) for c in payloads.values()))
    render = thumbnail and thumbnail_fits(payloads)  # the dataset's own thumbnail is kept as it is
    with ContainerWriter(dest) as zw:
        for name in dataset.member_names():
            content = payloads[name]
            if isinstance(content, np.ndarray):
                written = zw.add_stream(name, iter_chunks(content), content.nbytes)
            else:
                written = zw.add_stream(name, payload_spans(content), payload_size(content))
            if name == CUBE_DATA and render:
                _add_thumbnail(zw, written, dataset)
    return dest


def _add_thumbnail(zw: ContainerWriter, written: WrittenMember, dataset: HsiDataset) -> None:
    try:
        jpeg = written_thumbnail(zw, written, dataset.header)
    except (FieldValueError, DatasetError) as exc:  # what the header says is not this cube: nothing to show
        dataset.notes.append(f"no {THUMBNAIL} written: {exc}")
        return
    zw.add_bytes(THUMBNAIL, jpeg)


def _envi_array(container: Container, base: str) -> EnviArray:
    header_name, data_name = envi_names(base)
    header = container.read_header(header_name)
    array, raw = _array(container, data_name, header)
    return EnviArray(header=header, array=array, raw=raw)


def _array(container: Container, data: str, header: Any) -> tuple[np.ndarray[Any, Any], Blob | None]:
    """Map a data member; keep its raw bytes too when they are more than the array (or unmappable)."""
    info = container.info(data)
    blob = Blob(info.file, info.offset, info.size)
    try:
        opened = container.open_array(data, header)
    except ContainerError:
        if not info.stored:
            raise
        return np.empty((0, 0, 0), dtype=np.uint8), blob
    array = np.asarray(opened) if isinstance(opened, RemoteArray) else opened  # a remote source is read whole
    exact = info.size == array.nbytes and CubeLayout.from_header(header).header_offset == 0
    return array, None if exact else blob

