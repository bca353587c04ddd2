"""Open a ``.hsi`` container (or an expanded folder with the same layout) without copying the cube.

The cube is a read-only ``numpy.memmap`` of the stored ``data.envi`` at its exact byte offset inside the ZIP
file: the offset comes from the member's *local* header, and the size is checked against the header with Python
integers before anything is mapped (spec/container.md#zero-copy). Opening a local file only locates its members;
the strict judgement of the archive runs when :attr:`Container.structure` is first read
(spec/container.md#lazy-open). A ``.hsi`` file is opened once: its structure, every member's bytes and every
mapped array are read through that one descriptor, so a file renamed over it meanwhile is never mixed in
(spec/safety.md#batches).

A URL of any fsspec protocol, or a file object, opens a *remote* container (spec/remote.md): the strict reader
reads it through a :class:`~hsi_conform.remote.ranges.RangeReader` by byte ranges, and every ENVI data member is
a lazy :class:`~hsi_conform.remote.array.RemoteArray` instead of a memmap: indexing it fetches only the bytes
selected.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, Self, TypeAlias

import numpy as np

from hsi_conform.container._direct import DirectCube, layout_of
from hsi_conform.container._members import (
    MemberInfo,
    copy_of,
    data_start,
    preview_levels,
    readable,
    require_in_file,
)
from hsi_conform.container.folder import is_container_folder
from hsi_conform.container.jpegxl import JpegXlArray, open_cube
from hsi_conform.container.jxl_index import MAX_INDEX_BYTES, is_jpegxl
from hsi_conform.container.layout import CubeLayout, as_interleave
from hsi_conform.container.source import SourceFile, map_array
from hsi_conform.container.zipread import ZipStructure, read_zip_structure
from hsi_conform.errors import (
    ContainerClosedError,
    ContainerError,
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
    preview_stem,
    reference_stem,
)
from hsi_conform.remote import RangeReader, RemoteArray

__all__ = ["MAX_HEADER_BYTES", "Container", "CubeArray", "CubeLayout", "MemberInfo", "as_interleave",
           "is_container_folder"]

CubeArray: TypeAlias = "np.memmap[tuple[int, ...], np.dtype[np.generic]] | RemoteArray"
"""An ENVI data member: a read-only memmap for a local container, a lazy :class:`RemoteArray` for a remote one."""

#: Headers larger than this are not read into memory by default (real headers stay far below); see ``Limits``.
MAX_HEADER_BYTES = DEFAULT_LIMITS.max_header_bytes


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
        self._structure = structure
        self._members = members
        self._source = source
        self._header: Header | None = None
        self._cube: CubeArray | None = None
        self._cube_layout: CubeLayout | None = None
        self._direct: DirectCube | None = None  # the cube read by pread (spec/container.md#direct-reads)
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
    def structure(self) -> ZipStructure | None:
        """The strict reader's view of the archive (None for an expanded folder).

        ``open`` only locates the members; the archive is read strictly, through the container's own descriptor,
        when this is first asked for (spec/container.md#lazy-open).

        Raises:
            ContainerClosedError: the container was closed before the structure was read.
            InputUnreadableError: the file cannot be read.
        """
        if self._structure is None and self.is_zip:
            try:
                with self.source().file() as f:
                    self._structure = read_zip_structure(f, limits=self.limits)
            except OSError as exc:
                raise InputUnreadableError.from_os_error(self.location, exc) from exc
        return self._structure

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
        self._cube = self._cube_layout = self._direct = None
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
        info = readable(self.info(name))
        if limit is not None and info.size > limit:
            raise ContainerError(name, f"member is larger than {limit} bytes")
        held = self._held(info, info.size)
        if held is not None:  # in the file when the strict read read it: nothing to measure or read again
            return held
        require_in_file(info, info.size, self._file_size(info))
        data = self._read(info, info.size)
        if len(data) != info.size:
            raise ContainerError(name, "member data is truncated")
        return data

    def read_prefix(self, name: str, size: int) -> bytes:
        """Return the first ``size`` bytes of a member (all of it when shorter; e.g. a JPEG's frame header).

        Raises:
            ContainerError: no such member, or a compressed member.
        """
        info = readable(self.info(name))
        return self._read(info, min(size, info.size))

    def _held(self, info: MemberInfo, size: int) -> bytes | None:
        """Return the bytes of a member the strict read's tail holds (spec/container.md#one-read-for-the-tail)."""
        structure = self._structure
        return structure.held(info.offset, size) if structure is not None and self.is_zip else None

    def _read(self, info: MemberInfo, size: int) -> bytes:
        if self.is_zip:
            held = self._held(info, size)
            if held is not None:
                self._check_open()
                return held
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
        layout = layout_of(data, header)
        if data == CUBE_DATA and header is self._header:
            self._cube_layout = layout  # what ``layout`` answers once ``cube`` is mapped with it
        if data == CUBE_DATA and is_jpegxl(header):
            return self._jpegxl_cube(layout)
        info = readable(self.info(data))
        offset = data_start(info, layout, self._file_size(info))
        if self.remote:
            return RemoteArray(self.reader(), layout.dtype, offset, layout.shape)
        if self.is_zip:
            return map_array(self.source(), layout.dtype, offset, layout.shape)
        with SourceFile.open(info.file) as f:
            return map_array(f, layout.dtype, offset, layout.shape)

    def _direct_cube(self) -> DirectCube | None:
        """Return the cube as read by ``pread`` (None: a remote or JPEG-XL cube, read through :attr:`cube`)."""
        self._check_open()
        if self._direct is None and not self.remote and not is_jpegxl(self.header):
            layout, info = layout_of(CUBE_DATA, self.header), readable(self.info(CUBE_DATA))
            self._direct = DirectCube(layout, data_start(info, layout, self._file_size(info)),
                                      self.source() if self.is_zip else info.file)
        return self._direct

    def _jpegxl_cube(self, layout: CubeLayout) -> JpegXlArray:
        """Return the lazily decoded cube of a ``file type = JPEGXL`` container (spec/jpegxl.md#reading)."""
        info = readable(self.info(CUBE_DATA))
        if CUBE_INDEX not in self._members:
            raise ContainerError(CUBE_DATA, f"file type = JPEGXL, but the band-group index {CUBE_INDEX} is missing")
        require_in_file(info, info.size, self._file_size(info))
        return open_cube(layout, self.read_bytes(CUBE_INDEX, limit=MAX_INDEX_BYTES), info.size, self.location,
                         lambda at, size: self._read(dataclasses.replace(info, offset=info.offset + at), size))

    def _file_size(self, info: MemberInfo) -> Callable[[], int]:
        """Return how the file holding a member is measured (a ``.hsi`` through its descriptor)."""
        return self.reader().size if self.is_zip else lambda: info.file.stat().st_size

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

        Locally a ``pread`` of the band's bytes, the cube not mapped (spec/container.md#direct-reads); remotely
        one ranged request per contiguous run, coalesced (spec/remote.md#budgets).

        Raises:
            IndexError: no such band.
        """
        return direct.band(band) if (direct := self._direct_cube()) else copy_of(self.bsq(), band)

    def read_line(self, line: int) -> np.ndarray[Any, Any]:
        """Return image line ``line`` as a new ``(samples, bands)`` array: one spectrum per row.

        Raises:
            IndexError: no such line.
        """
        return direct.line(line) if (direct := self._direct_cube()) else copy_of(self.bip(), line)

    def read_spectrum(self, line: int, sample: int) -> np.ndarray[Any, Any]:
        """Return the spectrum of pixel ``(line, sample)`` as a new ``(bands,)`` array.

        Raises:
            IndexError: no such pixel.
        """
        direct = self._direct_cube()
        return direct.spectrum(line, sample) if direct else copy_of(self.bip(), line, sample)

    @property
    def layout(self) -> CubeLayout:
        """The layout of ``data.envi`` according to ``data.hdr`` (once :attr:`cube` is mapped, the one it used)."""
        if self._cube is not None and self._cube_layout is not None:
            return self._cube_layout
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
        return preview_levels(self._members)

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
