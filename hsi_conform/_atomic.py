"""Atomic publishing: every file and folder hsi-conform writes appears whole, or not at all.

All writers go through this module; spec/safety.md#faults states the guarantees (spec/container.md#crash-safety
for ``.hsi``). Content is written under a temp name in the destination's own folder, so the final rename never
crosses a filesystem::

    .{name}.tmp-{pid}-{16 hex digits}

A temp is created exclusively (``O_EXCL``, or ``mkdir``) with the mode the umask gives any new file. Publishing
fsyncs it, moves it into place (``os.replace``) and fsyncs the folder. On any exception, ``KeyboardInterrupt``
and :class:`~hsi_conform.errors.Interrupted` included, the temp is removed and the destination left untouched;
renames run with signals deferred (:func:`hsi_conform._signals.deferred`), and nothing is published once one
arrived. A write that finds no space raises :class:`~hsi_conform.errors.NoSpaceError` (:mod:`hsi_conform._space`).

* **One file** (:func:`atomic_path`, :func:`publish_bytes`, :func:`publish_text`, :class:`AtomicFile`): the old
  content or the new one, never a part.
* **Several files** (:func:`atomic_each`): each file is; they are renamed one by one after all were written.
* **A folder** (:func:`atomic_folder`): one rename when the destination is missing or empty; an old non-empty
  folder is first renamed aside (``.{name}.aside-{pid}-{hex}``), and a sweep puts it back if a crash left no
  destination.
* **A unit** (:func:`atomic_unit`: files and folders found through one key file, as an ENVI header): the key is
  removed first and published last; after a crash the unit is the old one, the new one, or has no key.

A process killed outright cannot clean up: :func:`sweep_temps` (a whole tree, no writer running) and
:func:`sweep_beside` (a destination's leftovers of writers no longer running) remove what it left. Two processes
publishing onto one destination both succeed, the later rename winning; :mod:`hsi_conform._lock` keeps them apart.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, NamedTuple, Self

from hsi_conform._signals import deferred, shielded
from hsi_conform._space import raise_no_space
from hsi_conform._temps import (
    ASIDE_NAME,
    TEMP_NAME,
    aside_name,
    is_temp_name,
    remove_leftover,
    sweep_beside,
    sweep_temps,
    temp_name,
)
from hsi_conform._walk import Folder, remove_tree, walk

__all__ = ["ASIDE_NAME", "TEMP_NAME", "AtomicFile", "Unit", "atomic_each", "atomic_folder", "atomic_path",
           "atomic_unit", "is_temp_name", "live_temps", "publish_bytes", "publish_text", "remove_temps", "sweep_beside",
           "sweep_temps", "temp_name"]

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
# POSIX fsyncs a read-only descriptor; Windows needs write access to flush a file.
_SYNC_OPEN = os.O_RDWR | getattr(os, "O_BINARY", 0) if os.name == "nt" else os.O_RDONLY


#: Temps of this process not yet published or removed, so that :func:`remove_temps` can catch what a writer stopped
#: between creating a temp and guarding it leaves (a signal there).
_live: dict[Path, None] = {}


def live_temps() -> frozenset[Path]:
    """Return the temps (files and folders) this process created and has not published or removed yet."""
    return frozenset(_live)


def remove_temps(paths: frozenset[Path]) -> None:
    """Remove temps of this process (the command line's backstop: a finished command leaves none)."""
    with shielded():
        for path in paths:
            with contextlib.suppress(OSError):
                remove_leftover(path)
            _live.pop(path, None)


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
        self._synced = False
        self._finished = False
        with shielded():  # created and noted as one step: a signal cannot come between
            while True:
                self.path = temp_name(self.dest)
                try:
                    # 0o666 lets the umask decide the final mode, as for any newly created file.
                    fd = os.open(self.path, _CREATE, 0o666)
                    break
                except FileExistsError:
                    continue
            _live[self.path] = None
            self.file: BinaryIO = os.fdopen(fd, "wb")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.publish()
            return
        self.discard()
        if exc is not None:
            raise_no_space(exc, self.dest)

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
            NoSpaceError: The filesystem is full (the temp file is removed).
            OSError: On an I/O error; the temp file is removed unless the rename had already happened (only the
                folder fsync failed then).
            Interrupted: A signal arrived before the rename (the temp file is removed, nothing published).
            RuntimeError: If the temp was already published or discarded.
        """
        if self._finished:
            raise RuntimeError(f"{self.path} was already published or discarded")
        try:
            self.sync()
            with deferred():
                os.replace(self.path, self.dest)
                _live.pop(self.path, None)
        except BaseException as exc:
            self.discard()
            raise_no_space(exc, self.dest)
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
        with shielded():
            with contextlib.suppress(OSError):
                self.file.close()
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            _live.pop(self.path, None)


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
        with deferred():
            for temp in temps:
                temp.publish(sync_folder=False)
    except BaseException as exc:
        for temp in temps:
            temp.discard()
        raise_no_space(exc, paths[0])
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
    tmp = _temp_folder(dest)
    try:
        yield tmp
        _sync_tree(tmp)
        with deferred():
            _move_folder(tmp, dest)
            _live.pop(tmp, None)
    except BaseException as exc:
        remove_temps(frozenset([tmp]))
        raise_no_space(exc, dest)
        raise
    _sync_dir(dest.parent)


def _temp_folder(dest: Path) -> Path:
    with shielded():
        while True:
            tmp = temp_name(dest)
            try:
                tmp.mkdir()
                _live[tmp] = None
                return tmp
            except FileExistsError:
                continue


class Unit(NamedTuple):
    """The temps of :func:`atomic_unit`, one per destination in the order given."""

    key: Path
    files: tuple[Path, ...]
    folders: tuple[Path, ...]


@contextlib.contextmanager
def atomic_unit(key: str | os.PathLike[str], *, files: Sequence[str | os.PathLike[str]] = (),
                folders: Sequence[str | os.PathLike[str]] = (),
                drop: Sequence[str | os.PathLike[str]] = ()) -> Iterator[Unit]:
    """Yield temps for a unit that readers find through ``key``; publish it as one when the block succeeds.

    The temps exist, empty (write the files by name). On success everything is fsynced, then, with signals
    deferred: ``key`` is removed, the files and folders moved into place, ``drop`` (parts the new unit lacks)
    removed, and ``key`` moved into place last. After a crash at any moment the unit is the complete old one, the
    complete new one, or ``key`` is absent. On an exception nothing is published; a failure while publishing
    leaves ``key`` absent.

    Raises:
        ValueError: The same destination is given twice.
        NoSpaceError: The filesystem is full (nothing is published).
        OSError: On an I/O error.
    """
    keyed = Path(key)
    file_dests = [Path(f) for f in files]
    folder_dests = [Path(f) for f in folders]
    everything = [keyed, *file_dests, *folder_dests, *(Path(d) for d in drop)]
    if len({os.path.abspath(p) for p in everything}) != len(everything):
        raise ValueError("the same destination is given twice")
    temps: list[AtomicFile] = []
    tmp_folders: list[Path] = []
    try:
        for dest in (keyed, *file_dests):
            temps.append(AtomicFile(dest))
            temps[-1].file.close()  # the caller writes it by name
        tmp_folders += [_temp_folder(dest) for dest in folder_dests]
        yield Unit(temps[0].path, tuple(t.path for t in temps[1:]), tuple(tmp_folders))
        for temp in temps:
            temp.sync()
        for folder in tmp_folders:
            _sync_tree(folder)
        with deferred():
            _publish_unit(temps, list(zip(tmp_folders, folder_dests, strict=True)), [Path(d) for d in drop])
    except BaseException as exc:
        for temp in temps:
            temp.discard()
        remove_temps(frozenset(tmp_folders))
        raise_no_space(exc, keyed)
        raise


def _publish_unit(temps: list[AtomicFile], folders: list[tuple[Path, Path]], drop: list[Path]) -> None:
    key = temps[0]
    with contextlib.suppress(FileNotFoundError):
        os.unlink(key.dest)  # from here on readers find no unit, rather than a mixed one
        _sync_dir(key.dest.parent)
    for temp in temps[1:]:
        temp.publish(sync_folder=False)
    for tmp, dest in folders:
        _move_folder(tmp, dest)
        _live.pop(tmp, None)
    for path in drop:
        _drop(path)
    for folder in dict.fromkeys(p.parent for p in [*(t.dest for t in temps[1:]), *(d for _, d in folders), *drop]):
        _sync_dir(folder)
    key.publish()


def _drop(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        # Renamed to a temp name first: a sweep deletes it, and never puts it back into the new unit.
        doomed = temp_name(path)
        os.rename(path, doomed)
        remove_tree(doomed, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _move_folder(tmp: Path, dest: Path) -> None:
    try:
        os.replace(tmp, dest)  # one atomic rename when dest is missing or an empty folder (POSIX)
        return
    except OSError:
        if dest.is_symlink() or not dest.is_dir():
            raise
    old = aside_name(dest)
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
