"""The one directory walker: sorted, never following symbolic links, errors isolated, with a pruning hook.

:func:`walk` visits a folder tree depth first. For each folder it yields a :class:`Folder` holding the folder's
regular files and its symbolic links, sorted by name. Then each sub-folder, in name order, is offered to the
caller's ``classify`` hook: :attr:`Visit.DESCEND` walks into it, :attr:`Visit.UNIT` yields it as a :class:`Unit`
without looking inside (an expanded container folder, a SPECIM capture), :attr:`Visit.SKIP` leaves it out. The
root is offered first. The hook runs only after the caller has handled the parent's :class:`Folder`, so it may
use what the caller learnt from the parent's files.

**Symbolic links** below the root are never followed, whatever they point to (a file, a folder, nothing): they
are listed in :attr:`Folder.links`, never offered to the hook and never descended, so a walk stays inside the
tree and cannot loop. Whether a link is worth following is the caller's decision. The root itself is followed
when it is a link, because the user named it. Other entries (FIFOs, sockets, devices) are left out.

**Errors** do not stop the walk. A folder that cannot be listed, an entry whose type cannot be read, or an
``OSError`` raised by the hook becomes a :class:`WalkError` carrying the path as the user wrote the root (never
resolved), and the walk goes on with the next entry.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Folder", "Item", "Unit", "Visit", "WalkError", "files_under", "walk"]


class Visit(enum.Enum):
    """What the walk does with a folder, as the caller's hook decides."""

    DESCEND = "descend"
    """Yield its :class:`Folder` and walk its sub-folders."""
    UNIT = "unit"
    """Yield it as one :class:`Unit`; do not look inside."""
    SKIP = "skip"
    """Leave it out."""


@dataclass(frozen=True, slots=True)
class Folder:
    """A folder the walk descended into.

    Attributes:
        path: The folder, under the root as given.
        files: Its regular files, sorted by name.
        links: Its symbolic links (to anything, or dangling), sorted by name; never followed.
    """

    path: Path
    files: tuple[Path, ...]
    links: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class Unit:
    """A folder the hook classified as one unit; the walk did not look inside.

    Attributes:
        path: The folder, under the root as given.
    """

    path: Path


@dataclass(frozen=True, slots=True)
class WalkError:
    """Something under the root that could not be read; the walk went on without it.

    Attributes:
        path: The folder or entry, under the root as given.
        error: What the operating system said.
    """

    path: Path
    error: OSError

    @property
    def reason(self) -> str:
        """The error without the path (``Permission denied``), for a message that names the path itself."""
        return self.error.strerror or str(self.error)


Item = Folder | Unit | WalkError
"""What :func:`walk` yields."""


def _descend(_: Path) -> Visit:
    return Visit.DESCEND


def walk(root: str | os.PathLike[str], classify: Callable[[Path], Visit] | None = None) -> Iterator[Item]:
    """Walk ``root`` depth first, in name order (see the module documentation).

    Args:
        root: The folder to walk; followed when it is a symbolic link.
        classify: The pruning hook, called with each folder (the root first) just before the walk would enter
            it; default: descend into everything.

    Yields:
        A :class:`Folder` per folder entered, a :class:`Unit` per folder the hook claimed, and a
        :class:`WalkError` per folder or entry that could not be read.
    """
    decide = classify or _descend
    # An explicit stack, not recursion: a tree deeper than Python's recursion limit is still walked.
    stack = [Path(root)]
    while stack:
        folder = stack.pop()
        try:
            visit = decide(folder)
        except OSError as exc:
            yield WalkError(folder, exc)
            continue
        if visit is Visit.UNIT:
            yield Unit(folder)
        elif visit is Visit.DESCEND:
            subfolders = yield from _enter(folder)
            stack.extend(reversed(subfolders))


def _enter(folder: Path) -> Generator[Item, None, list[Path]]:
    """Yield the folder's :class:`Folder` (and errors of its entries); return its sub-folders in name order."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        yield WalkError(folder, exc)
        return []
    files: list[Path] = []
    links: list[Path] = []
    subfolders: list[Path] = []
    errors: list[WalkError] = []
    for entry in entries:
        path = folder / entry.name
        try:
            if entry.is_symlink():
                links.append(path)
            elif entry.is_dir(follow_symlinks=False):
                subfolders.append(path)
            elif entry.is_file(follow_symlinks=False):
                files.append(path)
        except OSError as exc:  # the type needed a stat that failed (e.g. the entry vanished meanwhile)
            errors.append(WalkError(path, exc))
    yield Folder(folder, tuple(files), tuple(links))
    yield from errors
    return subfolders


def files_under(root: str | os.PathLike[str], on_error: Callable[[WalkError], None] | None = None) -> list[Path]:
    """Return every regular file under ``root`` (symbolic links left out and not followed), sorted by path.

    Args:
        root: The folder.
        on_error: Called with each folder or entry that could not be read (default: they are left out).

    Returns:
        The files, sorted as :class:`~pathlib.Path` objects sort.
    """
    found: list[Path] = []
    for item in walk(root):
        if isinstance(item, Folder):
            found.extend(item.files)
        elif isinstance(item, WalkError) and on_error is not None:
            on_error(item)
    return sorted(found)
