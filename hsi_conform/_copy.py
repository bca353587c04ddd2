"""Moving bytes from one file to another: in the kernel where it can, else through one aligned buffer.

Every byte-for-byte copy of a file range (a member into a container, ``data.envi`` into an ENVI export) goes
through :func:`copy_range`. It asks the kernel to copy (``os.copy_file_range``: no trip through user space, and a
reflink on file systems that share extents); where the kernel cannot (another file system, ``EXDEV``; an old
kernel, ``ENOSYS``; a file system without support, ``EOPNOTSUPP``/``EINVAL``; Windows and macOS, no such call) it
falls back, for the rest of the range, to ``pread``/``pwrite`` through one reused page-aligned buffer
(spec/container.md#copies). A copy is split into blocks: :func:`hsi_conform._signals.checkpoint` runs before each
one, and ``on_block`` is told where each one landed (the container writer computes the CRC of the bytes as they
landed in the destination, overlapped with the next block). With ``writeback``, the kernel is asked to start
writing each block to disk as soon as it landed (:func:`start_writeback`), so that the one fsync before publishing
waits for the last blocks only (spec/container.md#writeback).
"""

from __future__ import annotations

import errno
import functools
import io
import mmap
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hsi_conform._crc32 import crc32
from hsi_conform._signals import checkpoint
from hsi_conform.errors import InputUnreadableError

if TYPE_CHECKING:
    from hashlib import _Hash as Hash

__all__ = ["BLOCK", "FileSpan", "OverlappedCrc", "copy_range", "start_writeback"]

#: Bytes per block of a copy (one checkpoint and one ``on_block`` call each).
BLOCK = 8 << 20
#: Errors that mean "the kernel cannot copy between these two files": the buffered loop copies instead.
_FALLBACK = frozenset({errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.ETXTBSY, errno.EPERM,
                       errno.EBADF, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)})
