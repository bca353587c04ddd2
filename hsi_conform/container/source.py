"""One open descriptor per input, and reads of mapped arrays that cannot fault.

**One descriptor.** An input file is opened once, as a :class:`SourceFile`; its ZIP structure, every member's
bytes and every array mapped from it are read through that descriptor. A file replaced (renamed over) while a
run reads it therefore never mixes two files: the run goes on reading the file it opened
(spec/safety.md#batches).

**No faults.** A memory map faults (``SIGBUS``) when its file shrinks underneath it, and a ``write`` from such a
map fails with "Bad address". Arrays mapped from an input with :func:`map_array` stay zero-copy for the public
API (:attr:`hsi_conform.container.Container.cube`), but streaming code copies them with :func:`read_block` or
:func:`read_into`, which read the bytes with ``pread`` from the descriptor the array was mapped from, in large
pieces through a reused buffer. A file that became shorter raises :class:`~hsi_conform.errors.InputUnreadableError`
(exit code 3) instead of crashing. Arrays not mapped by :func:`map_array` (in memory, or a caller's own memmap)
are copied as numpy copies them.
"""

from __future__ import annotations

import contextlib
import io
import math
import mmap
import os
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np

from hsi_conform._copy import FileSpan
from hsi_conform.errors import InputUnreadableError

__all__ = ["MAX_READ", "SourceFile", "array_span", "map_array", "read_block", "read_into", "read_strided"]

#: Largest read straight into the destination array (bytes); bigger blocks are read in pieces.
MAX_READ = 64 << 20
# Largest read into the reused buffer, then copied (rearranged) into the destination: small enough that the
# buffer stays in the CPU cache between the two copies.
_SCRATCH_READ = 1 << 20
# A buffered read may cover up to this many times the bytes it needs (the gaps between rows of a partial
# block)...
_SLACK = 2
# ... or any amount up to this size: one read beats many tiny ones.
_SMALL_READ = 64 << 10
_HAS_PREADV = hasattr(os, "preadv")  # not on Windows
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


