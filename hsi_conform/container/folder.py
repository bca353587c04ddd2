"""Expanded container folders: which folder is one, and its files as members (spec/container.md#expanded-folders)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from hsi_conform._walk import Folder, walk
from hsi_conform.errors import ContainerError
from hsi_conform.members import MANDATORY

__all__ = ["folder_members", "is_container_folder"]


def is_container_folder(path: Path) -> bool:
    """Whether a directory is an expanded container: it holds ``data.hdr`` or ``data.envi`` at its root.

    The one rule for ``hsi_conform.open`` and for ``validate DIR`` (a container folder, not a folder of
    containers); see spec/container.md#expanded-folders.
    """
    return any((path / name).is_file() for name in MANDATORY)


def folder_members(root: Path, most: int | None) -> Iterator[tuple[str, Path, int]]:
    """Yield ``(member name, file, size)`` for every folder (name ending in ``/``) and file below ``root``.

    The one walker (no recursion: any depth), never following links out of the folder; what cannot be read is
    left out, as it always was.

    Raises:
        ContainerError: more than ``most`` entries (None: no bound); found before the folder that passes it is
            listed further.
    """
    count = 0
    for item in walk(root):
        if not isinstance(item, Folder):
            continue
        rel = item.path.relative_to(root).as_posix()
        count += (rel != ".") + len(item.files)
        if most is not None and count > most:  # a source tree, not a container: stop here
            raise ContainerError(None, f"{root} has more than {most} entries (the limit max-entries): not an "
                                 "expanded container")
        if rel != ".":
            yield rel + "/", item.path, 0
        for full in item.files:
            try:
                size = full.stat().st_size
            except OSError:
                continue  # e.g. a path longer than the system allows
            yield (full.name if rel == "." else f"{rel}/{full.name}"), full, size
