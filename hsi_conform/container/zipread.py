"""Strict, stdlib-only structural ZIP reader.

Stdlib :mod:`zipfile` is a reader, not a validator: it accepts prefixes, trailing bytes, lying sizes,
local/central disagreement and duplicates (spec/container.md#structure). :func:`read_zip_structure` parses the end
records, the central directory and every local header itself, accounts for every byte of the file and turns
each deviation into a :class:`ZipIssue` with a stable code from :data:`ISSUE_CODES`. It never raises on
malformed bytes; only real I/O errors (:class:`OSError`) escape. :func:`iter_member_crc` then streams each
member's stored bytes once for CRC-32 verification, which memory-mapping readers skip.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from operator import itemgetter
from typing import BinaryIO, Protocol, TypeAlias, cast

from hsi_conform._crc32 import crc32
from hsi_conform.members import DATA_SUFFIX as _DATA_SUFFIX
from hsi_conform.remote.ranges import RangeReader, is_range_reader

from ._eocd import LFH_SIG, TAIL, BaseParser, CdEntry, End, Source
from ._extra_field import (
    U16_MAX,
    U32_MAX,
    ZIP64_EXTRA,
    member_problems,
    parse_extra,
    resolve_zip64,
    unicode_path_problem,
)
from ._file_name import NameIndex, check_name, decode_name
from ._records import ISSUE_CODES, ZipIssue, ZipLimits, ZipMember, ZipStructure

__all__ = [
    "DEFAULT_LIMITS",
    "ISSUE_CODES",
    "ZipIssue",
    "ZipLimits",
    "ZipMember",
    "ZipStructure",
    "iter_member_crc",
    "read_zip_structure",
]

DD_SIG = b"PK\x07\x08"

_LFH = struct.Struct("<4s5H3L2H")
_FLAG_DESCRIPTOR = 0x0008
#: The default policy limits of :func:`read_zip_structure`.
DEFAULT_LIMITS = ZipLimits()
_LFH_COMPARED_FLAGS = 0x0009  # encryption and data-descriptor bits must agree
# Remote reads (spec/remote.md#request-plan): the first request covers the longest EOCD comment plus this much
# (a central directory of a few hundred members); members up to _SMALL_MEMBER bytes (headers, CSV, JPEG), up to
# _SMALL_TOTAL in all, come with their local headers because the checks read them next.
_TAIL_EXTRA = 64 << 10
_REMOTE_CHUNK = 4 << 20  # the CRC pass's requests: small enough that a cube is several, fetched in parallel
_PADDING_GUESS = 4096 + 6  # the writer's alignment extra field: a 6-byte head and up to 4095 bytes of padding
_SMALL_MEMBER = 64 << 10
_SMALL_TOTAL = 1 << 20


#: One accounted byte range: start, end, kind ("member", "cd" or "end") and the member it belongs to.
_Region: TypeAlias = tuple[int, int, str, "ZipMember | None"]
_START_END = itemgetter(0, 1)


class _Parser(BaseParser):
    # -- members ----------------------------------------------------------------------------------------

    def build_member(
        self, index: int, central: int, head: tuple[int, ...], name_raw: bytes, extra: bytes, end: End
    ) -> ZipMember:
        _, made, needed, flags, method, _, _, crc, csize, usize, _, _, _, disk, _, attr, lho = head
        name, problems = decode_name(name_raw, flags)
        self.add_all(problems, member=name, offset=central)
        blocks, ok = parse_extra(extra)
        z_ok = True
        if U32_MAX in (usize, csize, lho) or disk == U16_MAX:  # no sentinel, nothing to resolve
            (usize, csize, lho, disk), z_ok = resolve_zip64(
                blocks, [usize, csize, lho, disk], [U32_MAX, U32_MAX, U32_MAX, U16_MAX]
            )
        if not (ok and z_ok):
            self.add(
                "extra-corrupt", "the central-directory extra field is malformed", member=name, offset=central
            )
        if disk:
            self.add("multidisk", "the member starts on another disk", member=name, offset=central)
        data_offset, local_extra, local_blocks = self._read_local(name, name_raw, head, (crc, csize, usize), lho)
        member = ZipMember(
            index=index,
            name=name,
            name_bytes=name_raw,
            method=method,
            flags=flags,
            crc=crc,
            compressed_size=csize,
            uncompressed_size=usize,
            version_made_by=made,
            version_needed=needed,
            external_attr=attr,
            central_offset=central,
            local_header_offset=lho,
            data_offset=data_offset,
            extra=extra,
            local_extra=local_extra,
        )
        self.add_all(member_problems(member), member=name, offset=central)
        upath = unicode_path_problem(blocks, name) or unicode_path_problem(local_blocks, name)
        if upath is not None:
            self.add_all([upath], member=name, offset=central)
        limit = min(end.cd_offset, self.size)
        if data_offset is not None and data_offset + csize > limit:
            self.add(
                "data-bounds",
                "the member data runs past the central directory or the file",
                member=name,
                offset=data_offset,
            )
        return member

    def _read_local(
        self, name: str, name_raw: bytes, head: tuple[int, ...], cd_vals: tuple[int, int, int], lho: int
    ) -> tuple[int | None, bytes | None, dict[int, bytes]]:
        raw = self.src.read_at(lho, _LFH.size)
        if len(raw) < _LFH.size or raw[:4] != LFH_SIG:
            self.add("lfh-missing", "no local file header at the declared offset", member=name, offset=lho)
            return None, None, {}
        _, _, lflags, lmethod, _, _, lcrc, lcsize, lusize, nlen, xlen = _LFH.unpack(raw)
        # The name and the extra field are contiguous: one read, short exactly when either part would be.
        rest = self.src.read_at(lho + _LFH.size, nlen + xlen)
        if len(rest) < nlen + xlen:
            self.add(
                "lfh-missing",
                "the local file header is cut off by the end of the file",
                member=name,
                offset=lho,
            )
            return None, None, {}
        if rest[:nlen] != name_raw:
            self.add("lfh-name-mismatch", "the local header names another member", member=name, offset=lho)
        lextra = rest[nlen:]
        blocks, ok = parse_extra(lextra)
        z_ok = True
        if U32_MAX in (lusize, lcsize):
            (lusize, lcsize), z_ok = resolve_zip64(blocks, [lusize, lcsize], [U32_MAX, U32_MAX])
        if not (ok and z_ok):
            self.add("extra-corrupt", "the local extra field is malformed", member=name, offset=lho)
        flags, method = head[3], head[4]
        differs = lmethod != method or (lflags ^ flags) & _LFH_COMPARED_FLAGS
        if not (flags | lflags) & _FLAG_DESCRIPTOR and (lcrc, lcsize, lusize) != cd_vals:
            differs = True
        if differs:
            self.add(
                "lfh-mismatch",
                "the local header disagrees with the central directory",
                member=name,
                offset=lho,
            )
        return lho + _LFH.size + nlen + xlen, lextra, blocks

    def descriptor_length(self, member: ZipMember) -> int:
        """Length of the data descriptor after a bit-3 member (checked against the directory)."""
        if not member.flags & _FLAG_DESCRIPTOR or member.data_end is None:
            return 0
        wide = ZIP64_EXTRA in parse_extra(member.local_extra or b"")[0]
        width = 8 if wide else 4
        raw = self.src.read_at(member.data_end, 4 + 4 + 2 * width)
        skip = 4 if raw[:4] == DD_SIG else 0
        if len(raw) < skip + 4 + 2 * width:
            self.add(
                "data-bounds",
                "the data descriptor runs past the end of the file",
                member=member.name,
                offset=member.data_end,
            )
            return 0
        crc = int.from_bytes(raw[skip : skip + 4], "little")
        csize = int.from_bytes(raw[skip + 4 : skip + 4 + width], "little")
        usize = int.from_bytes(raw[skip + 4 + width : skip + 4 + 2 * width], "little")
        if (crc, csize, usize) != (member.crc, member.compressed_size, member.uncompressed_size):
            self.add(
                "lfh-mismatch",
                "the data descriptor disagrees with the central directory",
                member=member.name,
                offset=member.data_end,
            )
        return skip + 4 + 2 * width

    # -- archive-level accounting ------------------------------------------------------------------------

    def coverage(self, members: list[ZipMember], end: End) -> None:
        limit = min(end.cd_offset, self.size)
        # Plain tuples (start, end, kind, member), sorted on (start, end) only: the sort is stable, as it was.
        regions: list[_Region] = [(s, e, "end", None) for s, e in end.regions]
        regions.append((end.cd_offset, end.cd_offset + end.cd_size, "cd", None))
        for m in members:
            data_end = m.data_end
            if data_end is not None and m.local_header_offset < limit:
                stop = min(data_end + self.descriptor_length(m), limit)
                regions.append((m.local_header_offset, stop, "member", m))
        regions.sort(key=_START_END)
        cursor = 0
        previous: _Region | None = None
        for r in regions:
            start, stop, _, member = r
            if start > cursor:
                self._hole(cursor, previous, r)
            elif start < cursor and member is not None:
                self.add("overlap", "the member shares bytes with an earlier record", member=member.name, offset=start)
            if stop > cursor:
                cursor = stop
            previous = r
        if cursor < self.size:
            self.add("trailing-data", f"{self.size - cursor} bytes after the end record", offset=cursor)

    def _hole(self, cursor: int, previous: _Region | None, region: _Region) -> None:
        if previous is None:
            self.add("prefix-data", f"{region[0]} bytes before the first record", offset=0)
        elif previous[2] == "cd" and region[2] == "end":
            self.add(
                "cd-bounds", "stray bytes between the central directory and the end records", offset=cursor
            )
        else:
            self.add("gap", f"{region[0] - cursor} bytes belong to no record", offset=cursor)

    def stray_eocds(self, members: list[ZipMember], chosen: int) -> None:
        spans = [
            (m.data_offset, m.data_end)
            for m in members
            if m.data_offset is not None and m.data_end is not None
        ]
        for sig in self.eocd_sigs:
            # A nested ZIP stored as a member is not ambiguous: no reader looks for end records inside data.
            if sig != chosen and not any(s <= sig and sig + 4 <= e <= self.size for s, e in spans):
                self.add("multiple-eocd", "another end-of-central-directory signature", offset=sig)

    def names(self, members: list[ZipMember]) -> None:
        index = NameIndex(max_depth=self.limits.max_name_depth)
        for m in members:
            problems = check_name(
                m.name,
                m.name_bytes,
                max_name_bytes=self.limits.max_name_bytes,
                max_component_bytes=self.limits.max_component_bytes,
                max_name_depth=self.limits.max_name_depth,
            )
            self.add_all(problems + index.add(m.name), member=m.name, offset=m.central_offset)


def _prefetch_tail(src: Source) -> None:
    """Fetch the end records, the ZIP64 records and a central directory of up to 64 KiB in one request."""
    src.prefetch([(max(0, src.size - TAIL - _TAIL_EXTRA), src.size)])


def _prefetch_members(src: Source, entries: list[CdEntry]) -> None:
    """Fetch every local header, and the data of small members other than ENVI data, in one batch (rarely two).

    The batch guesses each local header's length from its central record, plus room for the alignment padding
    of ENVI data members (spec/container.md#zero-copy); a second batch fetches what longer real headers add.
    """
    wanted: list[tuple[int, int, int]] = []  # local header offset, guessed header length, small data size
    small_total = 0
    for _, head, name, extra in entries:
        (csize, lho), _ = resolve_zip64(parse_extra(extra)[0], [head[8], head[16]], [U32_MAX, U32_MAX])
        envi = name.endswith(_DATA_SUFFIX.encode())
        small = csize if csize <= _SMALL_MEMBER and not envi else 0
        small = small if small_total + small <= _SMALL_TOTAL else 0
        small_total += small
        wanted.append((lho, _LFH.size + len(name) + len(extra) + (_PADDING_GUESS if envi else 0), small))
    src.prefetch([(lho, lho + length + small) for lho, length, small in wanted])
    more = []
    for lho, length, small in wanted:
        raw = src.read_at(lho, _LFH.size)
        if len(raw) == _LFH.size and raw[:4] == LFH_SIG:
            nlen, xlen = struct.unpack_from("<2H", raw, 26)
            if _LFH.size + nlen + xlen > length:
                more.append((lho + length, lho + _LFH.size + nlen + xlen + small))
    src.prefetch(more)


def _parse(src: Source, limits: ZipLimits) -> ZipStructure:
    p = _Parser(src, limits)
    if src.remote:
        _prefetch_tail(src)
    found = p.find_eocd()
    end = p.read_end(*found) if found is not None else None
    entries = p.read_cd(end) if end is not None and end.located else None
    if entries and src.remote:
        _prefetch_members(src, entries)
    if end is None or entries is None:
        if end is not None:
            p.stray_eocds([], end.offset)
        return ZipStructure(
            size=src.size,
            members=(),
            issues=tuple(p.issues),
            comment=end.comment if end else b"",
            zip64=bool(end and end.zip64),
            eocd_offset=end.offset if end else None,
            cd_offset=end.cd_offset if end else None,
            cd_size=end.cd_size if end else None,
            fatal=True,
        )
    members = [
        p.build_member(i, off, head, name, extra, end) for i, (off, head, name, extra) in enumerate(entries)
    ]
    p.names(members)
    if not any(i.code == "too-many-entries" for i in p.issues):
        p.coverage(members, end)
    p.stray_eocds(members, end.offset)
    tail_offset, tail = src.tail
    return ZipStructure(
        size=src.size,
        members=tuple(members),
        issues=tuple(p.issues),
        comment=end.comment,
        zip64=end.zip64,
        eocd_offset=end.offset,
        cd_offset=end.cd_offset,
        cd_size=end.cd_size,
        fatal=False,
        tail=tail,
        tail_offset=tail_offset,
    )


def read_zip_structure(
    source: str | os.PathLike[str] | BinaryIO | RangeReader, *, limits: ZipLimits = DEFAULT_LIMITS
) -> ZipStructure:
    """Read the structure of a ZIP archive strictly, reporting every deviation as an issue.

    A remote :class:`~hsi_conform.remote.ranges.RangeReader` is read by the request plan of
    spec/remote.md#request-plan: the tail in one request (a second one for a central directory that does not fit),
    then the local headers in two parallel batches; the issues are those of a local copy.

    Args:
        source: A path, a seekable binary file object (left open, position changed) or a ranged reader.
        limits: Policy limits (entries, name lengths, central-directory size).

    Returns:
        The structure. ``fatal`` is set when no usable central directory could be read.

    Raises:
        OSError: On a real I/O error (missing, unreadable or unseekable source). Malformed bytes never raise.
    """
    if is_range_reader(source):
        return _parse(Source(source), limits)
    with ExitStack() as stack:
        if isinstance(source, str | os.PathLike):
            f: BinaryIO = stack.enter_context(open(source, "rb"))
        else:
            f = cast(BinaryIO, source)
        return _parse(Source(f), limits)


class _ReadInto(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...


def _crc_range(f: BinaryIO, view: memoryview, start: int, length: int) -> int:
    reader = cast(_ReadInto, f) if hasattr(f, "readinto") else None
    f.seek(start)
    crc = 0
    remaining = length
    while remaining > 0:
        n = min(remaining, len(view))
        with view[:n] as part:
            if reader is not None:
                got = reader.readinto(part) or 0
            else:
                data = f.read(n)
                got = len(data)
                part[:got] = data
            if got <= 0:
                break  # the file shrank since it was parsed; the partial CRC will not match
            with part[:got] as filled:
                crc = crc32(filled, crc)
        remaining -= got
    return crc


def iter_member_crc(
    path_or_file: str | os.PathLike[str] | BinaryIO | RangeReader,
    structure: ZipStructure,
    members: Iterable[ZipMember] | None = None,
    *,
    chunk: int = 8 << 20,
) -> Iterator[tuple[ZipMember, int]]:
    """Stream each member's stored bytes once and yield its computed CRC-32, reading each byte of the file once.

    Members whose data offset is unknown or whose data lies outside the file are skipped (they already carry
    ``lfh-missing`` or ``data-bounds`` issues), and so is every member whose data shares bytes with a member that
    starts earlier (it carries an ``overlap`` issue): thousands of entries pointing at one region cost one read
    of the region, never one per entry, so the bytes read never exceed the file size. A path, or a file object
    with a descriptor, is memory-mapped (through that descriptor); other file objects are read into one reusable
    page-aligned anonymous mapping. A remote :class:`~hsi_conform.remote.ranges.RangeReader` is streamed in
    ``chunk``-sized ranges, a few of them fetched ahead in parallel: each byte is fetched once
    (spec/remote.md#crc).

    Args:
        path_or_file: The archive the structure was read from (a path, a seekable binary file object or a
            ranged reader).
        structure: Its structure from :func:`read_zip_structure`.
        members: Members to check, in this order; all members by default.
        chunk: Read size in bytes.

    Yields:
        ``(member, crc32 of its stored bytes)``; compare with ``member.crc``.

    Raises:
        ValueError: If ``chunk`` is not positive.
        OSError: On an I/O error.
    """
    if chunk <= 0:
        raise ValueError("chunk must be positive")
    todo = _disjoint(structure.members if members is None else members, structure.size)
    if isinstance(path_or_file, RangeReader):
        fd = None if path_or_file.remote else _fileno(path_or_file)
        if fd is not None and structure.size > 0:
            yield from _iter_crc_mapped(fd, structure, todo, max(chunk, 64 << 20))
        else:
            yield from _iter_crc_ranged(path_or_file, todo, min(chunk, _REMOTE_CHUNK))
        return
    # Mapping the file avoids copying every byte into a buffer first: CRC at crc32-over-memmap speed. A file
    # object is mapped through its own descriptor, so the bytes are those of the file the structure came from.
    if isinstance(path_or_file, str | os.PathLike):
        if structure.size > 0:
            with open(path_or_file, "rb", buffering=0) as opened:
                yield from _iter_crc_mapped(opened.fileno(), structure, todo, max(chunk, 64 << 20))
            return
    else:
        fd = _fileno(path_or_file)
        if fd is not None and structure.size > 0:
            yield from _iter_crc_mapped(fd, structure, todo, max(chunk, 64 << 20))
            return
    with ExitStack() as stack:
        if isinstance(path_or_file, str | os.PathLike):
            f: BinaryIO = stack.enter_context(open(path_or_file, "rb", buffering=0))
        else:
            f = path_or_file
        buf = stack.enter_context(mmap.mmap(-1, chunk))
        view = stack.enter_context(memoryview(buf))
        for m in todo:
            if m.data_offset is None or m.data_end is None or m.data_end > structure.size:
                continue
            yield m, _crc_range(f, view, m.data_offset, m.compressed_size)


def _disjoint(members: Iterable[ZipMember], size: int) -> list[ZipMember]:
    """Keep, in the given order, the members with data inside the file that share no byte with an earlier one."""
    inside = [m for m in members if m.data_offset is not None and m.data_end is not None and m.data_end <= size]
    keep: set[int] = set()
    end = 0
    for m in sorted(inside, key=lambda m: (m.data_offset or 0, m.data_end or 0, m.index)):
        start, stop = m.data_offset or 0, m.data_end or 0
        if start >= end or start == stop:  # empty members share nothing
            keep.add(id(m))
            end = max(end, stop)
    return [m for m in inside if id(m) in keep]


def _fileno(f: object) -> int | None:
    try:
        fd = f.fileno()  # type: ignore[attr-defined]
    except (OSError, ValueError, AttributeError):  # an in-memory file object
        return None
    return fd if isinstance(fd, int) else None


def _iter_crc_ranged(reader: RangeReader, todo: list[ZipMember], chunk: int) -> Iterator[tuple[ZipMember, int]]:
    """Stream every member through the reader in ``chunk``-sized ranges, in order, each byte fetched once."""
    stream = reader.iter_ranges((start, min(start + chunk, m.data_end or 0)) for m in todo
                                for start in range(m.data_offset or 0, m.data_end or 0, chunk))
    for m in todo:
        crc = 0
        for _ in range(m.data_offset or 0, m.data_end or 0, chunk):
            crc = crc32(next(stream), crc)
        yield m, crc


def _iter_crc_mapped(fd: int, structure: ZipStructure, todo: list[ZipMember],
                     chunk: int) -> Iterator[tuple[ZipMember, int]]:
    with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped:
        size = len(mapped)
        with memoryview(mapped) as view:
            for m in todo:
                if m.data_offset is None or m.data_end is None or m.data_end > min(size, structure.size):
                    continue
                crc = 0
                for start in range(m.data_offset, m.data_end, chunk):
                    with view[start : min(start + chunk, m.data_end)] as part:
                        crc = crc32(part, crc)
                yield m, crc
