"""Open a ``.hsi`` container (or an expanded folder with the same layout) without copying the cube.

The cube is a read-only ``numpy.memmap`` of the stored ``data.envi`` at its exact byte offset inside the ZIP
file: the offset is computed from the member's *local* header by the strict reader, and the size is checked
against the header with Python integers before anything is mapped (spec/container.md#zero-copy).

A ``.hsi`` file is opened once: its structure, every member's bytes and every mapped array are read through that
one descriptor (:class:`~hsi_conform.container.source.SourceFile`), so a file renamed over it meanwhile is never
mixed in (spec/safety.md#batches).

A URL of any fsspec protocol, or a file object, opens a *remote* container (spec/remote.md): the same strict
reader reads it through a :class:`~hsi_conform.remote.ranges.RangeReader` by byte ranges, and every ENVI data
member is a lazy :class:`~hsi_conform.remote.array.RemoteArray` instead of a memmap: indexing it fetches only
the bytes selected.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, Self, TypeAlias

import numpy as np

from hsi_conform.container.folder import folder_members, is_container_folder
from hsi_conform.container.jpegxl import JpegXlArray, open_cube
from hsi_conform.container.jxl_index import MAX_INDEX_BYTES, is_jpegxl
from hsi_conform.container.layout import CubeLayout, as_interleave
from hsi_conform.container.source import SourceFile, map_array, read_block
from hsi_conform.container.zipread import ZipStructure, read_zip_structure
from hsi_conform.errors import (
    ContainerClosedError,
    ContainerError,
    FieldValueError,
    HsiConformError,
    InputUnreadableError,
    NoSuchMemberError,
    NotAnEnviHeaderError,
)
from hsi_conform.fields import Interleave
from hsi_conform.header import Header, parse_header
from hsi_conform.limits import DEFAULT_LIMITS, Limits
from hsi_conform.members import (
    CALIBRATION_REFERENCES,
    CUBE_DATA,
    CUBE_HEADER,
    CUBE_INDEX,
    DATA_SUFFIX,
    HEADER_SUFFIX,
    MANDATORY,
    MemberKind,
    classify_member,
    header_of,
    preview_stem,
    reference_stem,
)
from hsi_conform.remote import RangeReader, RemoteArray, is_remote, is_url, open_reader

__all__ = ["MAX_HEADER_BYTES", "Container", "CubeArray", "CubeLayout", "MemberInfo", "as_interleave",
           "is_container_folder", "open_container"]

CubeArray: TypeAlias = "np.memmap[tuple[int, ...], np.dtype[np.generic]] | RemoteArray"
"""An ENVI data member: a read-only memmap for a local container, a lazy :class:`RemoteArray` for a remote one."""

#: Headers larger than this are not read into memory by default (real headers stay far below); see ``Limits``.
MAX_HEADER_BYTES = DEFAULT_LIMITS.max_header_bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberInfo:
    """Where the bytes of one member live.

    Attributes:
        name: POSIX path inside the container.
        file: the file holding the bytes (the ``.hsi`` itself, or the file inside an expanded folder); for a remote
            container no local file holds them, and this is ``os.devnull`` (read with ``Container.read_bytes``).
        offset: first byte of the member's data in ``file``.
        size: stored size in bytes.
        stored: the bytes are stored uncompressed and unencrypted (they can be mapped).
    """

    name: str
    file: Path
    offset: int
    size: int
    stored: bool = True


class Container:
    """A ``.hsi`` container or an expanded container folder, opened read-only.

    Use :func:`hsi_conform.open`. Members are read on demand; nothing is extracted or modified.

    A read-only mapping of member names to their bytes, as far as users expect one: ``len(c)`` members,
    ``"data.hdr" in c``, ``for name in c``, ``c["data.hdr"]`` (the member's bytes; :attr:`cube` maps the cube
    instead of reading it). A container is always true, even with no member. After :meth:`close` (or the end of
    ``with``) every use of it raises :class:`~hsi_conform.errors.ContainerClosedError` (a ``ValueError``), except
    :attr:`location`, :attr:`path`, :attr:`url`, :attr:`closed`, ``repr`` and :meth:`close`; arrays handed out
    before stay valid (spec/python-api.md#closed).

    Attributes:
        location: The input exactly as given (a path or a URL), for messages.
        url: The URL of a remote container (None for a local one).
    """

    def __init__(self, path: Path | None, members: dict[str, MemberInfo], *, is_zip: bool,
                 structure: ZipStructure | None = None, source: SourceFile | RangeReader | None = None,
                 limits: Limits = DEFAULT_LIMITS, location: str | None = None, url: str | None = None) -> None:
        self._path = path
        self.location = location if location is not None else str(path)
        self.url = url
        self.is_zip = is_zip
        #: The resource limits applied when reading (``max_header_bytes`` for headers).
        self.limits = limits
        #: The strict reader's view of the archive (None for an expanded folder).
        self.structure = structure
        self._members = members
        self._source = source
        self._header: Header | None = None
        self._cube: CubeArray | None = None
        self._closed = False

    def __repr__(self) -> str:
        if self._closed:
            return f"<closed Container {self.location!r}>"
        count = f"{len(self._members)} member{'' if len(self._members) == 1 else 's'}"
        try:
            layout = self.layout
        except (HsiConformError, OSError):  # a repr never raises: a broken cube is only not described
            return f"<Container {self.location!r}: no readable cube, {count}>"
        lines, samples, bands = layout.lines, layout.samples, layout.bands
        return (f"<Container {self.location!r}: {lines} lines x {samples} samples x {bands} bands, "
                f"{layout.dtype}, {layout.interleave.value}, {count}>")

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (every use but a few then raises; see the class)."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ContainerClosedError(self.location)

    @property
    def path(self) -> Path:
        """The local file or folder.

        Raises:
            ContainerError: a remote container (see :attr:`url` and :attr:`location`).
        """
        if self._path is None:
            raise ContainerError(None, f"{self.location} is remote: it has no local path")
        return self._path

    @property
    def remote(self) -> bool:
        """Whether the container is read by ranges from a URL or a file object (see spec/remote.md)."""
        return self._path is None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Drop the cube mapping and close the file; a second call does nothing.

        Arrays handed out stay valid until they are released (a memmap keeps its own mapping; a remote
        container's lazy arrays fetch again). Any other use of the container raises
        :class:`~hsi_conform.errors.ContainerClosedError` from now on.
        """
        self._closed = True
        self._cube = None
        self._header = None
        if self._source is not None:
            self._source.close()

    @property
    def names(self) -> tuple[str, ...]:
        """Member names in container order (directories end with ``/``)."""
        self._check_open()
        return tuple(self._members)

    def __contains__(self, name: object) -> bool:
        self._check_open()
        return name in self._members

    def __iter__(self) -> Iterator[str]:
        self._check_open()
        return iter(self._members)

    def __len__(self) -> int:
        self._check_open()
        return len(self._members)

    def __bool__(self) -> bool:
        return True  # as a file object is: ``container or default`` must not depend on the member count

    def __getitem__(self, name: str) -> bytes:
        """Return a member's bytes (``c["data.hdr"]``), as :meth:`read_bytes` without a limit.

        Raises:
            NoSuchMemberError: no such member (a ``KeyError`` and a ``ContainerError``).
            ContainerError: a compressed or truncated member.
        """
        return self.read_bytes(name)

    def info(self, name: str) -> MemberInfo:
        """Return where a member's bytes are.

        Raises:
            NoSuchMemberError: no such member (a ``ContainerError`` and a ``KeyError``).
        """
        self._check_open()
        try:
            return self._members[name]
        except KeyError:
            raise NoSuchMemberError(name) from None

    def read_bytes(self, name: str, *, limit: int | None = None) -> bytes:
        """Return a member's bytes (for small members: headers, CSV, JPEG).

        Raises:
            ContainerError: no such member, compressed member, larger than ``limit``, or truncated (the archive
                claims more bytes than the file holds).
            InputUnreadableError: the file cannot be read.
        """
        info = self._readable(name)
        if limit is not None and info.size > limit:
            raise ContainerError(name, f"member is larger than {limit} bytes")
        self._check_in_file(info, info.size)
        data = self._read(info, info.size)
        if len(data) != info.size:
            raise ContainerError(name, "member data is truncated")
        return data

    def read_prefix(self, name: str, size: int) -> bytes:
        """Return the first ``size`` bytes of a member (all of it when shorter; e.g. a JPEG's frame header).

        Raises:
            ContainerError: no such member, or a compressed member.
        """
        info = self._readable(name)
        return self._read(info, min(size, info.size))

    def _read(self, info: MemberInfo, size: int) -> bytes:
        if self.is_zip:
            return self.reader().read(info.offset, size)
        with SourceFile.open(info.file) as f:  # a member file of a folder: opened for this read only
            return f.read(info.offset, size)

    def source(self) -> SourceFile:
        """Return the open ``.hsi`` file every member is read from (reopened after :meth:`close`).

        Raises:
            ContainerError: an expanded folder (its members are separate files), or a remote container (see
                :meth:`reader`).
            OSError: the file cannot be reopened.
        """
        self._check_open()
        if not self.is_zip:
            raise ContainerError(None, "an expanded container folder has no single source file")
        if self.remote:
            raise ContainerError(None, f"{self.location} is remote: it has no local file (see reader())")
        if not isinstance(self._source, SourceFile) or self._source.closed:
            self._source = SourceFile.open(self.path)
        return self._source

    def reader(self) -> RangeReader:
        """Return the ranged reader every member of a ``.hsi`` is read through (local or remote).

        Raises:
            ContainerError: an expanded folder (its members are separate files).
            OSError: a local file cannot be reopened.
        """
        self._check_open()
        if self.remote and self._source is not None:
            return self._source
        return self.source()

    def read_header(self, name: str = CUBE_HEADER) -> Header:
        """Parse an ENVI header member.

        Raises:
            ContainerError: missing, compressed, too large, or not an ENVI header.
        """
        try:
            limit = self.limits.max_header_bytes  # checked on the stored size, before a byte is read
            return parse_header(self.read_bytes(name, limit=limit), max_bytes=limit)
        except NotAnEnviHeaderError as exc:
            raise ContainerError(name, str(exc)) from exc

    @property
    def header(self) -> Header:
        """The parsed ``data.hdr`` (the metadata hub)."""
        self._check_open()
        if self._header is None:
            self._header = self.read_header(CUBE_HEADER)
        return self._header

    def open_array(self, data: str = CUBE_DATA, header: Header | str | None = None) -> CubeArray:
        """Map an ENVI data member read-only, in its storage order and byte order (lazy for a remote container).

        Args:
            data: the data member (``data.envi``, ``preview.envi``, ``Reference/white.envi``, ...).
            header: its header, or the header member's name; default: ``data`` with ``.hdr``.

        Raises:
            ContainerError: the member is missing, compressed or smaller than the header says, the file holds
                less of it than the archive claims, or the header's layout fields are invalid.
            InputUnreadableError: the file cannot be read or mapped.
        """
        if not isinstance(header, Header):
            header = self.read_header(header or str(PurePosixPath(data).with_suffix(HEADER_SUFFIX)))
        try:
            layout = CubeLayout.from_header(header)
        except FieldValueError as exc:
            raise ContainerError(data, f"header layout is invalid: {exc}") from exc
        if data == CUBE_DATA and is_jpegxl(header):
            return self._jpegxl_cube(layout)
        info = self._readable(data)
        need = layout.header_offset + layout.nbytes
        if info.size < need:
            raise ContainerError(data, f"member has {info.size} bytes, the header needs {need}")
        self._check_in_file(info, need)
        offset = info.offset + layout.header_offset
        if self.remote:
            return RemoteArray(self.reader(), layout.dtype, offset, layout.shape)
        if self.is_zip:
            return map_array(self.source(), layout.dtype, offset, layout.shape)
        with SourceFile.open(info.file) as f:
            return map_array(f, layout.dtype, offset, layout.shape)

    def _jpegxl_cube(self, layout: CubeLayout) -> JpegXlArray:
        """Return the lazily decoded cube of a ``file type = JPEGXL`` container (spec/jpegxl.md#reading)."""
        info = self._readable(CUBE_DATA)
        if CUBE_INDEX not in self._members:
            raise ContainerError(CUBE_DATA, f"file type = JPEGXL, but the band-group index {CUBE_INDEX} is missing")
        self._check_in_file(info, info.size)
        return open_cube(layout, self.read_bytes(CUBE_INDEX, limit=MAX_INDEX_BYTES), info.size, self.location,
                         lambda at, size: self._read(dataclasses.replace(info, offset=info.offset + at), size))

    def _check_in_file(self, info: MemberInfo, need: int) -> None:
        """Raise unless the file holds ``need`` bytes of the member.

        The sizes come from the archive, which may claim (ZIP64) more bytes than the file holds: reading them
        would allocate the claimed size, and a mapping past the end fails in mmap or faults on first access. A
        ``.hsi`` is measured through its open descriptor, the file every member is read from.
        """
        try:
            size = self.reader().size() if self.is_zip else info.file.stat().st_size
            available = size - info.offset
        except InputUnreadableError:
            raise
        except OSError as exc:
            raise InputUnreadableError.from_os_error(str(info.file), exc) from exc
        if available < need:
            raise ContainerError(info.name, f"member data is truncated: the file holds {max(available, 0)} of its "
                                 f"bytes, {need} are needed")

    @property
    def cube(self) -> CubeArray:
        """The hypercube (``data.envi``) in storage order (see :class:`CubeLayout`).

        A read-only memmap for a local container; for a remote one a lazy :class:`RemoteArray`: indexing it reads
        only the selected bytes, ``np.asarray`` reads it all.
        """
        self._check_open()
        if self._cube is None:
            self._cube = self.open_array(CUBE_DATA, self.header)
        return self._cube

    def read_band(self, band: int) -> np.ndarray[Any, Any]:
        """Return band ``band`` as a new ``(lines, samples)`` array (stored dtype and byte order).

        Locally a ``pread`` of the band's bytes; remotely one ranged request per contiguous run, coalesced
        (spec/remote.md#budgets).

        Raises:
            IndexError: no such band.
        """
        return self._copy(self.bsq(), band)

    def read_line(self, line: int) -> np.ndarray[Any, Any]:
        """Return image line ``line`` as a new ``(samples, bands)`` array: one spectrum per row.

        Raises:
            IndexError: no such line.
        """
        return self._copy(self.bip(), line)

    def read_spectrum(self, line: int, sample: int) -> np.ndarray[Any, Any]:
        """Return the spectrum of pixel ``(line, sample)`` as a new ``(bands,)`` array.

        Raises:
            IndexError: no such pixel.
        """
        return self._copy(self.bip(), line, sample)

    @staticmethod
    def _copy(view: np.ndarray[Any, Any] | RemoteArray, *index: int) -> np.ndarray[Any, Any]:
        if isinstance(view, RemoteArray):
            return np.asarray(view[index])
        return read_block(view[index])

    @property
    def layout(self) -> CubeLayout:
        """The layout of ``data.envi`` according to ``data.hdr``."""
        return CubeLayout.from_header(self.header)

    def bsq(self) -> np.ndarray[Any, Any] | RemoteArray:
        """Return the cube as a (bands, lines, samples) view (no copy; lazy for a remote container)."""
        return as_interleave(self.cube, self.layout.interleave, Interleave.BSQ)

    def bil(self) -> np.ndarray[Any, Any] | RemoteArray:
        """Return the cube as a (lines, bands, samples) view (no copy; lazy for a remote container)."""
        return as_interleave(self.cube, self.layout.interleave, Interleave.BIL)

    def bip(self) -> np.ndarray[Any, Any] | RemoteArray:
        """Return the cube as a (lines, samples, bands) view (no copy; lazy for a remote container)."""
        return as_interleave(self.cube, self.layout.interleave, Interleave.BIP)

    @property
    def previews(self) -> tuple[str, ...]:
        """Preview levels present: ``""`` for ``preview.envi``, else the ``<lod>`` of ``preview_<lod>.envi``."""
        self._check_open()
        found = []
        for name in self._members:
            kind = classify_member(name)
            if kind.kind is MemberKind.PREVIEW_DATA and header_of(name) in self._members:
                found.append(kind.lod or "")
        return tuple(sorted(found))

    def preview(self, lod: str = "") -> CubeArray:
        """Map a preview level (``preview.envi``, or ``preview_<lod>.envi``) read-only.

        Raises:
            ContainerError: the level is missing or invalid.
        """
        return self.open_array(preview_stem(lod) + DATA_SUFFIX)

    def reference(self, which: str) -> CubeArray:
        """Map ``Reference/white.envi``, ``Reference/black.envi`` or ``Reference/whitedark.envi`` read-only.

        Args:
            which: ``"white"``, ``"black"`` or ``"whitedark"`` (the white's own dark; spec/calibration.md).

        Raises:
            ContainerError: ``which`` names no documented reference, or the reference is missing or invalid.
        """
        if which not in CALIBRATION_REFERENCES:
            raise ContainerError(None, f"unknown reference {which!r} ({', '.join(CALIBRATION_REFERENCES)})")
        return self.open_array(reference_stem(which) + DATA_SUFFIX)

    @property
    def members(self) -> tuple[MemberInfo, ...]:
        """Where each member's bytes are (see :attr:`structure` for the full ZIP records)."""
        self._check_open()
        return tuple(self._members.values())

    def _readable(self, name: str) -> MemberInfo:
        info = self.info(name)
        if not info.stored:
            raise ContainerError(name, "member is compressed or encrypted; it cannot be read in place")
        return info


def open_container(path: str | os.PathLike[str] | Any, storage_options: Mapping[str, Any] | None = None, *,
                   structure: ZipStructure | None = None, source: SourceFile | RangeReader | None = None,
                   limits: Limits = DEFAULT_LIMITS, any_folder: bool = False) -> Container:
    """Open a ``.hsi`` file, an expanded container folder, a URL or a file object read-only.

    ``source`` is the file already opened (the validator opens each input once) and ``structure`` a strict read
    of it; both are read here when not given. The container reads every member through that one descriptor;
    ``limits`` bound what is read (spec/safety.md#limits). A URL of any fsspec protocol (``https://``, ``s3://``,
    ``memory://``, ``file://``...), with its ``storage_options``, or a file object opens a remote container
    (spec/remote.md).

    A folder opens only when it is an expanded container (:func:`is_container_folder`) of at most
    ``limits.max_entries`` entries; anything else is refused before it is walked further
    (spec/container.md#expanded-folders). ``any_folder`` opens any folder whole (the validator, which reports
    what such a folder lacks).

    Raises:
        InputUnreadableError: the path or URL is missing (an ``InputNotFoundError``, also a ``FileNotFoundError``)
            or cannot be read.
        MissingDependencyError: a URL needs a package that is not installed (``pip install 'hsi-conform[remote]'``).
        ContainerError: the file is not a readable ZIP archive, or the folder is not an expanded container.
    """
    if is_remote(path) or (source is not None and not isinstance(source, SourceFile)):
        return _open_remote(path, source or open_reader(path, storage_options), structure, limits)
    p = Path(InputUnreadableError.checked_path(path))
    local = source if isinstance(source, SourceFile) else None
    try:
        mode = os.fstat(local.fileno()).st_mode if local is not None else p.stat().st_mode
    except OSError as exc:
        raise InputUnreadableError.from_os_error(str(p), exc) from exc
    if stat.S_ISDIR(mode):
        if not (any_folder or is_container_folder(p)):
            raise ContainerError(None, f"{p} is a folder without {' or '.join(MANDATORY)} at its root: not an "
                                 "expanded container")
        members = {name: MemberInfo(name=name, file=file, offset=0, size=size)
                   for name, file, size in folder_members(p, None if any_folder else limits.max_entries)}
        return Container(p, members, is_zip=False, limits=limits)
    if not stat.S_ISREG(mode):
        raise InputUnreadableError(str(p), "not a regular file or directory")
    try:
        local = local or SourceFile.open(p)
        if structure is None:
            with local.file() as f:
                structure = read_zip_structure(f, limits=limits)
    except OSError as exc:
        raise InputUnreadableError(str(p), exc.strerror or str(exc)) from exc
    return Container(p, _zip_members(structure, p), is_zip=True, structure=structure, source=local, limits=limits)


def _open_remote(target: object, reader: RangeReader, structure: ZipStructure | None, limits: Limits) -> Container:
    if structure is None:
        structure = read_zip_structure(reader, limits=limits)
    members = _zip_members(structure, Path(os.devnull))
    return Container(None, members, is_zip=True, structure=structure, source=reader, limits=limits,
                     location=reader.name, url=reader.name if is_url(target) else None)


def _zip_members(structure: ZipStructure, file: Path) -> dict[str, MemberInfo]:
    """Where each member's data is, by name (the first of duplicates); a fatal structure is refused.

    Raises:
        ContainerError: no usable central directory.
    """
    if structure.fatal:
        codes = ", ".join(sorted(structure.codes))
        raise ContainerError(None, f"not a readable ZIP archive ({codes})")
    members: dict[str, MemberInfo] = {}
    for m in structure.members:
        if m.name in members or m.data_offset is None:
            continue  # duplicates and unreadable members are for the validator to report
        stored = m.method == 0 and not m.flags & 0x41 and m.compressed_size == m.uncompressed_size
        members[m.name] = MemberInfo(name=m.name, file=file, offset=m.data_offset, size=m.compressed_size,
                                     stored=stored)
    return members
