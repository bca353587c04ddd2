"""Atomic publishing: every file and folder hsi-conform writes appears whole, or not at all.

All writers go through this module (spec/container.md#crash-safety). Content is written under a temp name in the
destination's own folder, so the final rename never crosses a filesystem::

    .{name}.tmp-{pid}-{16 hex digits}

A temp file is created exclusively (``O_EXCL``; a temp folder by ``mkdir``, which is exclusive too), with the
mode the umask gives any new file. Publishing fsyncs the content, moves it onto the destination with
``os.replace`` and fsyncs the folder. On any exception, ``KeyboardInterrupt`` included, the temp is removed and
the destination is left untouched. A process killed outright (SIGKILL, power loss) cannot clean up: its temp
stays behind under a name :func:`is_temp_name` recognises and :func:`sweep_temps` removes.

What is atomic, exactly:

* **One file** (:func:`atomic_path`, :func:`publish_bytes`, :func:`publish_text`, :class:`AtomicFile`): yes.
  After a crash the destination holds its old content or the new content, never a part.
* **Several files** (:func:`atomic_each`): each file is, the group is not. They are published one by one in the
  given order after all of them were written and fsynced, so a crash between two renames leaves the first
  files new and the rest old. Put last the file readers look for (an ENVI header after its data).
* **A folder** (:func:`atomic_folder`): yes when the destination is missing or an empty folder (one rename). An
  existing non-empty folder is renamed aside first (``.{name}.aside-{pid}-{hex}``), then the new one renamed
  into place, then the old one deleted: between the two renames the destination is missing. A crash there
  loses nothing: :func:`sweep_temps` renames the old folder back when the destination is still missing, and
  deletes it only once the destination exists. Files inside the temp folder are not published one by one; the
  folder is the unit.

Each call is for one writer at a time: two processes publishing onto the same destination both succeed, and the
later rename wins.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from hsi_conform._walk import Folder, Unit, Visit, remove_tree, walk

__all__ = [
    "ASIDE_NAME",
    "TEMP_NAME",
    "AtomicFile",
    "atomic_each",
    "atomic_folder",
    "atomic_path",
    "is_temp_name",
    "publish_bytes",
    "publish_text",
    "sweep_temps",
    "temp_name",
]

#: The names of our temps. Besides ``.{name}.tmp-{pid}-{hex}`` it matches ``.{name}.tmp-{hex}`` and
#: ``.{name}.tmp-{pid}``, the names earlier versions used, so that a sweep also cleans up after them.
TEMP_NAME = re.compile(r"\.(?P<name>.+)\.tmp-(?:(?P<pid>[0-9]+)-)?(?P<token>[0-9a-f]+)")
#: An old folder moved aside while a new one takes its place (see :func:`atomic_folder`).
ASIDE_NAME = re.compile(r"\.(?P<name>.+)\.aside-(?P<pid>[0-9]+)-(?P<token>[0-9a-f]+)")
_TOKEN_BYTES = 8
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
# POSIX fsyncs a read-only descriptor; Windows needs write access to flush a file.
_SYNC_OPEN = os.O_RDWR | getattr(os, "O_BINARY", 0) if os.name == "nt" else os.O_RDONLY


def temp_name(dest: str | os.PathLike[str]) -> Path:
    """Return a fresh temp path beside ``dest`` (not created; :class:`AtomicFile` creates it exclusively)."""
    dest = Path(dest)
    return dest.with_name(f".{dest.name}.tmp-{os.getpid()}-{secrets.token_hex(_TOKEN_BYTES)}")


def _aside_name(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.aside-{os.getpid()}-{secrets.token_hex(_TOKEN_BYTES)}")


def is_temp_name(name: str) -> bool:
    """Return whether a file or folder name is one of our temp names (a base name, not a path)."""
    return TEMP_NAME.fullmatch(name) is not None


def sweep_temps(root: str | os.PathLike[str]) -> list[Path]:
    """Remove every temp file and temp folder under ``root`` (symlinks are removed, never followed).

    An old folder left aside by a crash inside :func:`atomic_folder` is renamed back onto its destination when
    that is missing (nothing is lost), and removed when the destination exists (the new folder was published).
    Only safe while no writer publishes under ``root``: the temp of a live writer looks the same as a leftover.

    Returns:
        What was removed, in walk order (restored folders are not listed).
    """
    removed: list[Path] = []
    top = Path(root)
    for item in walk(top, lambda folder: Visit.DESCEND if folder == top or not _is_ours(folder.name) else Visit.UNIT):
        if isinstance(item, Folder):  # temp files, and links of any kind under a temp name (never followed)
            ours = [p for p in item.files if is_temp_name(p.name)] + [p for p in item.links if _is_ours(p.name)]
            for path in sorted(ours, key=lambda p: p.name):
                path.unlink(missing_ok=True)
                removed.append(path)
        elif isinstance(item, Unit):  # a temp or aside folder: the walk does not go inside
            path = item.path
            aside = ASIDE_NAME.fullmatch(path.name)
            if aside and not os.path.lexists(path.with_name(aside["name"])):
                os.rename(path, path.with_name(aside["name"]))
                continue
            remove_tree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _is_ours(name: str) -> bool:
    return ASIDE_NAME.fullmatch(name) is not None or is_temp_name(name)


class AtomicFile:
    """A temp file created beside ``dest``, then published onto it or discarded.

    The building block of the helpers below, for writers that span several calls (the container writer). As a
    context manager it publishes when the block succeeds and discards on any exception.

    Args:
        dest: The destination; its folder must exist.

    Attributes:
        dest: The destination.
        path: The temp file.
        file: The temp file open for binary writing at position 0 (callers that write by name close it first).

    Raises:
        OSError: The temp file cannot be created.
    """

    def __init__(self, dest: str | os.PathLike[str]) -> None:
        self.dest = Path(dest)
        while True:
            self.path = temp_name(self.dest)
            try:
                # 0o666 lets the umask decide the final mode, as for any newly created file.
                fd = os.open(self.path, _CREATE, 0o666)
                break
            except FileExistsError:
                continue
        self.file: BinaryIO = os.fdopen(fd, "wb")
        self._synced = False
        self._finished = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.publish()
        else:
            self.discard()

    def sync(self) -> None:
        """Flush, fsync and close the temp file (idempotent; :meth:`publish` calls it).

        Raises:
            OSError: On an I/O error (the temp file is kept; :meth:`discard` removes it).
        """
        if self._synced:
            return
        if self.file.closed:
            _sync_path(self.path)
        else:
            self.file.flush()
            _sync_fd(self.file.fileno())
            self.file.close()
        self._synced = True

    def publish(self, *, sync_folder: bool = True) -> None:
        """Sync the temp file and ``os.replace`` it onto the destination, then fsync the folder.

        Args:
            sync_folder: Fsync the destination's folder (a caller publishing several files does it once).

        Raises:
            OSError: On an I/O error; the temp file is removed unless the rename had already happened (only the
                folder fsync failed then).
            RuntimeError: If the temp was already published or discarded.
        """
        if self._finished:
            raise RuntimeError(f"{self.path} was already published or discarded")
        try:
            self.sync()
            os.replace(self.path, self.dest)
        except BaseException:
            self.discard()
            raise
        self._finished = True
        if sync_folder:
            _sync_dir(self.dest.parent)

    def discard(self) -> None:
        """Close and remove the temp file (idempotent; nothing happens after :meth:`publish`).

        Best effort: a failing close or unlink is ignored, because the error that led here is the one worth
        reporting; a temp left behind is removed by the next :func:`sweep_temps`.
        """
        if self._finished:
            return
        self._finished = True
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path to write ``dest`` through (by name: h5py, tifffile), then publish it.

    The temp file exists, empty, when the block starts: open it for writing (``"wb"``, or a library's ``"w"``)
    and close it before the block ends. Atomic: after a crash ``dest`` is old or new, never partial.

    Raises:
        OSError: The temp cannot be created, synced or renamed (the temp is removed, ``dest`` untouched).
    """
    with AtomicFile(dest) as temp:
        temp.file.close()  # the caller reopens it by name
        yield temp.path


