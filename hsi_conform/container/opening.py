"""Open a ``.hsi`` container, an expanded container folder, a URL or a file object (:func:`open_container`).

Which kind of input a path is, and how it is opened, is decided here; what an open container offers is
:class:`~hsi_conform.container.reader.Container` (spec/container.md).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hsi_conform.container._members import folder_member_map, located_member_map, zip_member_map
from hsi_conform.container.reader import Container
from hsi_conform.container.source import SourceFile
from hsi_conform.container.zipread import ZipStructure, read_zip_structure
from hsi_conform.errors import InputUnreadableError
from hsi_conform.limits import DEFAULT_LIMITS, Limits
from hsi_conform.remote import RangeReader, is_remote, is_url, open_reader

__all__ = ["open_container"]


def open_container(path: str | os.PathLike[str] | Any, storage_options: Mapping[str, Any] | None = None, *,
                   structure: ZipStructure | None = None, source: SourceFile | RangeReader | None = None,
                   limits: Limits = DEFAULT_LIMITS, any_folder: bool = False) -> Container:
    """Open a ``.hsi`` file, an expanded container folder, a URL or a file object read-only.

    ``source`` is the file already opened (the validator opens each input once) and ``structure`` a strict read
    of it. Without a structure, a local file's members are located here and the strict read waits for
    :attr:`Container.structure` (spec/container.md#lazy-open). Every member is read through that one descriptor;
    ``limits`` bound what is read (spec/safety.md#limits). A URL of any fsspec protocol (``https://``, ``s3://``,
    ``memory://``, ``file://``...), with its ``storage_options``, or a file object opens a remote container
    (spec/remote.md).

    A folder opens only when it is an expanded container (:func:`is_container_folder`) of at most
    ``limits.max_entries`` entries; anything else is refused before it is walked further
    (spec/container.md#expanded-folders). ``any_folder`` opens any folder whole (the validator, which reports
    what such a folder lacks).

    Raises:
        InputUnreadableError: the path or URL is missing (an ``InputNotFoundError``, also a ``FileNotFoundError``)
            or cannot be read.
        MissingDependencyError: a URL needs a package that is not installed (``pip install 'hsi-conform[remote]'``).
        ContainerError: the file is not a readable ZIP archive, or the folder is not an expanded container.
    """
    if is_remote(path) or (source is not None and not isinstance(source, SourceFile)):
        reader = source or open_reader(path, storage_options)
        structure = read_zip_structure(reader, limits=limits) if structure is None else structure  # eager: one plan
        return Container(None, zip_member_map(structure, Path(os.devnull)), is_zip=True, structure=structure,
                         source=reader, limits=limits, location=reader.name, url=reader.name if is_url(path) else None)
    p = Path(InputUnreadableError.checked_path(path))
    local = source if isinstance(source, SourceFile) else None
    try:
        mode = os.fstat(local.fileno()).st_mode if local is not None else p.stat().st_mode
    except OSError as exc:
        raise InputUnreadableError.from_os_error(str(p), exc) from exc
    if stat.S_ISDIR(mode):
        return Container(p, folder_member_map(p, limits, any_folder=any_folder), is_zip=False, limits=limits)
    if not stat.S_ISREG(mode):
        raise InputUnreadableError(str(p), "not a regular file or directory")
    try:
        local = local or SourceFile.open(p)
        members = located_member_map(local, p, limits) if structure is None else zip_member_map(structure, p)
    except OSError as exc:
        raise InputUnreadableError(str(p), exc.strerror or str(exc)) from exc
    return Container(p, members, is_zip=True, structure=structure, source=local, limits=limits)

