"""The ``hsi`` converter: the container itself (a ``.hsi`` file or an expanded container folder).

Reading maps the arrays lazily and keeps every other member as a lazy byte range; writing streams everything
into a new container (members in the source order, ``.envi`` data 4096-aligned, published atomically). Every
member's bytes round-trip unchanged, except a JPEG-XL cube's (spec/jpegxl.md): it is read decoded (into a
temporary file) and written as the ``compression`` option says, by default as the source stored it. A dataset
without ``thumbnail.jpg`` (any other format's, or a container without one) gets one rendered from the cube as
written, right after ``data.envi``, unless the write option ``thumbnail`` is false (spec/previews.md#thumbnail).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hsi_conform._space import ensure_room
from hsi_conform.container.jpegxl import JpegXlArray, decoded_copy, encode_cube
from hsi_conform.container.jxl_index import (
    DEFAULT_EFFORT,
    DEFAULT_GROUP,
    DEFAULT_TILE,
    MAX_GROUP,
    is_jpegxl,
    jpegxl_header,
    plain_header,
)
from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container, CubeLayout
from hsi_conform.container.thumbnail import thumbnail_fits, thumbnail_for, written_thumbnail
from hsi_conform.container.write import iter_chunks
from hsi_conform.container.zipwrite import ContainerWriter, WrittenMember
from hsi_conform.converters.base import (
    NO_OPTIONS,
    Blob,
    ConverterBase,
    Digested,
    EnviArray,
    HsiDataset,
    MemberCrc,
    OptionSpec,
    dataset_members,
    parse_flag,
    payload_size,
    payload_spans,
)
from hsi_conform.converters.digested import is_whole_file
from hsi_conform.converters.guard import content_range, guard_write
from hsi_conform.errors import ConfigError, ContainerError, DatasetError, FieldValueError
from hsi_conform.members import (
    CUBE_DATA,
    CUBE_HEADER,
    CUBE_INDEX,
    REFERENCES,
    THUMBNAIL,
    envi_names,
    preview_stem,
    reference_stem,
)
from hsi_conform.remote import RemoteArray

AUTO, NONE, JPEGXL = "auto", "none", "jpegxl"
#: Values of the ``compression`` write option (``auto``: as the source).
COMPRESSIONS = (AUTO, NONE, JPEGXL)


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
        "compression": OptionSpec(help="jpegxl: lossless JPEG-XL cube (uint8/uint16; [jpegxl] extra); none: "
                                  "uncompressed; auto: as the source", default=AUTO, parse=str.lower,
                                  choices=COMPRESSIONS),
        "effort": OptionSpec(help="JPEG-XL encoder effort, 1 (fastest) to 9 (smallest)", default=DEFAULT_EFFORT,
                             parse=int, choices=tuple(range(1, 10))),
        "band_group": OptionSpec(help=f"JPEG-XL bands per codestream, 1 to {MAX_GROUP}", default=DEFAULT_GROUP,
                                 parse=int, choices=tuple(range(1, MAX_GROUP + 1))),
        "tile": OptionSpec(help="JPEG-XL tile side in pixels (lines and samples per codestream)",
                           default=DEFAULT_TILE, parse=int),
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
        """Write the dataset as a ``.hsi`` container (options: see :func:`write_dataset`).

        Raises:
            ConfigError: an option.
        """
        opts = self.parsed_write_options(options)
        if opts["tile"] < 1:
            raise ConfigError(f"option tile must be a positive number of pixels, not {opts['tile']}")
        settings = JpegXlSettings(effort=opts["effort"], group=opts["band_group"], tile=opts["tile"])
        return write_dataset(dataset, dest, thumbnail=opts["thumbnail"], compression=opts["compression"],
                             jpegxl=settings)


def read_container(container: Container) -> HsiDataset:
    """Return the neutral dataset of an open container.

    A JPEG-XL cube is decoded into a temporary file (its CRCs checked); the dataset holds it with the plain
    header of the decoded cube, and ``compression = "jpegxl"`` (spec/jpegxl.md#converting).

    Raises:
        ContainerError: a JPEG-XL cube whose index or codestreams are invalid.
        MissingDependencyError: a JPEG-XL cube without the codec.
    """
    header = container.header
    if is_jpegxl(header):
        dataset = _read_jpegxl(container)
    else:
        cube, cube_raw = _array(container, CUBE_DATA, header)
        dataset = HsiDataset(header=header, cube=cube, cube_raw=cube_raw, order=list(container.names))
    for which in REFERENCES:
        if all(name in container for name in envi_names(reference_stem(which))):
            dataset.references[which] = _envi_array(container, reference_stem(which))
    for lod in container.previews:
        dataset.previews[lod] = _envi_array(container, preview_stem(lod))
    if container.structure is not None:  # a .hsi file: its central directory gives each member's CRC-32
        records = {m.name: m for m in container.structure.members}
        dataset.crcs = {i.name: MemberCrc(i.file, i.offset, i.size, records[i.name].crc) for i in container.members
                        if i.stored and i.name in records and not i.name.endswith("/")}
    taken = {*dataset.member_names(), CUBE_INDEX}
    for info in container.members:
        if info.name not in taken and not info.name.endswith("/"):
            dataset.members[info.name] = Blob(info.file, info.offset, info.size)
    return dataset


def _read_jpegxl(container: Container) -> HsiDataset:
    cube = container.cube
    assert isinstance(cube, JpegXlArray)  # is_jpegxl(header) holds
    decoded = decoded_copy(cube)
    return HsiDataset(header=plain_header(container.header), cube=decoded, order=list(container.names),
                      compression=JPEGXL)


@dataclass(frozen=True, slots=True)
class JpegXlSettings:
    """How a JPEG-XL cube is encoded (spec/jpegxl.md#effort, #band-groups, #tiles)."""

    effort: int = DEFAULT_EFFORT
    group: int = DEFAULT_GROUP
    tile: int = DEFAULT_TILE


def write_dataset(dataset: HsiDataset, dest: Path, *, thumbnail: bool = True, compression: str = AUTO,
                  jpegxl: JpegXlSettings | None = None) -> Path:
    """Write a dataset into a new container at ``dest`` (atomically).

    Args:
        dataset: what to write; its members are written byte for byte, ``thumbnail.jpg`` included.
        dest: the new ``.hsi`` file.
        thumbnail: when the dataset has no ``thumbnail.jpg``, render one from the cube as written, right after
            ``data.envi`` (spec/previews.md#thumbnail); a cube whose header does not describe it (a nonconformant
            source) gets none, and a note in ``dataset.notes`` says why.
        compression: ``"jpegxl"`` writes the cube as lossless JPEG-XL codestreams with their index
            (spec/jpegxl.md), ``"none"`` uncompressed, ``"auto"``: as the dataset's source stored it.
        jpegxl: the encoder settings of a JPEG-XL cube.

    Raises:
        OutputIsInputError, MemberNameError, DataBudgetError: see
            :func:`~hsi_conform.converters.guard.guard_write` (nothing is written).
        NoSpaceError: the members alone do not fit on the destination's filesystem (checked before writing).
        DatasetError: a JPEG-XL cube of a data type it cannot hold exactly, or with bytes beside the cube.
        MissingDependencyError: a JPEG-XL cube without the codec (``pip install 'hsi-conform[jpegxl]'``).
    """
    guard_write(dataset, (dest,))
    if (dataset.compression or NONE if compression == AUTO else compression) == JPEGXL:
        return _write_jpegxl(dataset, dest, thumbnail=thumbnail, settings=jpegxl or JpegXlSettings())
    payloads = dataset_members(dataset)
    ensure_room(dest, sum(c.nbytes if isinstance(c, np.ndarray) else payload_size(c) for c in payloads.values()))
    render = thumbnail and thumbnail_fits(payloads)  # the dataset's own thumbnail is kept as it is
    wanted = _digests_wanted(payloads)
    digests: dict[str, str] = {}
    with ContainerWriter(dest) as zw:
        for name in dataset.member_names():
            content = payloads[name]
            if isinstance(content, Digested):  # after the members it digests (else their files are hashed)
                zw.add_bytes(name, content.with_digests(digests))
                continue
            chunks = iter_chunks(content) if isinstance(content, np.ndarray) else payload_spans(content)
            size = content.nbytes if isinstance(content, np.ndarray) else payload_size(content)
            written = zw.add_stream(name, chunks, size, sha256=name in wanted
                                    and is_whole_file(wanted[name], content_range(content)))
            if written.sha256 is not None:
                digests[name] = written.sha256
            if name == CUBE_DATA and render:
                _add_thumbnail(zw, written, dataset)
    return dest


def _digests_wanted(payloads: Mapping[str, object]) -> dict[str, Path]:
    """Return the members whose SHA-256 a :class:`Digested` member needs, with the file each should hold whole."""
    return {name: path for content in payloads.values() if isinstance(content, Digested)
            for name, path in content.sources.items()}


def _write_jpegxl(dataset: HsiDataset, dest: Path, *, thumbnail: bool, settings: JpegXlSettings) -> Path:
    if dataset.cube_raw is not None:
        raise DatasetError(f"{CUBE_DATA} holds more than the cube (a header offset or trailing bytes): a JPEG-XL "
                           "cube holds the cube alone; convert with compression=none and fix it first")
    layout = CubeLayout.from_header(dataset.header)
    header = jpegxl_header(dataset.header)
    payloads = dataset_members(dataset)
    render = thumbnail and thumbnail_fits(payloads)
    names = [n for n in dataset.member_names() if n != CUBE_INDEX]
    names.insert(names.index(CUBE_DATA) + 1, CUBE_INDEX)
    encoded = encode_cube(dataset.cube, layout.interleave, group=settings.group, tile=settings.tile,
                          effort=settings.effort, byte_order=int(layout.byte_order))
    try:
        payloads[CUBE_HEADER], payloads[CUBE_INDEX] = header.to_bytes(), encoded.index.to_json()
        ensure_room(dest, encoded.size + sum(c.nbytes if isinstance(c, np.ndarray) else payload_size(c)
                                             for n, c in payloads.items() if n != CUBE_DATA))
        with ContainerWriter(dest) as zw:
            for name in names:
                content = payloads[name]
                if name == CUBE_DATA:
                    zw.add_stream(name, encoded.chunks(), encoded.size)
                    if render:
                        zw.add_bytes(THUMBNAIL, thumbnail_for(dataset.header, dataset.cube))
                elif isinstance(content, np.ndarray):
                    zw.add_stream(name, iter_chunks(content), content.nbytes)
                else:
                    zw.add_stream(name, payload_spans(content), payload_size(content))
    finally:
        encoded.close()
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