class SourceFile:
    """An input file opened once for reading; every read goes through its descriptor.

    It is the local :class:`~hsi_conform.remote.ranges.RangeReader`: reads are ``pread`` calls, cheap enough that
    nothing is batched or cached. The descriptor is closed by :meth:`close`, or when the object is
    garbage-collected.

    Attributes:
        path: The path it was opened as (for messages and for numpy's ``memmap.filename``).
        name: The path as text.
    """

    remote = False

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.name = str(path)
        self._fd = fd
        self._lock = threading.Lock()  # only for platforms without pread (seek + read must not interleave)
        self._closer = weakref.finalize(self, os.close, fd)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Self:
        """Open a file for reading.

        Raises:
            OSError: It cannot be opened.
        """
        p = path if isinstance(path, Path) else Path(path)  # a Path is not parsed again (every open passes one)
        return cls(p, os.open(p, _OPEN_FLAGS))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether the descriptor is closed."""
        return not self._closer.alive

    def close(self) -> None:
        """Close the descriptor (arrays already mapped from it stay valid)."""
        self._closer()

    def fileno(self) -> int:
        """Return the descriptor."""
        return self._fd

    def size(self) -> int:
        """Return the file's current size in bytes."""
        return os.fstat(self._fd).st_size

    def identity(self) -> tuple[int, int]:
        """Return ``(device, inode)`` of the opened file."""
        st = os.fstat(self._fd)
        return st.st_dev, st.st_ino

    def file(self) -> io.BufferedReader:
        """Return a buffered file object on the descriptor (its position is shared; closing it keeps the descriptor)."""
        raw = io.FileIO(self._fd, "rb", closefd=False)
        raw.name = self.name  # numpy records it as memmap.filename
        return io.BufferedReader(raw)

    def read(self, offset: int, size: int) -> bytes:
        """Return up to ``size`` bytes from ``offset`` (fewer at the end of the file)."""
        parts: list[bytes] = []
        done = 0
        while done < size:
            got = self._pread_bytes(size - done, offset + done)
            if not got:
                break
            parts.append(got)
            done += len(got)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def read_ranges(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the bytes of each ``(start, stop)`` range (fewer at the end of the file)."""
        return [self.read(a, b - a) for a, b in ranges]

    def iter_ranges(self, ranges: Iterable[tuple[int, int]]) -> Iterator[bytes]:
        """Yield the bytes of each ``(start, stop)`` range, read one after the other."""
        return (self.read(a, b - a) for a, b in ranges)

    def prefetch(self, ranges: Sequence[tuple[int, int]]) -> None:
        """Do nothing: a local read costs no request."""

    def read_range(self, offset: int, size: int) -> bytes:
        """Return exactly ``size`` bytes from ``offset``.

        Raises:
            InputUnreadableError: The file ends before (it was truncated after it was opened).
        """
        data = self.read(offset, size)
        if len(data) < size:
            raise self._truncated(offset + len(data), offset + size)
        return data

    def readinto(self, view: memoryview, offset: int) -> int:
        """Fill ``view`` from ``offset``; return the bytes read (fewer than asked only at the end of the file)."""
        done = 0
        with view.cast("B") as flat:
            while done < len(flat):
                got = self._pread(flat[done:], offset + done)
                if got <= 0:
                    break
                done += got
        return done

    def read_exact(self, view: memoryview, offset: int) -> None:
        """Fill ``view`` from ``offset``.

        Raises:
            InputUnreadableError: The file ends before (it was truncated after it was opened).
        """
        got = self.readinto(view, offset)
        if got < view.nbytes:
            raise self._truncated(offset + got, offset + view.nbytes)

    def _truncated(self, end: int, wanted: int) -> InputUnreadableError:
        return InputUnreadableError(str(self.path), f"the file ended at byte {end} while bytes up to {wanted} "
                                    "were being read: it was truncated during the run")

    def _pread(self, view: memoryview, offset: int) -> int:
        if _HAS_PREADV:
            return os.preadv(self._fd, [view], offset)
        with self._lock, io.FileIO(self._fd, "rb", closefd=False) as f:  # pragma: no cover - no pread (Windows)
            f.seek(offset)
            return f.readinto(view) or 0

    def _pread_bytes(self, size: int, offset: int) -> bytes:
        if hasattr(os, "pread"):
            return os.pread(self._fd, size, offset)
        with self._lock, io.FileIO(self._fd, "rb", closefd=False) as f:  # pragma: no cover - no pread (Windows)
            f.seek(offset)
            return f.read(size) or b""


@dataclass(frozen=True, slots=True)
class _Mapping:
    source: SourceFile
    address: int  # of the memmap's first element
    offset: int  # in the file, of that element


# The arrays map_array made, by the mmap object every view of them leads to; the entry (and the descriptor it
# keeps open) lives as long as the mapping.
_MAPPINGS: weakref.WeakKeyDictionary[mmap.mmap, _Mapping] = weakref.WeakKeyDictionary()
_MAPPINGS_LOCK = threading.Lock()


def map_array(source: SourceFile, dtype: np.dtype[Any], offset: int,
              shape: tuple[int, ...]) -> np.memmap[tuple[int, ...], np.dtype[Any]]:
    """Map part of an opened file read-only as an array (never loaded), from the source's own descriptor.

    Args:
        source: The opened file.
        dtype: Element type, with its byte order.
        offset: Byte offset of the first element in the file.
        shape: Array shape (C order).

    Raises:
        ValueError: The file is shorter than the array (numpy's check).
    """
    with source.file() as f:
        array: np.memmap[tuple[int, ...], np.dtype[Any]] = np.memmap(f, dtype=dtype, mode="r", offset=offset,
                                                                        shape=shape)
    root = _mmap_of(array)
    if root is not None:
        # The mapping keeps its own duplicate of the descriptor (the same open file), so closing the source
        # (a Container's close()) never leaves a mapped array reading a closed or reused descriptor.
        own = SourceFile(source.path, os.dup(source.fileno()))
        with _MAPPINGS_LOCK:
            _MAPPINGS[root] = _Mapping(own, array.ctypes.data, offset)
    return array


def _mmap_of(array: np.ndarray[Any, Any]) -> mmap.mmap | None:
    base: object = array
    while isinstance(base, np.ndarray):
        base = base.base
    return base if isinstance(base, mmap.mmap) else None


def _mapping_of(array: np.ndarray[Any, Any]) -> _Mapping | None:
    root = _mmap_of(array)
    if root is None:
        return None
    with _MAPPINGS_LOCK:
        return _MAPPINGS.get(root)


@contextlib.contextmanager
def array_span(array: np.ndarray[Any, Any]) -> Iterator[FileSpan | None]:
    """Yield the range of an open file that holds ``array``'s bytes in C order, or None (spec/container.md#copies).

    A copy of that range is a copy of the array made by the kernel (:func:`hsi_conform._copy.copy_range`). There is
    one for a C-contiguous array mapped by :func:`map_array` (the mapping's own descriptor) and for a caller's
    shared, file-backed ``numpy.memmap`` (modes ``r`` and ``r+``) whose file is still the one mapped: the file is
    opened by the path the kernel lists for the mapping and must be that inode, so a file replaced since it was
    mapped is never copied in its place. Anything else (in memory, a private ``c`` map, a strided view, no
    ``/proc/self/maps``) has none: its writer copies it through memory.
    """
    if array.size == 0 or not array.flags.c_contiguous:
        yield None
        return
    mapping = _mapping_of(array)
    if mapping is not None:
        yield FileSpan(mapping.source.fileno(), mapping.offset + (array.ctypes.data - mapping.address), array.nbytes,
                       mapping.source.name)
        return
    found = _shared_file_mapping(array) if _mmap_of(array) is not None else None
    if found is None:
        yield None
        return
    path, offset, fd = found
    try:
        yield FileSpan(fd, offset, array.nbytes, path)
    finally:
        os.close(fd)


def _shared_file_mapping(array: np.ndarray[Any, Any]) -> tuple[str, int, int] | None:
    """Return ``(path, file offset, open descriptor)`` of a shared file mapping holding the whole array, or None."""
    address, end = array.ctypes.data, array.ctypes.data + array.nbytes
    try:
        with open("/proc/self/maps", "rb") as f:
            lines = f.read().splitlines()
    except OSError:  # not Linux
        return None
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or b"-" not in fields[0]:
            continue
        lo, hi = (int(x, 16) for x in fields[0].split(b"-"))
        if not lo <= address < hi:
            continue
        if end > hi or fields[1][3:4] != b"s" or not fields[5].startswith(b"/"):
            return None  # spans several mappings, private (copy-on-write), or no file
        path = os.fsdecode(fields[5])
        major, minor = (int(x, 16) for x in fields[3].split(b":"))
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except OSError:
            return None
        st = os.fstat(fd)
        if (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino) != (major, minor, int(fields[4])):
            os.close(fd)  # replaced since it was mapped (or a name the listing escaped): not this file
            return None
        return path, int(fields[2], 16) + (address - lo), fd
    return None


def read_block(array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Return ``array`` C-contiguous in memory (typically a block of a mapped cube, ``view[sel]``).

    A mapped array is copied with ``pread``; an array in memory is returned as :func:`numpy.ascontiguousarray`
    returns it.

    Raises:
        InputUnreadableError: The array was mapped from a file that has since become shorter.
    """
    if _mapping_of(array) is None:
        return np.ascontiguousarray(array)  # in memory already: no copy when it is contiguous
    out = np.empty(array.shape, dtype=array.dtype)
    read_into(array, out)
    return out


def read_into(array: np.ndarray[Any, Any], out: np.ndarray[Any, Any]) -> None:
    """Copy ``array`` into ``out`` (same shape), reading a mapped array with ``pread`` (see the module doc).

    Raises:
        InputUnreadableError: The array was mapped from a file that has since become shorter.
        ValueError: The shapes differ.
    """
    if array.shape != out.shape:
        raise ValueError(f"cannot copy an array of shape {array.shape} into one of shape {out.shape}")
    mapping = _mapping_of(array)
    if mapping is None or array.size == 0 or any(s <= 0 for n, s in zip(array.shape, array.strides, strict=True)
                                                 if n > 1):
        np.copyto(out, array)
        return
    # Storage order: the axis with the largest stride first.
    order = sorted(range(array.ndim), key=lambda axis: -array.strides[axis])
    stored, target = array.transpose(order), out.transpose(order)
    start = mapping.offset + (array.ctypes.data - mapping.address)
    _copy(mapping.source, start, stored.shape, stored.strides, array.dtype, target)


def read_strided(source: SourceFile, start: int, shape: tuple[int, ...], strides: tuple[int, ...],
                 dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
    """Return the elements lying ``strides`` bytes apart from ``start`` in the file as a new C-contiguous array.

    Read with ``pread`` of exactly what is needed, nothing mapped (spec/container.md#direct-reads): one read when
    the elements are dense or close together, else one read per element or row. Strides are positive.

    Raises:
        InputUnreadableError: The file ends before the last element (it was truncated after it was opened).
    """
    out = np.empty(shape, dtype=dtype)
    if out.size == 0:
        return out
    if len(shape) == 1 and shape[0] > 1 and strides[0] > _SCRATCH_READ:
        _gather(source, start, shape[0], strides[0], out)  # far apart (a BSQ spectrum): one small read each
        return out
    order = sorted(range(len(shape)), key=lambda axis: -strides[axis])
    _copy(source, start, tuple(shape[a] for a in order), tuple(strides[a] for a in order), dtype,
          out.transpose(order))
    return out


def _gather(source: SourceFile, start: int, count: int, stride: int, out: np.ndarray[Any, Any]) -> None:
    """Fill the 1-D ``out`` with one ``pread`` per element, the elements ``stride`` bytes apart from ``start``."""
    size, fd = out.itemsize, source.fileno()
    parts = [os.pread(fd, size, start + i * stride) for i in range(count)] if hasattr(os, "pread") else []
    data = b"".join(parts)
    if len(data) != count * size:  # a short read (or no pread): the long way names the truncation
        for i in range(count):
            source.read_exact(memoryview(out[i : i + 1].view(np.uint8)), start + i * stride)  # type: ignore[arg-type]
        return
    out.view(np.uint8)[:] = np.frombuffer(data, dtype=np.uint8)


def _copy(source: SourceFile, start: int, shape: tuple[int, ...], strides: tuple[int, ...], dtype: np.dtype[Any],
          target: np.ndarray[Any, Any]) -> None:
    """Copy a strided region of the file into ``target``: whole when dense or small, else per outer index."""
    span = dtype.itemsize + sum((n - 1) * s for n, s in zip(shape, strides, strict=True))
    useful = math.prod(shape) * dtype.itemsize
    direct = span == useful and target.flags.c_contiguous
    if direct and span <= MAX_READ:
        source.read_exact(memoryview(target.reshape(-1).view(np.uint8)), start)  # type: ignore[arg-type]
        return
    if span <= _SCRATCH_READ and (span <= max(_SLACK * useful, _SMALL_READ) or len(shape) == 1):
        buf = _scratch(span)
        source.read_exact(buf, start)
        np.copyto(target, np.ndarray(shape, dtype=dtype, buffer=buf, strides=strides))
        return
    if len(shape) == 1:  # a long row: read it in pieces
        step = max(1, (MAX_READ if direct else _SCRATCH_READ) // max(strides[0], 1))
        for i in range(0, shape[0], step):
            n = min(step, shape[0] - i)
            _copy(source, start + i * strides[0], (n,), strides, dtype, target[i : i + n])
        return
    inner = math.prod(shape[1:]) * dtype.itemsize
    if target.flags.c_contiguous and inner <= MAX_READ and inner == dtype.itemsize + sum(
            (n - 1) * s for n, s in zip(shape[1:], strides[1:], strict=True)):
        _copy_rows(source, start, strides[0], inner, target)  # dense rows, far apart: one read each, no copy
        return
    for i in range(shape[0]):
        _copy(source, start + i * strides[0], shape[1:], strides[1:], dtype, target[i])


def _copy_rows(source: SourceFile, start: int, stride: int, size: int, target: np.ndarray[Any, Any]) -> None:
    """Read ``len(target)`` rows of ``size`` bytes, ``stride`` apart in the file, straight into ``target``'s rows."""
    fd = source.fileno()
    with memoryview(target.reshape(-1).view(np.uint8)) as flat:  # type: ignore[arg-type]
        for i in range(len(target)):
            row = flat[i * size : (i + 1) * size]
            # The common case inline (these rows can be a few hundred bytes each); a short read goes the long way.
            if not _HAS_PREADV or os.preadv(fd, [row], start + i * stride) != size:
                source.read_exact(row, start + i * stride)


_LOCAL = threading.local()


def _scratch(size: int) -> memoryview:
    """Return ``size`` bytes of this thread's reused read buffer."""
    buf: bytearray | None = getattr(_LOCAL, "buffer", None)
    if buf is None or len(buf) < size:
        buf = bytearray(size)
        _LOCAL.buffer = buf
    return memoryview(buf)[:size]
