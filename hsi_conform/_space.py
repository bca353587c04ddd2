"""Room for outputs: free space and the file-size limit, checked before writing, reserved, or reported clearly.

A write that fails for lack of space (``ENOSPC``, ``EDQUOT``) or on the file-size limit (``EFBIG``, ``ulimit -f``)
becomes :class:`~hsi_conform.errors.NoSpaceError` naming the destination (exit 3), raised by the helpers of
:mod:`hsi_conform._atomic` after they removed the temp. Writers that know their output size call
:func:`ensure_room` first (fail before writing gigabytes); a writer whose library cannot survive a failed write
(h5py) writes into space :func:`reserve` allocated first (spec/safety.md#faults).
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

from hsi_conform.errors import NoSpaceError, OutputUnwritableError

__all__ = ["ensure_room", "no_space_error", "raise_no_space", "reserve"]

_NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)})


def no_space_error(exc: BaseException, dest: str | os.PathLike[str]) -> NoSpaceError | None:
    """Return the :class:`~hsi_conform.errors.NoSpaceError` a failed write of ``dest`` means, or None."""
    code = exc.errno if isinstance(exc, OSError) and not isinstance(exc, NoSpaceError) else None
    return NoSpaceError(str(dest), code) if code is not None and code in _NO_SPACE_ERRNOS else None


def raise_no_space(exc: BaseException, dest: str | os.PathLike[str]) -> None:
    """Raise the :class:`~hsi_conform.errors.NoSpaceError` a failed write means (from ``exc``); else return."""
    error = no_space_error(exc, dest)
    if error is not None:
        raise error from exc


def ensure_room(dest: str | os.PathLike[str], size: int) -> None:
    """Check that a file of ``size`` bytes can be written beside ``dest`` (a check, not a reservation).

    Raises:
        NoSpaceError: ``size`` is above the file-size limit (``RLIMIT_FSIZE``, ``EFBIG``) or above the free space
            of the destination's filesystem (``os.statvfs``, ``ENOSPC``).
        OutputUnwritableError: the destination's folder cannot be examined (it is missing, or not a folder).
    """
    path = Path(dest)
    limit = _file_size_limit()
    if limit is not None and size > limit:
        raise NoSpaceError(str(path), errno.EFBIG, size, limit)
    if hasattr(os, "statvfs"):
        try:
            stat = os.statvfs(path.parent)
        except OSError as exc:  # the writer would fail there too: say so before anything is read or written
            raise OutputUnwritableError.from_os_error(str(path), exc) from exc
        free = stat.f_bavail * stat.f_frsize
        if size > free:
            raise NoSpaceError(str(path), errno.ENOSPC, size, free)


def reserve(path: str | os.PathLike[str], size: int, *, dest: str | os.PathLike[str] | None = None) -> None:
    """Allocate ``size`` bytes to the file ``path`` (a temp of ``dest``), so writes within them find space.

    For libraries that cannot recover from a failed write (h5py crashes): they write into space that is already
    theirs. The file grows to ``size`` bytes (zeros); the writer must truncate it to what it wrote (HDF5 does on
    close). Where the platform cannot allocate (no ``posix_fallocate``, or a filesystem without it), only
    :func:`ensure_room` checks.

    Raises:
        NoSpaceError: The space or the file-size limit is too small (nothing is allocated).
    """
    named = Path(dest if dest is not None else path)
    ensure_room(named, size)
    if not hasattr(os, "posix_fallocate"):
        return
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        raise_no_space(exc, named)
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise
    finally:
        os.close(fd)


def _file_size_limit() -> int | None:
    if sys.platform == "win32":
        return None
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else soft