def publish_bytes(dest: str | os.PathLike[str], data: bytes | bytearray | memoryview) -> Path:
    """Write ``data`` to ``dest`` atomically and return ``dest`` (see :func:`atomic_path`).

    Raises:
        OSError: On an I/O error (``dest`` untouched, no temp left).
    """
    with AtomicFile(dest) as temp:
        temp.file.write(data)
    return temp.dest


def publish_text(dest: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``dest`` atomically and return ``dest`` (line endings kept as given: no translation).

    Raises:
        OSError: On an I/O error (``dest`` untouched, no temp left).
        UnicodeEncodeError: ``text`` cannot be encoded (nothing is written).
    """
    return publish_bytes(dest, text.encode(encoding))


@contextlib.contextmanager
def atomic_each(*dests: str | os.PathLike[str]) -> Iterator[tuple[Path, ...]]:
    """Yield one temp path per destination; publish them in the given order when the block succeeds.

    Each file is atomic, the group is not (see the module docstring): every temp is written and fsynced before
    the first rename, so only a crash between the renames mixes new and old files. On an exception no file is
    published; if a rename itself fails, the files before it stay published and the others are discarded.

    Raises:
        ValueError: The same destination is given twice.
        OSError: On an I/O error.
    """
    paths = [Path(d) for d in dests]
    if len({os.path.abspath(p) for p in paths}) != len(paths):
        raise ValueError("the same destination is given twice")
    temps: list[AtomicFile] = []
    try:
        for path in paths:
            temps.append(AtomicFile(path))
            temps[-1].file.close()  # the caller reopens it by name
        yield tuple(t.path for t in temps)
        for temp in temps:
            temp.sync()
        for temp in temps:
            temp.publish(sync_folder=False)
    except BaseException:
        for temp in temps:
            temp.discard()
        raise
    for folder in dict.fromkeys(p.parent for p in paths):
        _sync_dir(folder)


@contextlib.contextmanager
def atomic_folder(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temp folder beside ``dest``; when the block succeeds, move it into place as ``dest``.

    Every file and folder inside is fsynced first. Atomic when ``dest`` is missing or an empty folder; an existing
    non-empty folder is replaced in two renames (see the module docstring). On an exception the temp folder is
    deleted and ``dest`` untouched.

    Raises:
        OSError: On an I/O error, or when ``dest`` exists and is not a folder (e.g. ``NotADirectoryError``).
    """
    dest = Path(dest)
    while True:
        tmp = temp_name(dest)
        try:
            tmp.mkdir()
            break
        except FileExistsError:
            continue
    try:
        yield tmp
        _sync_tree(tmp)
        _move_folder(tmp, dest)
    except BaseException:
        remove_tree(tmp, ignore_errors=True)
        raise
    _sync_dir(dest.parent)


def _move_folder(tmp: Path, dest: Path) -> None:
    try:
        os.replace(tmp, dest)  # one atomic rename when dest is missing or an empty folder (POSIX)
        return
    except OSError:
        if dest.is_symlink() or not dest.is_dir():
            raise
    old = _aside_name(dest)
    os.rename(dest, old)
    try:
        os.rename(tmp, dest)
    except BaseException:
        os.rename(old, dest)  # put the old folder back
        raise
    remove_tree(old, ignore_errors=True)


def _sync_tree(root: Path) -> None:
    folders = [item for item in walk(root) if isinstance(item, Folder)]
    for folder in reversed(folders):  # every folder after everything inside it, as the bottom-up os.walk did
        for path in folder.files:
            _sync_path(path)
        _sync_dir(folder.path)


def _sync_fd(fd: int) -> None:
    if sys.platform == "darwin":
        import fcntl

        # macOS fsync does not flush the drive's cache; F_FULLFSYNC does.
        fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
    else:
        os.fsync(fd)


def _sync_path(path: Path) -> None:
    fd = os.open(path, _SYNC_OPEN)
    try:
        _sync_fd(fd)
    finally:
        os.close(fd)


def _sync_dir(directory: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):
        return  # Windows cannot open folders; NTFS journals the rename itself
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _sync_fd(fd)
    finally:
        os.close(fd)
