"""Destination locks: one writer per destination at a time (spec/safety.md#faults).

``with lock(dest):`` holds the lock file ``.{name}.lock`` beside ``dest`` (a folder's lock lies beside the
folder). The file holds the owner's pid, for the message of the process that finds it taken
(:class:`~hsi_conform.errors.InUseError`: "in use by pid N", exit 3), and is locked with ``flock``: the kernel
releases that lock when its owner ends, however it ends, so the lock of a process killed outright is simply taken
over by the next writer; the file is removed when the lock is released. ``convert`` locks its destination and
``migrate`` its destination tree.

Within one process a lock is re-entrant for the thread holding it (``convert`` locks ``x.hdr`` and the ENVI writer
locks its header, which may be the same file); another thread gets the same error as another process.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hsi_conform._signals import shielded
from hsi_conform.errors import InUseError

__all__ = ["held", "lock", "lock_path", "release"]

_PID_BYTES = 32


@dataclass(slots=True)
class _Held:
    fd: int
    thread: int
    depth: int = 1


_held: dict[str, _Held] = {}
_guard = threading.Lock()


def lock_path(dest: str | os.PathLike[str]) -> Path:
    """Return the lock file of a destination: ``.{name}.lock`` in the destination's folder."""
    dest = Path(os.path.abspath(dest))
    return dest.with_name(f".{dest.name}.lock")


@contextlib.contextmanager
def lock(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the lock of ``dest`` for the block (its folder must exist); yield the lock file.

    Raises:
        InUseError: another process or thread holds it (nothing is written).
        OSError: the lock file cannot be created (e.g. the folder is read-only).
    """
    path = lock_path(dest)
    key = str(path)
    me = threading.get_ident()
    with _guard:
        held = _held.get(key)
        if held is not None and held.thread != me:
            raise InUseError(str(dest), os.getpid())
        if held is not None:
            held.depth += 1
    if held is not None:
        try:
            yield path
        finally:
            held.depth -= 1
        return
    with shielded():  # a signal between taking the lock and noting it must not leave the file behind
        fd = _acquire(path, str(dest))
        with _guard:
            _held[key] = _Held(fd, me)
    try:
        yield path
    finally:
        with _guard:
            mine = _held.pop(key, None)
        if mine is not None:
            _release(fd, path)


def held() -> frozenset[str]:
    """Return the lock files this process holds."""
    with _guard:
        return frozenset(_held)


def release(paths: frozenset[str]) -> None:
    """Release locks of this process (the command line's backstop: a finished command holds none)."""
    for key in paths:
        with _guard:
            entry = _held.pop(key, None)
        if entry is not None:
            _release(entry.fd, Path(key))


def _acquire(path: Path, dest: str) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
        try:
            taken = not _try_lock(fd)
            if taken:
                raise InUseError(dest, _read_pid(fd))
            if _is_current(fd, path):
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, f"{os.getpid()}\n".encode("ascii"))
                return fd
        except BaseException:
            os.close(fd)
            raise
        # The owner removed the file between our open and our lock: lock the file now at that path.
        os.close(fd)


def _is_current(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, _PID_BYTES).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # empty while its owner is writing it


def _release(fd: int, path: Path) -> None:
    # Removed while still locked, so a writer that opened it meanwhile sees a stale file and retries.
    with shielded():
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        # Windows: a byte-range lock far past the pid, which others can then still read.
        os.lseek(fd, 1 << 20, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
