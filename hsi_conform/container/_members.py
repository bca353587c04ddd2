"""The members of an opened container, by name: :class:`MemberInfo` and the ways ``open`` builds them.

Private helper of :mod:`hsi_conform.container.reader` (import :class:`MemberInfo` from there). A ``.hsi`` file's
members come from the strict reader's structure when one is given (the validator reads it first), otherwise from
the locating pass (spec/container.md#lazy-open); an expanded folder's from its files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.errors import ContainerError, InputUnreadableError
from hsi_conform.limits import Limits
from hsi_conform.members import MANDATORY, MemberKind, classify_member, header_of
from hsi_conform.remote import RemoteArray

from ._locate import locate_members
from ._records import ZipStructure
from .folder import folder_members, is_container_folder
from .layout import CubeLayout
from .source import SourceFile, read_block
from .zipread import read_zip_structure

__all__ = [
    "MemberInfo",
    "copy_of",
    "data_start",
    "folder_member_map",
    "located_member_map",
    "preview_levels",
    "readable",
    "require_in_file",
    "zip_member_map",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberInfo:
    """Where the bytes of one member live.

    Attributes:
        name: POSIX path inside the container.
        file: the file holding the bytes (the ``.hsi`` itself, or the file inside an expanded folder); for a remote
            container no local file holds them, and this is ``os.devnull`` (read with ``Container.read_bytes``).
        offset: first byte of the member's data in ``file``.
        size: stored size in bytes.
        stored: the bytes are stored uncompressed and unencrypted (they can be mapped).
    """

    name: str
    file: Path
    offset: int
    size: int
    stored: bool = True


def zip_member_map(structure: ZipStructure, file: Path) -> dict[str, MemberInfo]:
    """Where each member's data is, by name (the first of duplicates); a fatal structure is refused.

    Raises:
        ContainerError: no usable central directory.
    """
    if structure.fatal:
        codes = ", ".join(sorted(structure.codes))
        raise ContainerError(None, f"not a readable ZIP archive ({codes})")
    members: dict[str, MemberInfo] = {}
    for m in structure.members:
        if m.name in members or m.data_offset is None:
            continue  # duplicates and unreadable members are for the validator to report
        stored = m.method == 0 and not m.flags & 0x41 and m.compressed_size == m.uncompressed_size
        members[m.name] = MemberInfo(name=m.name, file=file, offset=m.data_offset, size=m.compressed_size,
                                     stored=stored)
    return members


def located_member_map(source: SourceFile, file: Path, limits: Limits) -> dict[str, MemberInfo]:
    """Where each member's data is, placed by the locating pass; equal to :func:`zip_member_map` of a strict read.

    Raises:
        ContainerError: no usable central directory (the message names the strict reader's issue codes).
        OSError: the file cannot be read.
    """
    located = locate_members(source, limits)
    if located is None:  # refused: the strict reader names why, as it did when open read it first
        with source.file() as f:
            return zip_member_map(read_zip_structure(f, limits=limits), file)
    return {m.name: MemberInfo(name=m.name, file=file, offset=m.data_offset, size=m.size, stored=m.stored)
            for m in located}


def folder_member_map(path: Path, limits: Limits, *, any_folder: bool) -> dict[str, MemberInfo]:
    """Return the files of an expanded container folder as members (any folder when ``any_folder``).

    Raises:
        ContainerError: not an expanded container, or more than ``limits.max_entries`` entries.
    """
    if not (any_folder or is_container_folder(path)):
        raise ContainerError(None, f"{path} is a folder without {' or '.join(MANDATORY)} at its root: not an "
                             "expanded container")
    return {name: MemberInfo(name=name, file=file, offset=0, size=size)
            for name, file, size in folder_members(path, None if any_folder else limits.max_entries)}



def require_in_file(info: MemberInfo, need: int, file_size: Callable[[], int]) -> None:
    """Raise unless the file (of ``file_size()`` bytes) holds ``need`` bytes of the member.

    The sizes come from the archive, which may claim (ZIP64) more bytes than the file holds: reading them would
    allocate the claimed size, and a mapping past the end fails in mmap or faults on first access.

    Raises:
        ContainerError: the file holds fewer.
        InputUnreadableError: the file cannot be measured.
    """
    try:
        available = file_size() - info.offset
    except InputUnreadableError:
        raise
    except OSError as exc:
        raise InputUnreadableError.from_os_error(str(info.file), exc) from exc
    if available < need:
        raise ContainerError(info.name, f"member data is truncated: the file holds {max(available, 0)} of its "
                             f"bytes, {need} are needed")


def data_start(info: MemberInfo, layout: CubeLayout, file_size: Callable[[], int]) -> int:
    """Return where the first element of a data member is, once it holds every byte its header's layout needs.

    Raises:
        ContainerError: the member is smaller than the layout, or the file holds fewer of its bytes.
        InputUnreadableError: the file cannot be measured.
    """
    need = layout.header_offset + layout.nbytes
    if info.size < need:
        raise ContainerError(info.name, f"member has {info.size} bytes, the header needs {need}")
    require_in_file(info, need, file_size)
    return info.offset + layout.header_offset


def preview_levels(names: Iterable[str]) -> tuple[str, ...]:
    """Return the preview levels of these members: ``""`` for ``preview.envi``, else each ``<lod>`` (sorted)."""
    present = set(names)
    found = []
    for name in present:
        kind = classify_member(name)
        if kind.kind is MemberKind.PREVIEW_DATA and header_of(name) in present:
            found.append(kind.lod or "")
    return tuple(sorted(found))


def readable(info: MemberInfo) -> MemberInfo:
    """Return the member when its bytes can be read in place.

    Raises:
        ContainerError: it is compressed or encrypted.
    """
    if not info.stored:
        raise ContainerError(info.name, "member is compressed or encrypted; it cannot be read in place")
    return info


def copy_of(view: np.ndarray[Any, Any] | RemoteArray, *index: int) -> np.ndarray[Any, Any]:
    """Return ``view[index]`` as a new array (a ``pread`` of a memmap's bytes; ranged requests of a remote one)."""
    if isinstance(view, RemoteArray):
        return np.asarray(view[index])
    return read_block(view[index])
