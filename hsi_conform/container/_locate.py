"""Where each member's data is, without judging the archive: ``open``'s locating pass (spec/container.md#lazy-open).

Private helper of :mod:`hsi_conform.container.reader`. It reads what the strict reader
(:mod:`hsi_conform.container.zipread`) reads to place the members and nothing more: the end records (chosen by
the same code), the central directory, and one read of each local header, whose lengths give the data offset
(never the central directory's). It makes none of the judgements (names, extra fields, coverage, overlaps,
stray end records, data descriptors): those are the strict reader's, run when the structure is first asked for.
For every archive the members it places equal what :func:`read_zip_structure` places (a test compares both over
the hostile corpus).

The end record is usually the file's last 22 bytes and the only end-record signature in the tail: then the
strict reader's ranking has nothing to rank and picks it, so the signatures are not collected and ranked
(spec/container.md#sole-end-record). The file is read by ``pread`` through the container's descriptor.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from ._eocd import _EOCD, EOCD_SIG, LFH_SIG, TAIL, BaseParser, Source
from ._extra_field import U16_MAX, U32_MAX, parse_extra, resolve_zip64
from ._file_name import decode_name
from ._records import ZipLimits
from .source import SourceFile

__all__ = ["Located", "locate_members"]

_LFH_LENGTHS = struct.Struct("<4s22xHH")  # signature, then the name and extra-field lengths of a local header
_LFH_SIZE = 30


class Located(NamedTuple):
    """One member as placed: the first readable central-directory entry of its name."""

    name: str
    data_offset: int
    size: int
    stored: bool


class _LocalTail(Source):
    """The strict reader's :class:`Source` over an opened local file: its tail read by one ``pread``.

    It reads what ``Source`` reads, as ``Source`` reads a :class:`SourceFile` (``pread``), without the
    runtime-protocol check of a ranged reader (spec/remote.md#interface), which costs more than the reads.
    """

    def __init__(self, source: SourceFile) -> None:  # the state of Source.__init__ for a local reader
        self._reader = source
        self.size = source.size()
        self.remote = False
        self._tail_start = max(0, self.size - TAIL)
        self._tail = source.read(self._tail_start, self.size - self._tail_start)

    def sole_end_record(self) -> tuple[int, tuple[int, ...]] | None:
        """Return the end record the strict reader picks when it is the tail's only complete one, else None.

        ``BaseParser.find_eocd`` ranks every end-record signature of the tail with 22 bytes after it; a
        signature cannot overlap another, so none lies in the last record's first four bytes, and one that
        starts inside the last 22 bytes is not complete. With no signature before the last 22 bytes there is
        nothing to rank (spec/container.md#sole-end-record).
        """
        tail, last = self._tail, len(self._tail) - _EOCD.size
        if last < 0 or tail[last : last + 4] != EOCD_SIG or tail.rfind(EOCD_SIG, 0, last) != -1:
            return None
        return self._tail_start + last, tuple(_EOCD.unpack_from(tail, last))


def locate_members(source: SourceFile, limits: ZipLimits) -> list[Located] | None:
    """Return the members of an archive by the strict reader's placement, or ``None`` when it is fatal.

    ``None`` means what ``ZipStructure.fatal`` means (no end record, no usable central directory); the caller
    then runs the strict reader for its issue codes. Each name is placed by its first central-directory entry
    whose local header is readable, as the container does with the strict reader's members; entries past
    ``limits.max_entries`` are not read, as there.

    Raises:
        OSError: On an I/O error.
    """
    src = _LocalTail(source)
    parser = BaseParser(src, limits)
    found = src.sole_end_record() or parser.find_eocd()
    end = parser.read_end(*found) if found is not None else None
    entries = parser.read_cd(end) if end is not None and end.located else None
    if end is None or entries is None:
        return None
    placed: dict[str, Located] = {}
    for _, head, name_raw, extra in entries:
        name = decode_name(name_raw, head[3])[0]
        if name in placed:
            continue  # a duplicate: the first readable entry of a name is the member
        usize, csize, lho = head[9], head[8], head[16]
        if U32_MAX in (usize, csize, lho) or head[13] == U16_MAX:
            (usize, csize, lho, _), _ = resolve_zip64(parse_extra(extra)[0], [usize, csize, lho, head[13]],
                                                      [U32_MAX, U32_MAX, U32_MAX, U16_MAX])
        offset = _data_offset(src, lho)
        if offset is not None:
            stored = head[4] == 0 and not head[3] & 0x41 and csize == usize
            placed[name] = Located(name, offset, csize, stored)
    return list(placed.values())


def _data_offset(src: Source, lho: int) -> int | None:
    """Return the first data byte after the local header at ``lho``, or ``None`` when it is missing or cut off."""
    raw = src.read_at(lho, _LFH_SIZE)
    if len(raw) < _LFH_SIZE:
        return None
    sig, nlen, xlen = _LFH_LENGTHS.unpack(raw)
    end = lho + _LFH_SIZE + nlen + xlen
    return end if sig == LFH_SIG and end <= src.size else None
