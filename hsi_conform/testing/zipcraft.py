r"""Field-level ZIP builder for hostile test archives (the threats the ZIP rules of spec/container.md detect).

Every local-header, central-directory and end-record field can be set independently, so each threat is one line::

    from hsi_conform.testing.zipcraft import Entry, build

    evil = build([Entry(b"data.hdr", b"ENVI\n"), Entry(b"../evil.txt", b"x")])
    lying = build([Entry(b"data.envi", b"abc", l_csize=10)])          # local header disagrees
    polyglot = build([Entry(b"data.envi", b"abc")], prepend=b"\xff\xd8\xff")

Defaults produce a valid stored archive that stdlib :mod:`zipfile` and the strict reader accept. Only the
standard library is used, so partners can craft cases for their own readers. Field values must fit their
on-disk width (``struct.error`` otherwise); 64-bit sizes and offsets go through ZIP64 automatically.

This module lays members out as an archive (:func:`build`, :func:`write`, :func:`quoted_overlap_bomb`); a
member's own records are packed by :class:`Entry` (in ``_zip_records.py``), the CRC-32 arithmetic is in
``_crc_combine.py``; import them from here.
"""

from __future__ import annotations

import functools
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import ParamSpec, TypeVar

from hsi_conform._atomic import AtomicFile
from hsi_conform.errors import InvalidArgumentError, OutputUnwritableError
from hsi_conform.testing._crc_combine import crc32_combine, crc32_zeros
from hsi_conform.testing._zip_records import (
    END_RECORD,
    LOCAL_HEADER,
    U16,
    U32,
    ZIP64_END_RECORD,
    ZIP64_LOCATOR,
    Entry,
)

__all__ = ["Entry", "build", "crc32_combine", "crc32_zeros", "quoted_overlap_bomb", "write"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

# A layout is a list of byte strings and hole lengths (runs of zero bytes, written sparsely by write()).
_Chunk = bytes | int


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
    if zip64 or count >= U16 or cd_start >= U32 or len(cd) >= U32:
        chunks.append(ZIP64_END_RECORD.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(cd), cd_start))
        chunks.append(ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, pos, 1))
        count, cd_len, cd_start = U16, U32, U32
    else:
        cd_len = len(cd)
    clen = len(comment) if comment_len is None else comment_len
    chunks += [END_RECORD.pack(b"PK\x05\x06", eocd_disk, 0, count, count, cd_len, cd_start, clen), comment, append]
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
        quote = b"\x00" + struct.pack("<HH", len(header), len(header) ^ U16)
        crc = crc32_combine(zlib.crc32(header), crc, usize)
        csize, usize = len(quote) + len(header) + csize, len(header) + usize
    body = bytearray()
    cd = bytearray()
    for i, header in enumerate(headers):
        _, _, _, _, _, _, h_crc, h_csize, h_usize, _, _ = LOCAL_HEADER.unpack_from(header)
        entry = Entry(str(i).encode(), method=8, crc=h_crc, csize=h_csize, usize=h_usize)
        cd += entry.central_header(len(body))
        body += header
        if i + 1 < n:
            body += b"\x00" + struct.pack("<HH", len(headers[i + 1]), len(headers[i + 1]) ^ U16)
    body += kernel
    eocd = END_RECORD.pack(b"PK\x05\x06", 0, 0, n, n, len(cd), len(body), 0)
    return bytes(body + cd + eocd)
