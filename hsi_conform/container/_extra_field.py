"""Extra-field parsing, ZIP64 value resolution and member-level checks of the strict reader."""

from __future__ import annotations

import struct

from ._file_name import Problem
from ._records import ZipMember

__all__ = [
    "U16_MAX",
    "U32_MAX",
    "ZIP64_EXTRA",
    "member_problems",
    "parse_extra",
    "resolve_zip64",
    "unicode_path_problem",
]

U16_MAX = 0xFFFF
U32_MAX = 0xFFFFFFFF
ZIP64_EXTRA = 0x0001
UNICODE_PATH_EXTRA = 0x7075
MAX_VERSION_NEEDED = 45

_FLAG_ENCRYPTED = 0x0001
_FLAG_DESCRIPTOR = 0x0008
_FLAG_PATCHED = 0x0020
_FLAG_STRONG = 0x0040
_METHOD_AES = 99

_S_IFMT = 0o170000
_ALLOWED_TYPES = frozenset({0, 0o100000, 0o040000})  # unset, regular file, directory


def parse_extra(extra: bytes) -> tuple[dict[int, bytes], bool]:
    """Split an extra field into its blocks.

    Args:
        extra: Raw extra field bytes.

    Returns:
        The blocks by header id (first occurrence wins) and whether the field was well formed (no truncated
        block, no stray trailing bytes, no duplicated id).
    """
    blocks: dict[int, bytes] = {}
    if not extra:
        return blocks, True
    ok = True
    pos = 0
    while pos < len(extra):
        if pos + 4 > len(extra):
            return blocks, False
        tag, length = struct.unpack_from("<HH", extra, pos)
        if pos + 4 + length > len(extra):
            return blocks, False
        if tag in blocks:
            ok = False
        else:
            blocks[tag] = extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
    return blocks, ok


def resolve_zip64(
    blocks: dict[int, bytes], values: list[int], sentinels: list[int]
) -> tuple[list[int], bool]:
    """Replace sentinel values with the 64-bit values of a ZIP64 extra block, in APPNOTE order.

    Args:
        blocks: Parsed extra blocks.
        values: Header values in ZIP64 order (uncompressed size, compressed size, offset, disk).
        sentinels: The sentinel of each value (``0xFFFFFFFF`` or ``0xFFFF``).

    Returns:
        The resolved values and whether every sentinel found its 64-bit value.
    """
    data = blocks.get(ZIP64_EXTRA, b"")
    out: list[int] = []
    pos = 0
    ok = True
    for value, sentinel in zip(values, sentinels, strict=True):
        width = 4 if sentinel == U16_MAX else 8
        if value != sentinel:
            out.append(value)
        elif pos + width <= len(data):
            out.append(int.from_bytes(data[pos : pos + width], "little"))
            pos += width
        else:
            out.append(value)
            ok = False
    return out, ok


def unicode_path_problem(blocks: dict[int, bytes], name: str) -> Problem | None:
    """Check a 0x7075 Unicode Path extra block against the decoded member name.

    Args:
        blocks: Parsed extra blocks.
        name: Decoded member name.

    Returns:
        A ``unicode-path-extra`` problem when the block exists and names anything else, else ``None``.
    """
    data = blocks.get(UNICODE_PATH_EXTRA)
    if data is None:
        return None
    try:
        other = data[5:].decode("utf-8") if len(data) >= 5 and data[0] == 1 else None
    except UnicodeDecodeError:
        other = None
    if other == name:
        return None
    return (
        "unicode-path-extra",
        "a 0x7075 Unicode Path extra field names something other than the member name",
    )


def _type_problems(member: ZipMember) -> list[Problem]:
    mode = member.unix_mode
    if mode is None:
        return []
    out: list[Problem] = []
    if mode & _S_IFMT not in _ALLOWED_TYPES:
        out.append(("special-file", f"Unix mode {mode:o} is not a regular file or directory"))
    if mode & 0o6000:
        out.append(("setuid", f"Unix mode {mode:o} sets setuid or setgid"))
    return out


def member_problems(member: ZipMember) -> list[Problem]:
    """Judge one member's central-directory values (method, flags, sizes, version, mode).

    Args:
        member: The member.

    Returns:
        The problems found.
    """
    out: list[Problem] = []
    encrypted = member.flags & (_FLAG_ENCRYPTED | _FLAG_STRONG) or member.method == _METHOD_AES
    if encrypted:
        out.append(("encrypted", "the member is encrypted"))
    if member.method != 0 and member.method != _METHOD_AES:
        out.append(("compressed", f"the member uses compression method {member.method}"))
    if member.method == 0 and member.compressed_size != member.uncompressed_size:
        out.append(("stored-size", "a stored member's compressed and uncompressed sizes differ"))
    if member.flags & _FLAG_PATCHED:
        out.append(("patched-data", "the member uses patched data (flag bit 5)"))
    if member.flags & _FLAG_DESCRIPTOR:
        out.append(("data-descriptor", "the member uses a data descriptor (flag bit 3)"))
    if member.version_needed & 0xFF > MAX_VERSION_NEEDED:
        out.append(("version-needed", f"version needed to extract is {member.version_needed & 0xFF}"))
    if member.is_dir and (member.compressed_size or member.uncompressed_size):
        out.append(("dir-with-data", "a directory entry carries data"))
    out.extend(_type_problems(member))
    return out
