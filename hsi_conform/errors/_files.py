"""Errors about files: inputs that cannot be read, outputs that cannot be written, full disks, busy destinations.

See spec/safety.md#errors.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from typing import ClassVar, Self

from hsi_conform.errors._codes import ExitCode, HsiConformError


class _FileError(HsiConformError, OSError):
    """Base of the errors about one file: also an ``OSError``, with ``errno``, ``strerror`` and ``filename`` set.

    Attributes:
        path: The file as given.
        reason: What went wrong.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, path: str, reason: str, errno: int | None = None) -> None:
        self.path = path
        self.reason = reason
        super().__init__(path, reason)
        # OSError would read (path, reason) as (errno, strerror): set its attributes to what they mean
        self.errno, self.strerror, self.filename = errno, reason, path

    def __reduce__(self) -> tuple[type[Self], tuple[str, str, int | None]]:
        return type(self), (self.path, self.reason, self.errno)

    @classmethod
    def checked_path(cls, path: str | os.PathLike[str]) -> str:
        """Return ``path`` as a string, or raise this error when no file can have that name (a NUL byte)."""
        text = os.fspath(path)
        if "\0" in text:  # os functions raise ValueError for it, not OSError
            raise cls(text, "the path contains a NUL byte")
        return text

    @classmethod
    def from_os_error(cls, path: str, exc: OSError) -> Self:
        """Return the error for ``exc`` raised on ``path`` (its ``strerror`` and ``errno`` are kept)."""
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != path else ""
        return cls(path, f"{exc.strerror or exc}{where}", exc.errno)


class InputUnreadableError(_FileError):
    """The input cannot be read at all (missing, not a file, I/O error); also an ``OSError``.

    A missing input (``errno.ENOENT``) is an :class:`InputNotFoundError`, also a ``FileNotFoundError``.

    Attributes:
        path: The input path as given.
        reason: Why it cannot be read.
        errno: The ``errno`` of the underlying ``OSError``, when there was one.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __new__(cls, *args: object, **kwargs: object) -> Self:
        """Return an :class:`InputNotFoundError` for ``errno.ENOENT``, as ``OSError(ENOENT, ...)`` is one."""
        code = kwargs.get("errno", args[2] if len(args) > 2 else None)
        if cls is InputUnreadableError and code == _ENOENT:
            return super().__new__(InputNotFoundError, *args)  # type: ignore[return-value]
        return super().__new__(cls, *args)

    def __str__(self) -> str:
        return f"cannot read {self.path!r}: {self.reason}"


class InputNotFoundError(InputUnreadableError, FileNotFoundError):
    """The input does not exist (``ENOENT``); also a ``FileNotFoundError``.

    :class:`InputUnreadableError` built with ``errno.ENOENT`` (by :meth:`~InputUnreadableError.from_os_error`, or
    directly) is one of these, so ``except FileNotFoundError`` catches a missing input as it catches ``open()``'s.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, path: str, reason: str = "no such file or directory", errno: int | None = None) -> None:
        super().__init__(path, reason, _ENOENT if errno is None else errno)


_ENOENT = errno.ENOENT


class OutputUnwritableError(_FileError):
    """An output cannot be written (its folder is missing, permission denied, disk full); also an ``OSError``.

    Nothing is left behind: writers publish atomically, so the destination keeps its old content.

    Attributes:
        path: The destination as given.
        reason: Why it cannot be written.
        errno: The ``errno`` of the underlying ``OSError``, when there was one.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNWRITABLE

    def __str__(self) -> str:
        return f"cannot write {self.path!r}: {self.reason}"


class DestinationExistsError(OutputUnwritableError, FileExistsError):
    """The command line's destination exists and ``--overwrite`` was not given; also a ``FileExistsError``.

    Attributes:
        path: The destination as given.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNWRITABLE

    def __init__(self, path: str, reason: str = "it exists (give --overwrite to replace it)",
                 errno: int | None = None) -> None:
        super().__init__(path, reason, _EEXIST if errno is None else errno)


_EEXIST = errno.EEXIST

class NoSpaceError(HsiConformError, OSError):
    """An output does not fit: its filesystem is full (ENOSPC, EDQUOT) or the file-size limit is reached (EFBIG).

    Raised before writing when the size is known, or when a write fails; either way the temp file is removed and
    the destination is untouched. Also an ``OSError`` (with ``errno`` and ``filename``), as before it existed.

    Attributes:
        path: The destination.
        errno: ``ENOSPC``, ``EDQUOT`` or ``EFBIG``.
        needed: Bytes the output needs, when known.
        available: Bytes free on the filesystem (``ENOSPC``), or the file-size limit (``EFBIG``), when known.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNWRITABLE

    def __init__(self, path: str, code: int, needed: int | None = None, available: int | None = None) -> None:
        OSError.__init__(self, code, _NO_SPACE_REASONS.get(code, "no space left"), path)
        self.path = path
        self.needed = needed
        self.available = available

    def __reduce__(self) -> tuple[type[NoSpaceError], tuple[str, int, int | None, int | None]]:
        return type(self), (self.path, self.errno or errno.ENOSPC, self.needed, self.available)

    def __str__(self) -> str:
        sizes = ""
        if self.needed is not None and self.available is not None:
            what = "the limit is" if self.errno == errno.EFBIG else "free:"
            sizes = f" (needs {self.needed} bytes, {what} {self.available})"
        return f"cannot write {self.path!r}: {self.strerror}{sizes}; nothing was written"


_NO_SPACE_REASONS: Mapping[int, str] = {
    errno.ENOSPC: "no space left on its device",
    errno.EFBIG: "file too large for the file-size limit (ulimit -f)",
    getattr(errno, "EDQUOT", errno.ENOSPC): "disk quota exceeded",
}


class InUseError(HsiConformError):
    """Another process (or thread) is writing the same destination; nothing was written.

    Attributes:
        path: The destination.
        pid: The process holding its lock, when known.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNWRITABLE

    def __init__(self, path: str, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        super().__init__(path, pid)

    def __str__(self) -> str:
        owner = f"pid {self.pid}" if self.pid is not None else "another process"
        return f"{self.path!r} is in use by {owner}; nothing was written (try again when it has finished)"
