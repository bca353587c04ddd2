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
when it is a link, because the user named it. Other entries (FIFOs, sockets, devices) are listed in
:attr:`Folder.others` and never opened.

**Depth** is unbounded: an explicit stack, never recursion, so a tree deeper than Python's recursion limit
(``os.walk``, ``Path.rglob``, ``shutil.rmtree`` and ``Path.mkdir(parents=True)`` raise ``RecursionError`` at
~1,000 levels on Python 3.11) is walked; :func:`make_folders` creates one and :func:`remove_tree` removes one.

**Errors** do not stop the walk. A folder that cannot be listed, an entry whose type cannot be read, or an
``OSError`` raised by the hook becomes a :class:`WalkError` carrying the path as the user wrote the root (never
resolved), and the walk goes on with the next entry.
"""

from __future__ import annotations

import enum
import errno
import os
import shutil
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Folder", "Item", "Unit", "Visit", "WalkError", "files_under", "make_folders", "remove_tree", "walk"]


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
        others: Its other entries (FIFOs, sockets, devices), sorted by name; never opened.
    """

    path: Path
    files: tuple[Path, ...]
    links: tuple[Path, ...]
    others: tuple[Path, ...] = ()


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
    others: list[Path] = []
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
            else:
                others.append(path)
        except OSError as exc:  # the type needed a stat that failed (e.g. the entry vanished meanwhile)
            errors.append(WalkError(path, exc))
    yield Folder(folder, tuple(files), tuple(links), tuple(others))
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


_DIR_OPEN = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
# Removing by descriptor copes with paths longer than PATH_MAX; without dir_fd support (Windows) shutil does it.
_BY_DESCRIPTOR = {os.open, os.rmdir, os.unlink} <= os.supports_dir_fd and os.scandir in os.supports_fd


def remove_tree(root: str | os.PathLike[str], *, ignore_errors: bool = False) -> None:
    """Remove a folder and everything in it, at any depth, never following symbolic links.

    Like ``shutil.rmtree``, without its recursion: a tree deeper than Python's recursion limit is removed too.
    One descriptor is open at a time (a descriptor per level would run out on a 2,000-deep tree).

    Args:
        root: The folder (a symbolic link is refused, as ``shutil.rmtree`` refuses it).
        ignore_errors: Leave what cannot be removed and go on; otherwise the first ``OSError`` is raised.

    Raises:
        OSError: Something could not be removed (unless ``ignore_errors``).
    """
    if not _BY_DESCRIPTOR:  # pragma: no cover - Windows
        shutil.rmtree(root, ignore_errors=ignore_errors)
        return
    try:
        _Remover(ignore_errors).run(os.fspath(root))
    except OSError:
        if not ignore_errors:
            raise


class _Remover:
    """Depth first by descriptor: each level is the folder's name and its sub-folders still to remove."""

    def __init__(self, ignore_errors: bool) -> None:
        self.ignore_errors = ignore_errors

    def attempt(self, action: Callable[..., object], *args: object, **kwargs: object) -> bool:
        try:
            action(*args, **kwargs)
        except OSError:
            if not self.ignore_errors:
                raise
            return False
        return True

    def run(self, root: str) -> None:
        fd = os.open(root, _DIR_OPEN)
        try:
            stack = [(root, self.empty_but_folders(fd))]
            while stack:
                name, pending = stack[-1]
                if pending:
                    sub = pending.pop()
                    try:
                        child = os.open(sub, _DIR_OPEN, dir_fd=fd)
                    except OSError:
                        if not self.ignore_errors:
                            raise
                        continue
                    os.close(fd)
                    fd = child
                    stack.append((sub, self.empty_but_folders(fd)))
                    continue
                stack.pop()
                if stack:  # up through "..": only the names of pending folders are held, never a descriptor each
                    parent = os.open("..", _DIR_OPEN, dir_fd=fd)
                    os.close(fd)
                    fd = parent
                    self.attempt(os.rmdir, name, dir_fd=fd)
        finally:
            os.close(fd)
        self.attempt(os.rmdir, root)

    def empty_but_folders(self, fd: int) -> list[str]:
        """Remove every entry of the folder but its sub-folders, and return their names."""
        folders: list[str] = []
        with os.scandir(fd) as listing:
            for entry in listing:
                try:
                    is_folder = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_folder = False
                if is_folder:
                    folders.append(entry.name)
                else:
                    self.attempt(os.unlink, entry.name, dir_fd=fd)
        return folders


def make_folders(path: str | os.PathLike[str]) -> Path:
    """Create a folder and its missing parents, like ``Path.mkdir(parents=True, exist_ok=True)`` without recursion.

    Args:
        path: The folder.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OSError: A folder cannot be created (a file is in the way, the path is too long, no permission).
    """
    folder = Path(path)
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            break
        missing.append(candidate)
    for candidate in reversed(missing):
        try:
            candidate.mkdir()
        except FileExistsError as exc:
            if not candidate.is_dir():  # a file in the way: say so, not "File exists"
                raise NotADirectoryError(errno.ENOTDIR, "a file is in the way, not a folder", str(candidate)) from exc
    return folder
