r"""Field-level ZIP builder for hostile test archives (the threats the ZIP rules of spec/container.md detect).

Every local-header, central-directory and end-record field can be set independently, so each threat is one line::

    from hsi_conform.testing.zipcraft import Entry, build

    evil = build([Entry(b"data.hdr", b"ENVI\n"), Entry(b"../evil.txt", b"x")])
    lying = build([Entry(b"data.envi", b"abc", l_csize=10)])          # local header disagrees
    polyglot = build([Entry(b"data.envi", b"abc")], prepend=b"\xff\xd8\xff")

Defaults produce a valid stored archive that stdlib :mod:`zipfile` and the strict reader accept. Only the
standard library is used, so partners can craft cases for their own readers. Field values must fit their
on-disk width (``struct.error`` otherwise); 64-bit sizes and offsets go through ZIP64 automatically.
"""

from __future__ import annotations

import functools
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import ParamSpec, TypeVar

from hsi_conform._atomic import AtomicFile
from hsi_conform.errors import InvalidArgumentError, OutputUnwritableError

__all__ = ["Entry", "build", "crc32_combine", "crc32_zeros", "quoted_overlap_bomb", "write"]

_LFH = struct.Struct("<4s5H3L2H")
_CDH = struct.Struct("<4s6H3L5H2L")
_EOCD = struct.Struct("<4s4H2LH")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_LOC64 = struct.Struct("<4sLQL")
_U16 = 0xFFFF
_U32 = 0xFFFFFFFF
_DOS_TIME = 0
_DOS_DATE = (1 << 5) | 1  # 1980-01-01
_FLAG_UTF8 = 0x800
_FLAG_DESCRIPTOR = 0x008
_CRC_POLY = 0xEDB88320

_P = ParamSpec("_P")
_R = TypeVar("_R")

# A layout is a list of byte strings and hole lengths (runs of zero bytes, written sparsely by write()).
_Chunk = bytes | int