_HAS_KERNEL_COPY = hasattr(os, "copy_file_range")
#: ``SYNC_FILE_RANGE_WRITE`` of Linux's ``sync_file_range(2)``: start writeback of the range's dirty pages, no wait.
_SYNC_FILE_RANGE_WRITE = 2


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """Return libc's ``sync_file_range`` (Linux), else None; the standard library does not wrap it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):  # pragma: no cover - a libc without it
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def start_writeback(fd: int, offset: int, size: int) -> None:
    """Ask the kernel to start writing ``size`` bytes of ``fd`` from ``offset`` to disk, without waiting.

    A file copied through the page cache and fsynced once at the end waits, in that fsync, for the disk to write
    all of it; started block by block while the copy goes on, the disk writes during the copy and the fsync waits
    for the last blocks only (spec/container.md#writeback). Linux's ``sync_file_range(SYNC_FILE_RANGE_WRITE)``;
    nothing elsewhere. A hint, not a sync: its errors are ignored, and the fsync before publishing (which does
    report them) is still what makes the file durable.
    """
    fn = _sync_file_range()
    if fn is not None and size > 0:
        fn(fd, offset, size, _SYNC_FILE_RANGE_WRITE)  # the GIL is released during the call (ctypes.CDLL)


@dataclass(frozen=True, slots=True)
class FileSpan:
    """A byte range of an open file, to be copied as it is (the writers copy it with :func:`copy_range`).

    Attributes:
        fd: An open descriptor of the file, valid while the span is being copied.
        offset: Offset of the first byte.
        size: Bytes in the range.
        name: The file's path, for messages.
    """

    fd: int
    offset: int
    size: int
    name: str


def copy_range(span: FileSpan, dst: int, dst_offset: int, *, on_block: Callable[[int, int], None] | None = None,
               kernel: bool = True, writeback: bool = False) -> None:
    """Copy ``span`` into the descriptor ``dst`` at ``dst_offset`` (file positions are not used nor moved).

    Args:
        span: What to copy.
        dst: A descriptor open for writing.
        dst_offset: Where the first byte lands.
        on_block: Called with ``(dst_offset, size)`` of each block once it is in the destination.
        kernel: Try ``os.copy_file_range`` first (False: the buffered loop only).
        writeback: Start the disk's writeback of each block once it landed (:func:`start_writeback`): for a
            destination that is fsynced when complete.

    Raises:
        InputUnreadableError: The source ends before the range does (it was truncated), or cannot be read by the
            buffered loop.
        OSError: The destination cannot be written (``ENOSPC``, ``EFBIG``, ``EIO``, ...): the caller says which
            output it was.
        Interrupted: A signal arrived (between two blocks).
    """
    if writeback:
        on_block = _with_writeback(dst, on_block)
    done = 0
    if kernel and _HAS_KERNEL_COPY:
        done = _kernel_copy(span, dst, dst_offset, on_block)
    if done < span.size:
        _buffered_copy(span, done, dst, dst_offset, on_block)


def _with_writeback(dst: int, on_block: Callable[[int, int], None] | None) -> Callable[[int, int], None]:
    def landed(offset: int, size: int) -> None:
        start_writeback(dst, offset, size)
        if on_block is not None:
            on_block(offset, size)

    return landed


def _kernel_copy(span: FileSpan, dst: int, dst_offset: int, on_block: Callable[[int, int], None] | None) -> int:
    """Copy with ``copy_file_range`` until done or refused; return the bytes copied."""
    done = 0
    while done < span.size:
        checkpoint()  # a signal stops the copy between two blocks
        size = min(BLOCK, span.size - done)
        block = 0
        while block < size:
            try:
                got = os.copy_file_range(span.fd, dst, size - block, span.offset + done + block,
                                         dst_offset + done + block)
            except OSError as exc:
                if exc.errno not in _FALLBACK:
                    raise
                if block:  # what landed of this block still counts
                    _landed(on_block, dst_offset + done, block)
                return done + block
            if got == 0:
                raise _truncated(span, span.offset + done + block)
            block += got
        _landed(on_block, dst_offset + done, size)
        done += size
    return done


def _buffered_copy(span: FileSpan, start: int, dst: int, dst_offset: int,
                   on_block: Callable[[int, int], None] | None) -> None:
    """Copy ``span`` from ``start`` on through one page-aligned buffer (an anonymous map is page-aligned).

    The map is not closed explicitly: it goes with its last view, which the traceback of an error (a full disk)
    may still hold while the error propagates.
    """
    view = memoryview(mmap.mmap(-1, min(BLOCK, max(1, span.size - start))))
    done = start
    while done < span.size:
        checkpoint()
        size = min(len(view), span.size - done)
        part = view[:size]
        _read_exact(span, part, span.offset + done)
        written = 0
        while written < size:
            written += _pwrite(dst, part[written:], dst_offset + done + written)
        _landed(on_block, dst_offset + done, size)
        done += size


def _read_exact(span: FileSpan, part: memoryview, offset: int) -> None:
    try:
        got = _pread_exact(span.fd, part, offset)
    except OSError as exc:
        raise InputUnreadableError.from_os_error(span.name, exc) from exc
    if got < len(part):
        raise _truncated(span, offset + got)


def _landed(on_block: Callable[[int, int], None] | None, offset: int, size: int) -> None:
    if on_block is not None:
        on_block(offset, size)


def _truncated(span: FileSpan, at: int) -> InputUnreadableError:
    return InputUnreadableError(span.name, f"the file ended at byte {at} while bytes up to "
                                f"{span.offset + span.size} were being copied: it was truncated during the run")


class OverlappedCrc:
    """The CRC-32 of a member, computed in order from views and from ranges of the container already written.

    With a worker pool every piece is computed in the worker (one at a time, in order) while the writer goes on;
    without one, inline. Ranges are read back from the temp file through one reused buffer: the CRC is that of
    the bytes as they landed, whatever copied them.

    The same pieces may also feed a SHA-256 (``digest``): a writer asked for a member's digest gets it from the
    bytes read back for the CRC, with no pass of its own (spec/container.md#copies).

    Args:
        temp: The file the ranges are read back from.
        pool: A one-worker pool (None: inline).
        digest: A hash object updated with every piece, in order (None: the CRC only).
    """

    def __init__(self, temp: str, pool: ThreadPoolExecutor | None, digest: Hash | None = None) -> None:
        self._temp = temp
        self._pool = pool
        self._digest = digest
        self._value = 0
        self._fd: int | None = None
        self._buffer: mmap.mmap | None = None
        self._pending: list[Future[None]] = []

    def add_view(self, view: memoryview) -> Future[None] | None:
        """Add the CRC of ``view`` (in the worker: the caller keeps ``view`` valid until the future is done)."""
        return self._run(self._update, view)

    def add_landed(self, offset: int, size: int) -> None:
        """Add the CRC of ``size`` bytes of the temp file from ``offset`` (already written there)."""
        self._run(self._update_from_file, offset, size)

    def result(self) -> int:
        """Wait for every piece and return the CRC (re-raising a failure of the worker)."""
        for pending in self._pending:
            pending.result()
        self._pending.clear()
        return self._value

    def close(self) -> None:
        """Wait for the worker and release the read descriptor and buffer."""
        for pending in self._pending:
            pending.exception()  # waits; a failure was (or will not be) reported by result()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._buffer = None  # freed with its last view (see _buffered_copy)

    def _run(self, fn: Any, *args: Any) -> Future[None] | None:
        if self._pool is None:
            fn(*args)
            return None
        future = self._pool.submit(fn, *args)
        self._pending.append(future)
        return future

    def _update(self, view: memoryview) -> None:
        self._value = crc32(view, self._value)
        if self._digest is not None:
            self._digest.update(view)

    def _update_from_file(self, offset: int, size: int) -> None:
        if self._fd is None:
            self._fd = os.open(self._temp, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            self._buffer = mmap.mmap(-1, BLOCK)
        assert self._buffer is not None
        view = memoryview(self._buffer)
        done = 0
        while done < size:
            n = min(len(view), size - done)
            got = _pread_exact(self._fd, view[:n], offset + done)
            self._update(view[:got])
            if got < n:
                raise OSError(errno.EIO, "the container ended before the data just written", self._temp)
            done += n


def _pread_exact(fd: int, part: memoryview, offset: int) -> int:
    got = 0
    while got < len(part):
        n = os.preadv(fd, [part[got:]], offset + got) if hasattr(os, "preadv") else _pread_into(
            fd, part[got:], offset + got)
        if n <= 0:
            break
        got += n
    return got


def _pread_into(fd: int, part: memoryview, offset: int) -> int:  # pragma: no cover - no preadv (Windows)
    if hasattr(os, "pread"):
        data = os.pread(fd, len(part), offset)
    else:  # the descriptors copied from and read back are used by one thread at a time
        os.lseek(fd, offset, os.SEEK_SET)
        data = os.read(fd, len(part))
    part[: len(data)] = data
    return len(data)


def _pwrite(fd: int, part: memoryview, offset: int) -> int:
    if hasattr(os, "pwrite"):
        return os.pwrite(fd, part, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - no pwrite (Windows); the writer seeks back after
    return os.write(fd, part)  # pragma: no cover


def file_spans(src: io.FileIO, size: int, path: str) -> Iterator[FileSpan]:
    """Yield the whole file as one span, then check that it did not grow meanwhile (a shrink fails the copy)."""
    yield FileSpan(src.fileno(), 0, size, path)
    try:
        src.seek(size)  # the copy used offsets: the file position is ours
        grew = src.read(1)
    except OSError as exc:
        raise InputUnreadableError.from_os_error(path, exc) from exc
    if grew:
        raise InputUnreadableError(path, "the file grew while being copied")
