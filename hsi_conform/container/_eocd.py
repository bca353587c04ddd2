"""End records and central directory of the strict ZIP reader: EOCD scan, ZIP64 records, comment, CD records.

Private helper of :mod:`hsi_conform.container.zipread`.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO, TypeAlias, cast

from hsi_conform.remote.ranges import RangeReader, is_range_reader

from ._extra_field import U16_MAX, U32_MAX
from ._file_name import Problem
from ._records import ZipIssue, ZipLimits

__all__ = ["CD_SIG", "LFH_SIG", "TAIL", "BaseParser", "CdEntry", "End", "Source"]

#: One central-directory record as read: its offset, its fixed fields, its raw name and its raw extra field.
CdEntry: TypeAlias = tuple[int, tuple[int, ...], bytes, bytes]

LFH_SIG = b"PK\x03\x04"
EOCD_SIG = b"PK\x05\x06"
LOC64_SIG = b"PK\x06\x07"
EOCD64_SIG = b"PK\x06\x06"
CD_SIG = b"PK\x01\x02"

_EOCD = struct.Struct("<4s4H2LH")
_LOC64 = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_CDH = struct.Struct("<4s6H3L5H2L")
_TAIL = _EOCD.size + U16_MAX  # an EOCD plus the longest possible comment
TAIL = _TAIL
_EOCD_SIG_RX = re.compile(re.escape(EOCD_SIG))


@dataclass(frozen=True, slots=True, kw_only=True)
class End:
    """The end-record values the central directory is read with."""

    offset: int
    cd_offset: int
    cd_size: int
    entries: int
    cd_end: int  # where the central directory must end: the ZIP64 record or the EOCD
    comment: bytes
    zip64: bool
    regions: tuple[tuple[int, int], ...]
    located: bool = True  # False when ZIP64 sentinels could not be resolved: the directory is nowhere


class Source:
    """Bounded random access; reads past the end return short data instead of failing.

    Over a seekable file object or a :class:`~hsi_conform.remote.ranges.RangeReader`; a remote reader is asked to
    :meth:`prefetch` what the parser will read next, in one batch of requests (spec/remote.md#request-plan).
    A local file's tail (where the end records are searched: the last 65,557 bytes) is read in one read when the
    parser starts, and every later read inside it (the central directory; the whole of a small archive) is served
    from those bytes (spec/container.md#one-read-for-the-tail).
    """

    def __init__(self, f: BinaryIO | RangeReader) -> None:
        if is_range_reader(f):
            self._reader: RangeReader | None = f
            self.size = f.size()
        else:
            self._reader = None
            self._f = cast(BinaryIO, f)
            self.size = self._f.seek(0, os.SEEK_END)
        #: Whether reads cost requests (then the parser prefetches).
        self.remote = self._reader is not None and self._reader.remote
        self._tail_start = self.size
        self._tail = b""
        if not self.remote:
            start = max(0, self.size - _TAIL)
            self._tail = self._read(start, self.size - start)
            self._tail_start = start

    @property
    def tail(self) -> tuple[int, bytes]:
        """Where the tail read when the parser started begins, and its bytes (empty for a remote reader)."""
        return self._tail_start, self._tail

    def prefetch(self, ranges: Sequence[tuple[int, int]]) -> None:
        """Ask a remote reader for these ranges now (nothing happens for a local file)."""
        if self._reader is not None and self.remote:
            self._reader.prefetch(ranges)

    def read_at(self, offset: int, n: int) -> bytes:
        if offset < 0 or n <= 0 or offset >= self.size:
            return b""
        want = min(n, self.size - offset)
        if offset >= self._tail_start:
            at = offset - self._tail_start
            return self._tail[at : at + want]
        return self._read(offset, want)

    def _read(self, offset: int, want: int) -> bytes:
        if self._reader is not None:
            return self._reader.read(offset, want)
        self._f.seek(offset)
        parts: list[bytes] = []
        while want > 0:
            got = self._f.read(want)
            if not got:
                break
            parts.append(got)
            want -= len(got)
        return b"".join(parts)


class BaseParser:
    """Issue collection plus end-record parsing; the reader subclasses it."""

    def __init__(self, src: Source, limits: ZipLimits) -> None:
        self.src = src
        self.size = src.size
        self.limits = limits
        self.issues: list[ZipIssue] = []
        self.eocd_sigs: list[int] = []

    def add(self, code: str, message: str, *, member: str | None = None, offset: int | None = None) -> None:
        self.issues.append(ZipIssue(code=code, message=message, member=member, offset=offset))

    def add_all(self, problems: Iterable[Problem], *, member: str, offset: int) -> None:
        for code, message in problems:
            self.add(code, message, member=member, offset=offset)

    # -- end records ------------------------------------------------------------------------------------

    def find_eocd(self) -> tuple[int, tuple[int, ...]] | None:
        start = max(0, self.size - _TAIL)
        tail = self.src.read_at(start, self.size - start)
        # Every signature: the regular-expression engine's literal search is about twice as fast as a find loop over
        # the 64 KB tail, and the signature cannot overlap itself, so both find the same positions.
        self.eocd_sigs.extend(start + m.start() for m in _EOCD_SIG_RX.finditer(tail))
        complete = [
            (start + p, cast(tuple[int, ...], _EOCD.unpack_from(tail, p)))
            for p in (s - start for s in self.eocd_sigs)
            if p + _EOCD.size <= len(tail)
        ]
        if not complete:
            self._no_eocd(tail)
            return None
        return max(complete, key=lambda c: self._eocd_rank(c[0], c[1], tail, start))

    def _eocd_rank(self, pos: int, rec: tuple[int, ...], tail: bytes, start: int) -> tuple[bool, bool, int]:
        exact = pos + _EOCD.size + rec[7] == self.size
        loc = pos - start - _LOC64.size
        consistent = rec[6] + rec[5] == pos or (loc >= 0 and tail[loc : loc + 4] == LOC64_SIG)
        # Among records ending the file exactly, the earliest holds any later one in its comment.
        return exact, consistent, -pos if exact else pos

    def _no_eocd(self, tail: bytes) -> None:
        if self.eocd_sigs:
            self.add("truncated", "the end-of-central-directory record is cut off", offset=self.eocd_sigs[-1])
        elif self.src.read_at(0, 4) == LFH_SIG:
            self.add("no-eocd", "no end-of-central-directory record in the last 65,557 bytes")
        else:
            self.add("not-a-zip", "the file is not a ZIP archive", offset=0)

    def read_end(self, pos: int, rec: tuple[int, ...]) -> End | None:
        _, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, clen = rec
        comment = self.src.read_at(pos + _EOCD.size, clen)
        if len(comment) < clen:
            self.add("comment-length", "the comment length runs past the end of the file", offset=pos + 20)
        if comment:
            self.add("comment-present", "the archive has a comment", offset=pos + _EOCD.size)
        eocd_region = (pos, pos + _EOCD.size + len(comment))
        loc_pos = pos - _LOC64.size
        if self.src.read_at(loc_pos, 4) == LOC64_SIG:
            z = self._read_zip64(loc_pos, rec)
            if z is not None:
                z_off, n_total, cd_size, cd_offset = z
                regions = ((z_off, loc_pos + _LOC64.size), eocd_region)
                return End(
                    offset=pos,
                    cd_offset=cd_offset,
                    cd_size=cd_size,
                    entries=n_total,
                    cd_end=z_off,
                    comment=comment,
                    zip64=True,
                    regions=regions,
                )
        elif U16_MAX in (n_disk, n_total) or U32_MAX in (cd_size, cd_offset):
            self.add(
                "zip64-locator",
                "the end record uses ZIP64 sentinels but there is no ZIP64 locator",
                offset=pos,
            )
        if disk or cd_disk:
            self.add("multidisk", "the end record has non-zero disk numbers", offset=pos + 4)
        if n_disk != n_total:
            self.add("count-mismatch", "entries on this disk differ from the total entries", offset=pos + 8)
        return End(
            offset=pos,
            cd_offset=cd_offset,
            cd_size=cd_size,
            entries=n_total,
            cd_end=pos,
            comment=comment,
            zip64=False,
            regions=(eocd_region,),
            located=U32_MAX not in (cd_size, cd_offset),
        )

    def _read_zip64(self, loc_pos: int, rec: tuple[int, ...]) -> tuple[int, int, int, int] | None:
        _, z_disk, z_off, disks = _LOC64.unpack(self.src.read_at(loc_pos, _LOC64.size))
        if z_disk or disks > 1:
            self.add("multidisk", "the ZIP64 locator names another disk", offset=loc_pos + 4)
        raw = self.src.read_at(z_off, _EOCD64.size)
        if z_off + _EOCD64.size > loc_pos or len(raw) < _EOCD64.size or raw[:4] != EOCD64_SIG:
            self.add("zip64-locator", "the ZIP64 locator points to no ZIP64 end record", offset=loc_pos)
            return None
        _, rec_size, _, _, disk, cd_disk, n_disk, n_total, cd_size, cd_offset = _EOCD64.unpack(raw)
        if rec_size < _EOCD64.size - 12 or z_off + 12 + rec_size != loc_pos:
            self.add(
                "zip64-eocd", "the ZIP64 end record size does not reach the locator exactly", offset=z_off
            )
        if disk or cd_disk:
            self.add("multidisk", "the ZIP64 end record has non-zero disk numbers", offset=z_off + 16)
        if n_disk != n_total:
            self.add("count-mismatch", "ZIP64 entries on this disk differ from the total", offset=z_off + 24)
        pairs = (
            (rec[3], n_disk, U16_MAX),
            (rec[4], n_total, U16_MAX),
            (rec[5], cd_size, U32_MAX),
            (rec[6], cd_offset, U32_MAX),
            (rec[1], disk, U16_MAX),
            (rec[2], cd_disk, U16_MAX),
        )
        if any(classic not in (wide, sentinel) for classic, wide, sentinel in pairs):
            self.add("zip64-eocd", "the classic end record disagrees with the ZIP64 end record", offset=z_off)
        return z_off, n_total, cd_size, cd_offset

    # -- central directory ------------------------------------------------------------------------------

    def read_cd(self, end: End) -> list[CdEntry] | None:
        if end.cd_size > self.limits.max_cd_size:
            self.add(
                "cd-too-large", f"the central directory is {end.cd_size} bytes long", offset=end.cd_offset
            )
            return None
        if end.cd_offset > self.size or end.cd_offset + end.cd_size > end.cd_end:
            self.add("cd-bounds", "the central directory runs past the end records", offset=end.offset)
        cd = self.src.read_at(end.cd_offset, end.cd_size)
        entries: list[CdEntry] = []
        pos = 0
        while pos < len(cd) and len(entries) < self.limits.max_entries:
            head, rec_end = self._cd_record(cd, pos, end.cd_offset)
            if head is None:
                break
            name_end = pos + _CDH.size + head[10]
            entries.append(
                (
                    end.cd_offset + pos,
                    head,
                    cd[pos + _CDH.size : name_end],
                    cd[name_end : name_end + head[11]],
                )
            )
            pos = rec_end
        if not entries and (end.cd_size or end.entries):
            if pos >= len(cd):
                self.add("cd-bounds", "no central directory at the declared offset", offset=end.cd_offset)
            return None
        # Judge the directory actually present, not the (possibly lying) declared count.
        if pos < len(cd) and len(entries) == self.limits.max_entries:
            self.add("too-many-entries", f"more than {self.limits.max_entries} entries", offset=end.cd_offset)
        elif len(entries) != end.entries:
            self.add(
                "count-mismatch",
                f"the end record counts {end.entries} entries, the directory has {len(entries)}",
                offset=end.offset,
            )
        return entries

    def _cd_record(self, cd: bytes, pos: int, base: int) -> tuple[tuple[int, ...] | None, int]:
        if pos + _CDH.size > len(cd) or cd[pos : pos + 4] != CD_SIG:
            self.add("cd-bounds", "no central-directory record where one is expected", offset=base + pos)
            return None, pos
        head = cast(tuple[int, ...], _CDH.unpack_from(cd, pos))
        rec_end = pos + _CDH.size + head[10] + head[11] + head[12]
        if rec_end > len(cd):
            self.add("cd-bounds", "a central-directory record runs past the directory", offset=base + pos)
            return None, pos
        return head, rec_end
