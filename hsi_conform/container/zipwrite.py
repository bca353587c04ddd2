"""The container writer every hsi-conform writer uses: stored, aligned, verified, published atomically.

Members are STORED with fixed timestamps, so identical input gives identical bytes. Data of members whose
name ends with an align suffix (``.envi`` by default) starts at a multiple of ``align``, padded with a 0xA11E
extra field in the local header only (as Android zipalign and commons-compress do). ZIP64 records appear only
when sizes, offsets or counts need them; data descriptors never.

Everything is written to a temp file next to the destination (:class:`hsi_conform._atomic.AtomicFile`).
:meth:`ContainerWriter.close` verifies it with the strict reader and only then publishes it onto the destination
(spec/container.md#crash-safety); an exception inside the ``with`` block removes the temp file and leaves the
destination untouched, because an interrupted ZIP is still a *valid* ZIP with a truncated member.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Self

import numpy as np

from hsi_conform._atomic import AtomicFile
from hsi_conform._copy import FileSpan, OverlappedCrc, copy_range, file_spans, start_writeback
from hsi_conform._crc32 import crc32
from hsi_conform._signals import checkpoint
from hsi_conform._space import raise_no_space
from hsi_conform.errors import (
    ContainerVerifyError,
    DatasetError,
    HsiConformError,
    InputUnreadableError,
    InvalidArgumentError,
    MemberNameError,
    OutputUnwritableError,
)
from hsi_conform.members import DATA_SUFFIX

from ._file_name import FLAG_UTF8, NameIndex, member_parts, name_problems
from .zipread import DEFAULT_LIMITS, ZipLimits, ZipStructure, read_zip_structure

if TYPE_CHECKING:
    from hashlib import _Hash as Hash

__all__ = ["ALIGN_EXTRA_ID", "ContainerVerifyError", "ContainerWriter", "WrittenMember", "member_parts"]

#: Header id of the alignment padding extra field (commons-compress ResourceAlignmentExtraField).
ALIGN_EXTRA_ID = 0xA11E
_MAX_ALIGN = 0x8000  # the 0xA11E alignment field has 15 bits; the top bit is a flag
_U16 = 0xFFFF
_ZIP64_COUNT = 0xFFFF  # entry count from which the ZIP64 end records are needed
_U32 = 0xFFFFFFFF
_LFH = struct.Struct("<4s5H3L2H")
_CDH = struct.Struct("<4s6H3L5H2L")
_EOCD = struct.Struct("<4s4H2LH")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_LOC64 = struct.Struct("<4sLQL")
_CRC_FIELD = 14  # offset of the CRC inside a local header
_FILE_ATTR = 0o100644 << 16
_DIR_ATTR = (0o040755 << 16) | 0x10  # Unix directory mode plus the MS-DOS directory bit
#: Members at least this large get their CRC computed in a worker thread, overlapped with the write.
_OVERLAP_BYTES = 4 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class WrittenMember:
    """Where a member landed in the container.

    Attributes:
        name: Member name.
        local_header_offset: Offset of its local file header.
        data_offset: Offset of its first data byte.
        size: Stored size in bytes.
        crc: CRC-32 of its data.
        sha256: Hex SHA-256 of its data, when the writer was asked for it (else None).
    """

    name: str
    local_header_offset: int
    data_offset: int
    size: int
    crc: int
    sha256: str | None = None


def _dos_datetime(mtime: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = mtime
    if not (1980 <= year <= 2107 and 1 <= month <= 12 and 1 <= day <= 31):
        raise InvalidArgumentError("mtime date must lie between 1980-01-01 and 2107-12-31")
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        raise InvalidArgumentError("mtime time of day is out of range")
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


class ContainerWriter:
    """Write a STORED ZIP container atomically (a context manager).

    Args:
        path: Destination; replaced only after a successful, verified :meth:`close`.
        align: Data alignment in bytes for members with an align suffix (a power of two ≤ 32768; 1 disables).
        align_suffixes: Name endings whose data is aligned.
        mtime: Timestamp written for every member (year, month, day, hour, minute, second).

    Raises:
        InvalidArgumentError: If ``align`` or ``mtime`` is invalid (a ``ValueError``).
        OutputUnwritableError: If the temp file cannot be created (an ``OSError``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        align: int = 4096,
        align_suffixes: tuple[str, ...] = (DATA_SUFFIX,),
        mtime: tuple[int, int, int, int, int, int] = (1980, 1, 1, 0, 0, 0),
    ) -> None:
        if not (1 <= align <= _MAX_ALIGN and align & (align - 1) == 0):
            raise InvalidArgumentError("align must be a power of two between 1 and 32768")
        self._time, self._date = _dos_datetime(mtime)
        self._align = align
        self._suffixes = tuple(align_suffixes)
        self._dest = OutputUnwritableError.checked_path(path)
        with self._writing():
            self._temp = AtomicFile(os.path.abspath(self._dest))
        self._f: BinaryIO = self._temp.file
        self._pos = 0
        self._records: list[tuple[bytes, WrittenMember, bool]] = []
        self._names = NameIndex()
        self._open = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
            return
        self.abort()
        if exc is not None:
            raise_no_space(exc, self._temp.dest)

    @property
    def temp_path(self) -> str:
        """The temp file being written (gone after :meth:`close` or :meth:`abort`)."""
        return str(self._temp.path)

    # -- members ----------------------------------------------------------------------------------------

    def add_bytes(self, name: str, data: bytes | bytearray | memoryview) -> WrittenMember:
        """Add a member from a C-contiguous bytes-like object.

        Args:
            name: Member name (validated with the strict name policy).
            data: The content.

        Returns:
            Where the member landed.

        Raises:
            MemberNameError: For an illegal, duplicate or colliding name (nothing is written; the writer stays
                usable).
            DatasetError: For a directory name with data.
            OutputUnwritableError: If the destination cannot be written (the writer is aborted).
            RuntimeError: If the writer is closed.
        """
        view = memoryview(data).cast("B")
        return self._add(name, view.nbytes, iter((view,)), crc32(view, 0))

    def add_file(self, name: str, source: str | os.PathLike[str]) -> WrittenMember:
        """Add a member by copying a file in 8 MiB chunks, computing the CRC while copying.

        Args:
            name: Member name.
            source: File to copy.

        Returns:
            Where the member landed.

        Raises:
            MemberNameError: For an illegal name.
            InputUnreadableError: If the source cannot be read or changed size while being copied (the writer
                is aborted if writing had begun).
            OutputUnwritableError: If the destination cannot be written (the writer is aborted).
            RuntimeError: If the writer is closed.
        """
        self._check_name(name)
        path = InputUnreadableError.checked_path(source)
        try:
            src = open(path, "rb", buffering=0)  # noqa: SIM115 (closed below; the open is what may fail)
        except OSError as exc:
            raise InputUnreadableError.from_os_error(path, exc) from exc
        with src:
            size = os.fstat(src.fileno()).st_size
            return self._add(name, size, file_spans(src, size, path), None)

    def add_stream(
        self, name: str, chunks: Iterable[bytes | bytearray | memoryview | FileSpan], size: int, *,
        sha256: bool = False,
    ) -> WrittenMember:
        """Add a member from chunks whose total size is known up front.

        A :class:`~hsi_conform._copy.FileSpan` chunk (a range of an open file) is copied by the kernel where it can
        (:func:`~hsi_conform._copy.copy_range`); its CRC is computed from the bytes as they landed in the
        container, overlapped with the copy of the next block.

        Args:
            name: Member name.
            chunks: The content, in order: bytes-like objects or file spans.
            size: Total size in bytes; a different total aborts the writer.
            sha256: Also compute the SHA-256 of the bytes as they landed (``WrittenMember.sha256``), in the same
                read-back as the CRC: no pass of its own (spec/container.md#copies).

        Returns:
            Where the member landed.

        Raises:
            MemberNameError: For an illegal name.
            DatasetError: For a wrong total size (the writer is aborted).
            InvalidArgumentError: For a negative size.
            OutputUnwritableError: If the destination cannot be written (the writer is aborted).
            RuntimeError: If the writer is closed.
        """
        if size < 0:
            raise InvalidArgumentError("size must not be negative")
        return self._add(name, size, (c if isinstance(c, FileSpan) else memoryview(c).cast("B") for c in chunks),
                         None, hashlib.sha256() if sha256 else None)

    def written_array(self, member: WrittenMember, dtype: np.dtype[Any], shape: tuple[int, ...]
                      ) -> np.memmap[Any, np.dtype[Any]]:
        """Map a member already written as a read-only array (e.g. to derive a thumbnail from the stored cube).

        The map reads the temp file, which is renamed and not rewritten on close, so it stays valid after that.

        Raises:
            RuntimeError: If the writer is closed.
            DatasetError: If ``dtype`` and ``shape`` need more bytes than the member holds.
            OutputUnwritableError: If the temp file cannot be flushed or mapped.
        """
        if not self._open:
            raise RuntimeError("the container writer is closed")
        need = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        if need > member.size:
            raise DatasetError(f"{member.name} holds {member.size} bytes, an array of {shape} needs {need}")
        with self._writing():
            self._f.flush()
            return np.memmap(self.temp_path, dtype=dtype, mode="r", offset=member.data_offset, shape=shape)

    def add_directory(self, name: str) -> None:
        """Add an explicit directory entry (a trailing ``/`` is added when missing).

        Args:
            name: Directory name.

        Raises:
            MemberNameError: For an illegal or conflicting name.
            RuntimeError: If the writer is closed.
        """
        self._add(name if name.endswith("/") else name + "/", 0, iter(()), 0)

    def _check_name(self, name: str) -> None:
        if not self._open:
            raise RuntimeError("the container writer is closed")
        problems = name_problems(
            name,
            max_name_bytes=DEFAULT_LIMITS.max_name_bytes,
            max_component_bytes=DEFAULT_LIMITS.max_component_bytes,
        )
        problems += self._names.check(name)
        if problems:  # a MemberNameError, not a bare ValueError: the CLI reports it instead of crashing (exit 1)
            raise MemberNameError(name, [code for code, _ in problems])

    def _add(self, name: str, size: int, chunks: Iterator[memoryview | FileSpan], crc: int | None,
             digest: Hash | None = None) -> WrittenMember:
        self._check_name(name)
        if name.endswith("/") and size:
            raise DatasetError("a directory entry cannot carry data", name)
        raw = name.encode("utf-8")
        flags = 0 if raw.isascii() else FLAG_UTF8
        lho = self._pos
        header = self._local_header(raw, flags, crc or 0, size, lho, aligned=name.endswith(self._suffixes))
        try:
            self._write(header)
            computed = self._copy(chunks, size, compute=crc is None, digest=digest)
            if crc is None:
                self._patch_crc(lho, computed)
            else:
                computed = crc
        except BaseException:
            self.abort()
            raise
        member = WrittenMember(
            name=name, local_header_offset=lho, data_offset=lho + len(header), size=size, crc=computed,
            sha256=None if digest is None else digest.hexdigest(),
        )
        self._records.append((raw, member, name.endswith("/")))
        self._names.add(name)
        return member

    def _local_header(self, raw: bytes, flags: int, crc: int, size: int, lho: int, *, aligned: bool) -> bytes:
        wide = size >= _U32
        extra = struct.pack("<HHQQ", 1, 16, size, size) if wide else b""
        if aligned and self._align > 1:
            pad = -(lho + _LFH.size + len(raw) + len(extra) + 6) % self._align
            extra += struct.pack("<HHH", ALIGN_EXTRA_ID, 2 + pad, self._align) + bytes(pad)
        stored = _U32 if wide else size
        head = _LFH.pack(b"PK\x03\x04", 45 if wide else 20, flags, 0, self._time, self._date, crc, stored, stored,
                         len(raw), len(extra))
        return head + raw + extra

    def _write(self, data: bytes | memoryview) -> None:
        with self._writing():
            self._f.write(data)
        self._pos += len(data)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Turn an ``OSError`` of the destination (disk full, I/O error) into :class:`OutputUnwritableError`."""
        try:
            yield
        except HsiConformError:
            raise
        except OSError as exc:
            raise OutputUnwritableError.from_os_error(self._dest, exc) from exc

    def _copy(self, chunks: Iterator[memoryview | FileSpan], size: int, *, compute: bool,
              digest: Hash | None = None) -> int:
        if not compute:
            return self._copy_chunks(chunks, size, None)
        if size >= _OVERLAP_BYTES:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hsi-crc") as pool:
                return self._copy_chunks(chunks, size, OverlappedCrc(self.temp_path, pool, digest))
        return self._copy_chunks(chunks, size, OverlappedCrc(self.temp_path, None, digest))

    def _copy_chunks(self, chunks: Iterator[memoryview | FileSpan], size: int, crc: OverlappedCrc | None) -> int:
        """Write the chunks; their CRC is computed by ``crc`` (in its worker, overlapping the writes), or not (None).

        The CRC (:mod:`hsi_conform._crc32`), file writes and kernel copies all release the GIL, so a worker thread
        hides the CRC behind the write.
        """
        written = 0
        try:
            for item in chunks:
                checkpoint()  # a signal stops the copy between two chunks
                if written + (item.size if isinstance(item, FileSpan) else item.nbytes) > size:
                    raise DatasetError("the member data is longer than its declared size")
                if isinstance(item, FileSpan):
                    self._copy_span(item, crc)
                    written += item.size
                    continue
                pending = crc.add_view(item) if crc is not None else None
                self._write_data(item)
                if pending is not None:
                    pending.result()  # the view must stay valid until its CRC is done
                written += item.nbytes
            if written != size:
                raise DatasetError("the member data is shorter than its declared size")
            return crc.result() if crc is not None else 0
        finally:
            if crc is not None:
                crc.close()

    def _write_data(self, view: memoryview) -> None:
        """Write member data; a large piece goes to disk now, not all at the fsync (spec/container.md#writeback)."""
        start = self._pos
        self._write(view)
        if view.nbytes >= _OVERLAP_BYTES:
            with self._writing():
                self._f.flush()
                start_writeback(self._f.fileno(), start, view.nbytes)

    def _copy_span(self, span: FileSpan, crc: OverlappedCrc | None) -> None:
        """Copy a file range into the container at the current position (kernel copy, buffered fallback)."""
        with self._writing():
            self._f.flush()
            start = self._pos
            try:
                copy_range(span, self._f.fileno(), start, on_block=None if crc is None else crc.add_landed,
                           writeback=True)
            finally:
                self._f.seek(start + span.size)
        self._pos = start + span.size

    def _patch_crc(self, lho: int, crc: int) -> None:
        with self._writing():
            self._f.seek(lho + _CRC_FIELD)
            self._f.write(struct.pack("<L", crc))
            self._f.seek(self._pos)

    # -- finishing --------------------------------------------------------------------------------------

    def _central_directory(self) -> bytes:
        out = bytearray()
        for raw, m, is_dir in self._records:
            wide = [m.size, m.size] if m.size >= _U32 else []
            if m.local_header_offset >= _U32:
                wide.append(m.local_header_offset)
            extra = struct.pack(f"<HH{len(wide)}Q", 1, 8 * len(wide), *wide) if wide else b""
            version = 45 if wide else 20
            stored = _U32 if m.size >= _U32 else m.size
            offset = min(m.local_header_offset, _U32)
            flags = 0 if raw.isascii() else FLAG_UTF8
            out += _CDH.pack(
                b"PK\x01\x02",
                (3 << 8) | version,
                version,
                flags,
                0,
                self._time,
                self._date,
                m.crc,
                stored,
                stored,
                len(raw),
                len(extra),
                0,
                0,
                0,
                _DIR_ATTR if is_dir else _FILE_ATTR,
                offset,
            )
            out += raw + extra
        return bytes(out)

    def _end_records(self, cd_start: int, cd_size: int) -> bytes:
        count = len(self._records)
        out = b""
        if count >= _ZIP64_COUNT or cd_start >= _U32 or cd_size >= _U32:
            z_off = cd_start + cd_size
            out += _EOCD64.pack(b"PK\x06\x06", 44, (3 << 8) | 45, 45, 0, 0, count, count, cd_size, cd_start)
            out += _LOC64.pack(b"PK\x06\x07", 0, z_off, 1)
        n16 = count if count < _ZIP64_COUNT else _U16
        return out + _EOCD.pack(b"PK\x05\x06", 0, 0, n16, n16, min(cd_size, _U32), min(cd_start, _U32), 0)

    def close(self) -> None:
        """Finish the archive, verify it strictly and publish it atomically (idempotent).

        Raises:
            ContainerVerifyError: If verification fails (the temp file is removed, nothing is published).
            NoSpaceError: The filesystem is full or the file-size limit reached (the temp file is removed).
            OutputUnwritableError: On another I/O error (the temp file is removed).
        """
        if not self._open:
            return
        try:
            cd_start = self._pos
            cd = self._central_directory()
            self._write(cd)
            self._write(self._end_records(cd_start, len(cd)))
            with self._writing():
                self._temp.sync()
                self._verify(len(cd))
                self._temp.publish()
        except BaseException as exc:
            self.abort()
            raise_no_space(exc, self._temp.dest)
            raise
        self._open = False

    def _verify(self, cd_size: int) -> None:
        limits = ZipLimits(
            max_entries=max(len(self._records), DEFAULT_LIMITS.max_entries),
            max_cd_size=max(cd_size, DEFAULT_LIMITS.max_cd_size),
        )
        structure = read_zip_structure(self._temp.path, limits=limits)
        if structure.fatal or structure.issues:
            raise ContainerVerifyError("the written container failed strict verification", structure.issues)
        if not _matches(structure, [m for _, m, _ in self._records]):
            raise ContainerVerifyError("the written container does not hold what was written")

    def abort(self) -> None:
        """Discard everything written so far: close and remove the temp file (idempotent)."""
        self._open = False
        self._temp.discard()


def _matches(structure: ZipStructure, written: list[WrittenMember]) -> bool:
    if len(structure.members) != len(written):
        return False
    return all(
        (m.name, m.crc, m.compressed_size, m.data_offset) == (w.name, w.crc, w.size, w.data_offset)
        for m, w in zip(structure.members, written, strict=True)
    )