@dataclass(frozen=True, slots=True)
class Entry:
    """One member: central-directory fields, independent local-header overrides and the payload.

    ``None`` means "derive the consistent value". Sizes and the CRC default to those of ``data`` (followed by
    ``sparse`` zero bytes), or of ``plain`` when the payload is compressed.

    Attributes:
        name: Name bytes (a ``str`` is UTF-8 encoded and, when non-ASCII, sets flag bit 11 by default).
        data: Stored payload bytes as written after the local header.
        method: Compression method (central directory).
        flags: General-purpose flags (central directory).
        crc: CRC-32 (central directory).
        csize: Compressed size (central directory).
        usize: Uncompressed size (central directory).
        plain: Uncompressed content for compressed payloads (drives the default CRC and ``usize``).
        extra: Central-directory extra field (also the local one unless ``l_extra`` is given).
        comment: Member comment.
        external_attr: External attributes; default regular file 0o644 or directory 0o755 (Unix).
        create_system: High byte of "version made by" (3 = Unix).
        version_made: Low byte of "version made by".
        version_needed: Version needed to extract; default 20, or 45 with ZIP64.
        offset: Local-header offset written into the central directory (absolute; default: where it is).
        disk_start: Disk number where the member starts.
        internal_attr: Internal attributes.
        zip64: Force ZIP64 extras for the sizes (automatic when a size needs 64 bits).
        sparse: Number of zero bytes following ``data`` in the payload (a hole when written by :func:`write`).
        write_local: ``False`` writes a central-directory entry only (pointing at ``offset``, default 0).
        l_name: Local-header name override.
        l_method: Local-header method override.
        l_flags: Local-header flags override.
        l_crc: Local-header CRC override (default 0 when flag bit 3 is set).
        l_csize: Local-header compressed-size override (default 0 when flag bit 3 is set).
        l_usize: Local-header uncompressed-size override (default 0 when flag bit 3 is set).
        l_extra: Local-header extra override.
        l_version_needed: Local-header version-needed override.
        data_descriptor: Raw bytes written right after the payload.
    """

    name: bytes | str
    data: bytes = b""
    _: KW_ONLY
    method: int = 0
    flags: int | None = None
    crc: int | None = None
    csize: int | None = None
    usize: int | None = None
    plain: bytes | None = None
    extra: bytes = b""
    comment: bytes = b""
    external_attr: int | None = None
    create_system: int = 3
    version_made: int = 20
    version_needed: int | None = None
    offset: int | None = None
    disk_start: int = 0
    internal_attr: int = 0
    zip64: bool = False
    sparse: int = 0
    write_local: bool = True
    l_name: bytes | None = None
    l_method: int | None = None
    l_flags: int | None = None
    l_crc: int | None = None
    l_csize: int | None = None
    l_usize: int | None = None
    l_extra: bytes | None = None
    l_version_needed: int | None = None
    data_descriptor: bytes = b""

    @property
    def name_bytes(self) -> bytes:
        """The encoded central-directory name."""
        return self.name.encode("utf-8") if isinstance(self.name, str) else self.name

    @property
    def real_flags(self) -> int:
        """Central-directory flags after defaults."""
        if self.flags is not None:
            return self.flags
        return _FLAG_UTF8 if isinstance(self.name, str) and not self.name.isascii() else 0

    @property
    def real_csize(self) -> int:
        """Central-directory compressed size after defaults."""
        return len(self.data) + self.sparse if self.csize is None else self.csize

    @property
    def real_usize(self) -> int:
        """Central-directory uncompressed size after defaults."""
        if self.usize is not None:
            return self.usize
        return len(self.plain) if self.plain is not None else len(self.data) + self.sparse

    @property
    def real_crc(self) -> int:
        """Central-directory CRC after defaults."""
        if self.crc is not None:
            return self.crc
        if self.plain is not None:
            return zlib.crc32(self.plain)
        return crc32_zeros(zlib.crc32(self.data), self.sparse)

    @property
    def is_zip64(self) -> bool:
        """Whether the sizes go through ZIP64 extras."""
        return self.zip64 or self.real_csize >= _U32 or self.real_usize >= _U32

    def local_header(self) -> bytes:
        """Return the local file header (with name and extra) this entry writes."""
        flags = self.real_flags if self.l_flags is None else self.l_flags
        blank = bool(flags & _FLAG_DESCRIPTOR)
        crc = _pick(self.l_crc, 0 if blank else self.real_crc)
        csize = _pick(self.l_csize, 0 if blank else self.real_csize)
        usize = _pick(self.l_usize, 0 if blank else self.real_usize)
        extra = self.extra if self.l_extra is None else self.l_extra
        if self.is_zip64:
            extra = struct.pack("<HHQQ", 1, 16, usize, csize) + extra
            csize = usize = _U32
        name = self.name_bytes if self.l_name is None else self.l_name
        version = _pick(self.l_version_needed, self._version())
        method = _pick(self.l_method, self.method)
        head = _LFH.pack(
            b"PK\x03\x04",
            version,
            flags,
            method,
            _DOS_TIME,
            _DOS_DATE,
            crc,
            csize,
            usize,
            len(name),
            len(extra),
        )
        return head + name + extra

    def central_header(self, local_offset: int) -> bytes:
        """Return the central-directory record for a local header at ``local_offset``."""
        offset = local_offset if self.offset is None else self.offset
        csize, usize = self.real_csize, self.real_usize
        wide: list[int] = []
        if self.is_zip64:
            wide += [usize, csize]
            csize = usize = _U32
        if offset >= _U32:
            wide.append(offset)
            offset = _U32
        extra = (struct.pack(f"<HH{len(wide)}Q", 1, 8 * len(wide), *wide) if wide else b"") + self.extra
        attr = self.external_attr
        if attr is None:
            attr = (0o040755 << 16) | 0x10 if self.name_bytes.endswith(b"/") else 0o100644 << 16
        name = self.name_bytes
        head = _CDH.pack(
            b"PK\x01\x02",
            (self.create_system << 8) | self.version_made,
            self._version(),
            self.real_flags,
            self.method,
            _DOS_TIME,
            _DOS_DATE,
            self.real_crc,
            csize,
            usize,
            len(name),
            len(extra),
            len(self.comment),
            self.disk_start,
            self.internal_attr,
            attr,
            offset,
        )
        return head + name + extra + self.comment

    def _version(self) -> int:
        if self.version_needed is not None:
            return self.version_needed
        return 45 if self.is_zip64 else 20


def _pick(value: int | None, default: int) -> int:
    return default if value is None else value


