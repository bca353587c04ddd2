"""Value objects and the issue-code vocabulary of the strict ZIP reader.

The public names are re-exported by :mod:`hsi_conform.container.zipread`; import them from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hsi_conform.limits import Limits as ZipLimits  # the ZIP reader's limits live with all the others

__all__ = ["ISSUE_CODES", "ZipIssue", "ZipLimits", "ZipMember", "ZipStructure"]

#: Every detection code the ZIP layer can emit, mapped to a one-line description (read by the rule registry).
ISSUE_CODES: dict[str, str] = {
    # archive-level structure
    "not-a-zip": "the file has no ZIP signature and no end-of-central-directory record",
    "no-eocd": "no end-of-central-directory record in the last 65,557 bytes",
    "truncated": "the end-of-central-directory record is cut off by the end of the file",
    "multiple-eocd": "more than one end-of-central-directory signature outside member data",
    "comment-length": "the archive comment length runs past the end of the file",
    "comment-present": "the archive has a non-empty comment",
    "multidisk": "disk-number fields are non-zero (multi-disk/spanned archive)",
    "count-mismatch": "the entry counts in the end records disagree with the central directory",
    "cd-bounds": "the central directory is not where the end records say, or is followed by stray bytes",
    "cd-too-large": "the central directory is larger than the configured limit",
    "zip64-locator": "the ZIP64 end locator is missing, malformed or points to no ZIP64 record",
    "zip64-eocd": "the ZIP64 end record is malformed or disagrees with the classic end record",
    "prefix-data": "bytes before the first local header (polyglot or self-extractor prefix)",
    "trailing-data": "bytes after the end-of-central-directory record and its comment",
    "gap": "bytes between records that belong to no member",
    "overlap": "two members (or a member and another record) share bytes",
    "too-many-entries": "more central-directory entries than the configured limit",
    # local header versus central directory
    "lfh-missing": "no readable local file header at the offset the central directory gives",
    "lfh-name-mismatch": "the local header name differs from the central-directory name",
    "lfh-mismatch": (
        "local header (or data descriptor) method, flags, CRC or sizes differ from the central directory"
    ),
    # member content
    "compressed": "the member is not stored (method is not 0)",
    "stored-size": "a stored member whose compressed and uncompressed sizes differ",
    "encrypted": "the member is encrypted (flag bit 0 or 6, or method 99)",
    "patched-data": "the member uses patched data (flag bit 5)",
    "data-descriptor": "the member uses a data descriptor (flag bit 3)",
    "version-needed": "version needed to extract is above 4.5",
    "extra-corrupt": "an extra field block is malformed, duplicated or lacks required ZIP64 values",
    "unicode-path-extra": "a 0x7075 Unicode Path extra field names something other than the member name",
    "data-bounds": "the member data runs past the start of the central directory or the end of the file",
    "dir-with-data": "a directory entry carries data",
    "special-file": "a Unix mode marks the member as a symlink, FIFO, device or socket",
    "setuid": "a Unix mode sets the setuid or setgid bit",
    # member names
    "name-traversal": "a path component is '..'",
    "name-absolute": "the name starts with '/'",
    "name-backslash": "the name contains a backslash",
    "name-drive": "the name starts with a drive letter or a UNC prefix",
    "name-control": "the name contains a NUL or another control character",
    "name-empty": "the name is empty or has an empty or '.' component",
    "name-too-long": "the name is longer than the configured byte limit",
    "name-component-too-long": "a path component is longer than the configured byte limit",
    "name-too-deep": "the name has more path components than the configured limit",
    "name-reserved": "a component is a Windows-reserved name or ends in a dot or space",
    "name-nonportable": 'the name contains one of : < > | " ? *',
    "name-nonascii-noflag": "a non-ASCII name without the UTF-8 flag (bit 11)",
    "name-encoding": "the UTF-8 flag is set but the name is not valid UTF-8",
    "name-not-nfc": "the name is not in Unicode normalization form C",
    "duplicate-name": "two members have the same name",
    "name-case-collision": "two names differ only in ASCII letter case",
    "name-unicode-collision": "two names collide after NFC normalization and case folding",
    "file-dir-conflict": "a file name is also used as a directory",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ZipIssue:
    """One structural problem found in an archive.

    Attributes:
        code: Stable kebab-case detection code, a key of ``ISSUE_CODES``.
        message: Human sentence about this instance.
        member: Decoded member name when the issue concerns one member.
        offset: Byte offset in the archive where the offending record or field starts.
    """

    code: str
    message: str
    member: str | None = None
    offset: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ZipMember:
    """One central-directory entry, with values resolved against ZIP64 extras and its local header.

    Attributes:
        index: Position in the central directory.
        name: Decoded name (UTF-8 if bit 11 or pure ASCII, else cp437; invalid UTF-8 becomes U+FFFD).
        name_bytes: Raw central-directory name.
        method: Compression method.
        flags: General-purpose bit flags (central directory).
        crc: CRC-32 from the central directory.
        compressed_size: Compressed size (ZIP64 resolved).
        uncompressed_size: Uncompressed size (ZIP64 resolved).
        version_made_by: Raw "version made by" field (high byte: creating system).
        version_needed: Raw "version needed to extract" field.
        external_attr: External file attributes.
        central_offset: Offset of the central-directory record.
        local_header_offset: Offset of the local file header (ZIP64 resolved).
        data_offset: First data byte, from the LOCAL header lengths; ``None`` if that header is unreadable.
        extra: Central-directory extra field bytes.
        local_extra: Local-header extra field bytes; ``None`` if the local header is unreadable.
    """

    index: int
    name: str
    name_bytes: bytes
    method: int
    flags: int
    crc: int
    compressed_size: int
    uncompressed_size: int
    version_made_by: int
    version_needed: int
    external_attr: int
    central_offset: int
    local_header_offset: int
    data_offset: int | None
    extra: bytes
    local_extra: bytes | None

    @property
    def is_dir(self) -> bool:
        """Whether the name ends with ``/``."""
        return self.name.endswith("/")

    @property
    def unix_mode(self) -> int | None:
        """The Unix ``st_mode`` from the external attributes, or ``None`` unless made on Unix."""
        if self.version_made_by >> 8 != 3:
            return None
        return self.external_attr >> 16

    @property
    def data_end(self) -> int | None:
        """One past the last stored data byte, or ``None`` if the data offset is unknown."""
        if self.data_offset is None:
            return None
        return self.data_offset + self.compressed_size


@dataclass(frozen=True, slots=True, kw_only=True)
class ZipStructure:
    """The result of a strict structural read.

    Attributes:
        size: Archive size in bytes.
        members: Central-directory entries in directory order.
        issues: Every problem found, in detection order.
        comment: Archive comment bytes (as far as present in the file).
        zip64: Whether ZIP64 end records were found and used.
        eocd_offset: Offset of the chosen end-of-central-directory record.
        cd_offset: Declared central-directory offset.
        cd_size: Declared central-directory size.
        fatal: True when no usable central directory could be read.
        tail: The last bytes of a local archive as the strict read read them, at ``tail_offset``: the members
            inside them are served from these bytes, not read again (spec/container.md#one-read-for-the-tail).
            Not part of the structure's equality.
        tail_offset: Where ``tail`` starts in the archive.
    """

    size: int
    members: tuple[ZipMember, ...]
    issues: tuple[ZipIssue, ...]
    comment: bytes
    zip64: bool
    eocd_offset: int | None
    cd_offset: int | None
    cd_size: int | None
    fatal: bool
    tail: bytes = field(default=b"", repr=False, compare=False)
    tail_offset: int = field(default=0, repr=False, compare=False)

    def held(self, offset: int, size: int) -> bytes | None:
        """Return the ``size`` bytes at ``offset`` when the tail holds them all, else None."""
        at = offset - self.tail_offset
        if self.tail and at >= 0 and at + size <= len(self.tail):
            return self.tail[at : at + size]
        return None

    def member(self, name: str) -> ZipMember | None:
        """Return the first member with exactly this decoded name.

        Args:
            name: Decoded member name.

        Returns:
            The member, or ``None`` when absent.
        """
        for m in self.members:
            if m.name == name:
                return m
        return None

    @property
    def codes(self) -> frozenset[str]:
        """The set of issue codes present."""
        return frozenset(i.code for i in self.issues)
