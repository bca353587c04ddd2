"""The records of one ZIP member as zipcraft writes them: its local file header and central directory header.

An :class:`Entry` holds every field of both records (APPNOTE 4.3.7 and 4.3.12) independently, each defaulting
to the value consistent with the payload, and packs them, with a ZIP64 extended-information extra field where a
size or an offset needs 64 bits. The layouts of the end records are here too, so that every record layout is
in one place; :mod:`hsi_conform.testing.zipcraft` lays the records out as an archive and exports :class:`Entry`.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import KW_ONLY, dataclass

from hsi_conform.testing._crc_combine import crc32_zeros

__all__ = ["CENTRAL_HEADER", "END_RECORD", "LOCAL_HEADER", "U16", "U32", "ZIP64_END_RECORD", "ZIP64_LOCATOR",
           "Entry"]

#: Local file header (APPNOTE 4.3.7), name and extra field following.
LOCAL_HEADER = struct.Struct("<4s5H3L2H")
#: Central directory file header (APPNOTE 4.3.12), name, extra field and comment following.
CENTRAL_HEADER = struct.Struct("<4s6H3L5H2L")
#: End of central directory record (APPNOTE 4.3.16), comment following.
END_RECORD = struct.Struct("<4s4H2LH")
#: ZIP64 end of central directory record (APPNOTE 4.3.14), without the extensible data sector.
ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")
#: ZIP64 end of central directory locator (APPNOTE 4.3.15).
ZIP64_LOCATOR = struct.Struct("<4sLQL")
#: The largest 16-bit and 32-bit field values; a field at its largest defers to ZIP64.
U16 = 0xFFFF
U32 = 0xFFFFFFFF
_DOS_TIME = 0
_DOS_DATE = (1 << 5) | 1  # 1980-01-01
_FLAG_UTF8 = 0x800
_FLAG_DESCRIPTOR = 0x008


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
        sparse: Number of zero bytes following ``data`` in the payload (a hole when written by
            :func:`~hsi_conform.testing.zipcraft.write`).
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
        return self.zip64 or self.real_csize >= U32 or self.real_usize >= U32

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
            csize = usize = U32
        name = self.name_bytes if self.l_name is None else self.l_name
        version = _pick(self.l_version_needed, self._version())
        method = _pick(self.l_method, self.method)
        head = LOCAL_HEADER.pack(
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
            csize = usize = U32
        if offset >= U32:
            wide.append(offset)
            offset = U32
        extra = (struct.pack(f"<HH{len(wide)}Q", 1, 8 * len(wide), *wide) if wide else b"") + self.extra
        attr = self.external_attr
        if attr is None:
            attr = (0o040755 << 16) | 0x10 if self.name_bytes.endswith(b"/") else 0o100644 << 16
        name = self.name_bytes
        head = CENTRAL_HEADER.pack(
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