def _field_errors(layout: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn what explicit field values can make ``struct`` and indexing raise into an InvalidArgumentError."""

    @functools.wraps(layout)
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return layout(*args, **kwargs)
        except struct.error as exc:
            raise InvalidArgumentError(f"a ZIP field value does not fit its width: {exc}") from exc
        except IndexError as exc:
            raise InvalidArgumentError("cd_order names an entry that does not exist") from exc

    return checked


@_field_errors
def _layout(
    entries: Sequence[Entry],
    *,
    prepend: bytes,
    append: bytes,
    comment: bytes,
    comment_len: int | None,
    eocd_count: int | None,
    cd_offset: int | None,
    between_cd_and_eocd: bytes,
    cd_order: Sequence[int] | None,
    zip64: bool,
    eocd_disk: int,
) -> list[_Chunk]:
    chunks: list[_Chunk] = [prepend]
    pos = len(prepend)
    offsets: list[int] = []
    for e in entries:
        if not e.write_local:
            offsets.append(0)
            continue
        offsets.append(pos)
        parts: list[_Chunk] = [e.local_header(), e.data, e.sparse, e.data_descriptor]
        chunks += parts
        pos += sum(p if isinstance(p, int) else len(p) for p in parts)
    order = range(len(entries)) if cd_order is None else cd_order
    cd = b"".join(entries[i].central_header(offsets[i]) for i in order)
    cd_start = pos if cd_offset is None else cd_offset
    chunks += [cd, between_cd_and_eocd]
    pos += len(cd) + len(between_cd_and_eocd)
    count = len(order) if eocd_count is None else eocd_count
    if zip64 or count >= _U16 or cd_start >= _U32 or len(cd) >= _U32:
        chunks.append(_EOCD64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(cd), cd_start))
        chunks.append(_LOC64.pack(b"PK\x06\x07", 0, pos, 1))
        count, cd_len, cd_start = _U16, _U32, _U32
    else:
        cd_len = len(cd)
    clen = len(comment) if comment_len is None else comment_len
    chunks += [_EOCD.pack(b"PK\x05\x06", eocd_disk, 0, count, count, cd_len, cd_start, clen), comment, append]
    return chunks


def build(
    entries: Iterable[Entry],
    *,
    prepend: bytes = b"",
    append: bytes = b"",
    comment: bytes = b"",
    comment_len: int | None = None,
    eocd_count: int | None = None,
    cd_offset: int | None = None,
    between_cd_and_eocd: bytes = b"",
    cd_order: Sequence[int] | None = None,
    zip64: bool = False,
    eocd_disk: int = 0,
) -> bytes:
    """Build an archive in memory.

    Args:
        entries: Members, written in this order.
        prepend: Bytes before the first local header; offsets are shifted so the archive stays self-consistent
            (like ``zip -A`` on a self-extractor). For a naive ``cat``, concatenate the bytes yourself.
        append: Bytes after the end record and its comment.
        comment: Archive comment bytes.
        comment_len: Comment length written into the end record (default ``len(comment)``).
        eocd_count: Entry counts written into the end records (default: the number of directory entries).
        cd_offset: Central-directory offset written into the end records (default: where it is).
        between_cd_and_eocd: Bytes between the central directory and the end records.
        cd_order: Order (indices into ``entries``) of the central-directory records; may repeat or omit.
        zip64: Force ZIP64 end records (automatic when counts or offsets need them).
        eocd_disk: "Number of this disk" in the classic end record.

    Returns:
        The archive bytes (``sparse`` runs materialised as zeros).

    Raises:
        InvalidArgumentError: If an explicit field value does not fit its on-disk width, or ``cd_order`` names no
            entry (a ``ValueError``).
    """
    chunks = _layout(
        list(entries),
        prepend=prepend,
        append=append,
        comment=comment,
        comment_len=comment_len,
        eocd_count=eocd_count,
        cd_offset=cd_offset,
        between_cd_and_eocd=between_cd_and_eocd,
        cd_order=cd_order,
        zip64=zip64,
        eocd_disk=eocd_disk,
    )
    return b"".join(bytes(c) if isinstance(c, int) else c for c in chunks)


def write(
    path: str | os.PathLike[str],
    entries: Iterable[Entry],
    *,
    prepend: bytes = b"",
    append: bytes = b"",
    comment: bytes = b"",
    comment_len: int | None = None,
    eocd_count: int | None = None,
    cd_offset: int | None = None,
    between_cd_and_eocd: bytes = b"",
    cd_order: Sequence[int] | None = None,
    zip64: bool = False,
    eocd_disk: int = 0,
) -> int:
    """Write an archive to ``path``, leaving ``sparse`` runs as holes (a 4 GiB member costs no disk).

    Args:
        path: Destination file (replaced atomically).
        entries: Members, as for :func:`build`.
        prepend: As for :func:`build`.
        append: As for :func:`build`.
        comment: As for :func:`build`.
        comment_len: As for :func:`build`.
        eocd_count: As for :func:`build`.
        cd_offset: As for :func:`build`.
        between_cd_and_eocd: As for :func:`build`.
        cd_order: As for :func:`build`.
        zip64: As for :func:`build`.
        eocd_disk: As for :func:`build`.

    Returns:
        The size of the written file.

    Raises:
        InvalidArgumentError: As for :func:`build`.
        OutputUnwritableError: If the file cannot be written (an ``OSError``).
    """
    chunks = _layout(
        list(entries),
        prepend=prepend,
        append=append,
        comment=comment,
        comment_len=comment_len,
        eocd_count=eocd_count,
        cd_offset=cd_offset,
        between_cd_and_eocd=between_cd_and_eocd,
        cd_order=cd_order,
        zip64=zip64,
        eocd_disk=eocd_disk,
    )
    try:
        with AtomicFile(path) as temp:
            f = temp.file
            for c in chunks:
                if isinstance(c, int):
                    f.seek(c, os.SEEK_CUR)
                else:
                    f.write(c)
            size = f.tell()
            f.truncate(size)
    except OSError as exc:
        raise OutputUnwritableError.from_os_error(os.fspath(path), exc) from exc
    return size


def _gf2_times(matrix: list[int], vector: int) -> int:
    total = 0
    row = 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, row) for row in matrix]


def _shift_zeros(register: int, nbytes: int) -> int:
    # zlib's crc32_combine trick: feeding zero bytes is a linear map, applied by repeated squaring.
    odd = [_CRC_POLY] + [1 << k for k in range(31)]  # one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while nbytes:
        even = _gf2_square(odd)
        if nbytes & 1:
            register = _gf2_times(even, register)
        nbytes >>= 1
        if not nbytes:
            break
        odd = _gf2_square(even)
        if nbytes & 1:
            register = _gf2_times(odd, register)
        nbytes >>= 1
    return register


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """Return ``crc32(a + b)`` from ``crc32(a)``, ``crc32(b)`` and ``len(b)`` in O(log len(b)).

    Args:
        crc1: CRC-32 of the first part.
        crc2: CRC-32 of the second part.
        len2: Length of the second part in bytes.

    Returns:
        The CRC-32 of the concatenation.
    """
    return _shift_zeros(crc1, len2) ^ crc2


def crc32_zeros(crc: int, n: int) -> int:
    """Return ``zlib.crc32(bytes(n), crc)`` without materialising the zeros.

    Args:
        crc: CRC-32 of the preceding bytes.
        n: Number of zero bytes.

    Returns:
        The continued CRC-32.
    """
    return _shift_zeros(crc ^ 0xFFFFFFFF, n) ^ 0xFFFFFFFF if n else crc


def quoted_overlap_bomb(n: int, size: int) -> bytes:
    """Build a Fifield-style quoted-overlap zip bomb of ``n`` members sharing one deflated kernel.

    Member ``i``'s deflate stream is a stored block quoting member ``i+1``'s local header, followed by member
    ``i+1``'s own stream, so every member inflates to roughly ``size`` bytes while the file stays tiny.

    Args:
        n: Number of members (at least 1).
        size: Uncompressed size of the shared kernel.

    Returns:
        The archive bytes (valid CRCs and sizes; every member overlaps the next).

    Raises:
        InvalidArgumentError: If ``n`` is not positive or ``size`` is negative (a ``ValueError``).
    """
    if n < 1 or size < 0:
        raise InvalidArgumentError("need n >= 1 and size >= 0")
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel = packer.compress(b"a" * size) + packer.flush()
    crc, csize, usize = zlib.crc32(b"a" * size), len(kernel), size
    headers: list[bytes] = []
    for i in reversed(range(n)):
        name = str(i).encode()
        header = Entry(name, method=8, crc=crc, csize=csize, usize=usize).local_header()
        headers.insert(0, header)
        quote = b"\x00" + struct.pack("<HH", len(header), len(header) ^ _U16)
        crc = crc32_combine(zlib.crc32(header), crc, usize)
        csize, usize = len(quote) + len(header) + csize, len(header) + usize
    body = bytearray()
    cd = bytearray()
    for i, header in enumerate(headers):
        _, _, _, _, _, _, h_crc, h_csize, h_usize, _, _ = _LFH.unpack_from(header)
        entry = Entry(str(i).encode(), method=8, crc=h_crc, csize=h_csize, usize=h_usize)
        cd += entry.central_header(len(body))
        body += header
        if i + 1 < n:
            body += b"\x00" + struct.pack("<HH", len(headers[i + 1]), len(headers[i + 1]) ^ _U16)
    body += kernel
    eocd = _EOCD.pack(b"PK\x05\x06", 0, 0, n, n, len(cd), len(body), 0)
    return bytes(body + cd + eocd)
