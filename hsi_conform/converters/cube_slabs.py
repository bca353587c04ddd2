"""The cube read once, in its storage order: slabs for a writer, ``data.envi``'s SHA-256 and CRC-32 from them.

Shared by the exports that lay the cube out band after band (the TIFF ``gdal`` profile, spec/tiff-mapping.md#image-data;
the HDF5 export, spec/hdf5-mapping.md#streaming):

* :func:`stream_slabs` reads the cube a slab of whole storage rows of about ``budget`` bytes at a time (one
  ``pread`` per slab from a mapped container: :func:`~hsi_conform.container.source.read_into`), hands each slab to
  the writer, and has a worker thread feed it to a :class:`CubeDigest` meanwhile: the SHA-256 that the output
  records and the CRC-32 the writer checks against the source's central directory (:func:`check_cube_crc`,
  spec/safety.md#crc-while-copying) come from the reads the writer makes anyway;
* two slab buffers: the next slab is read while the worker still hashes the previous one. The memory is two slabs
  whatever the cube's size; a signal stops the writer between two slabs.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, Protocol

import numpy as np

from hsi_conform._crc32 import crc32
from hsi_conform._signals import checkpoint
from hsi_conform.container.source import read_into
from hsi_conform.container.write import iter_slabs
from hsi_conform.converters._stream import aligned_empty
from hsi_conform.converters.base import HsiDataset, payload_chunks
from hsi_conform.converters.guard import verbatim_crc
from hsi_conform.errors import MemberCrcError
from hsi_conform.members import CUBE_DATA

__all__ = ["CubeDigest", "Updatable", "as_bytes", "check_cube_crc", "cube_member_chunks", "slab_rows",
           "stream_slabs"]


class Updatable(Protocol):
    """What :func:`stream_slabs` feeds: a :class:`CubeDigest`, or any ``hashlib`` object."""

    def update(self, data: Any, /) -> None:
        """Add the next bytes."""


class CubeDigest:
    """The SHA-256 and the CRC-32 of ``data.envi``'s bytes, fed in order.

    Fed by :func:`stream_slabs` from a writer's slabs, or by :meth:`feed` in a thread of its own (a member with
    bytes outside the cube, or a writer that does not read the cube in storage order).
    """

    def __init__(self, *, sha256: bool = True) -> None:
        self._sha = hashlib.sha256() if sha256 else None
        self._crc = 0
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def update(self, chunk: Any) -> None:
        """Add the next bytes (hashlib and the CRC release the GIL: a worker thread runs beside the writer)."""
        if self._sha is not None:
            self._sha.update(chunk)
        self._crc = crc32(chunk, self._crc)

    def feed(self, chunks: Iterable[Any]) -> None:
        """Add every chunk of ``chunks`` in a background thread (:meth:`result` waits for it)."""
        self._thread = threading.Thread(target=self._run, args=(chunks,), daemon=True, name="hsi-sha")
        self._thread.start()

    def _run(self, chunks: Iterable[Any]) -> None:
        try:
            for chunk in chunks:
                self.update(chunk)
        except BaseException as exc:  # re-raised in result()
            self._error = exc

    def result(self) -> tuple[str, int]:
        """Return ``(SHA-256 in hex or "" when not asked for, CRC-32)``, waiting for :meth:`feed`'s thread."""
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return "" if self._sha is None else self._sha.hexdigest(), self._crc


def cube_member_chunks(dataset: HsiDataset) -> Iterator[Any]:
    """Yield the bytes of ``data.envi``: its raw bytes when it holds more than the cube, else the cube's."""
    return payload_chunks(dataset.cube_raw) if dataset.cube_raw is not None else iter_slabs(dataset.cube)


def check_cube_crc(dataset: HsiDataset, crc: int) -> None:
    """Refuse a ``data.envi`` read from a container whose bytes do not have the CRC-32 its central directory gives.

    The judge leaves that CRC to the writer, which computes it from the bytes it reads anyway
    (``crc_checked``, spec/safety.md#crc-while-copying); a cube the dataset no longer holds as its source range
    was checked before writing (``check_deferred_crcs``).

    Raises:
        MemberCrcError: it does not match (the temp is then discarded: nothing is published).
    """
    content = dataset.cube_raw if dataset.cube_raw is not None else dataset.cube
    expected = verbatim_crc(dataset, CUBE_DATA, content)
    if expected is not None and crc != expected.crc:
        raise MemberCrcError(CUBE_DATA, f"the data has CRC-32 {crc:08x}, the central directory says {expected.crc:08x}")


def slab_rows(cube: np.ndarray[Any, Any], budget: int, unit: int = 1) -> int:
    """Return the storage rows per slab: a multiple of ``unit`` rows, about ``budget`` bytes (one unit at least)."""
    row = math.prod(int(n) for n in cube.shape[1:]) * cube.itemsize
    return max(1, budget // max(1, row * unit)) * unit


def stream_slabs(cube: np.ndarray[Any, Any], write: Callable[[np.ndarray[Any, Any], int], None], *, budget: int,
                 unit: int = 1, digest: Updatable | None = None) -> None:
    """Read ``cube`` (storage order) once, slab by slab, and call ``write(slab, first storage row)`` for each.

    Args:
        cube: The cube as stored: (lines, bands, samples) for BIL, and so on.
        write: Writes one slab (a C-contiguous array of whole storage rows, valid only during the call).
        budget: Bytes per slab read.
        unit: Slabs hold a multiple of this many storage rows (the last one excepted): a writer's chunk rows.
        digest: Updated with the cube's bytes in storage order, in a worker thread (None: not hashed).

    Raises:
        InputUnreadableError: A mapped source was truncated while it was read.
        Interrupted: A signal arrived (between two slabs).
        Whatever ``write`` or ``digest`` raise.
    """
    if cube.size == 0:
        return
    rows, step = int(cube.shape[0]), slab_rows(cube, budget, unit)
    row_items = math.prod(int(n) for n in cube.shape[1:])
    buffers = [aligned_empty(min(step, rows) * row_items, cube.dtype) for _ in range(1 if step >= rows else 2)]
    pending: list[Future[None] | None] = [None] * len(buffers)
    with ThreadPoolExecutor(1, thread_name_prefix="hsi-sha") as pool:  # its thread starts at the first hash
        try:
            for i, start in enumerate(range(0, rows, step)):
                checkpoint()  # a signal stops the writer between two slabs
                which = i % len(buffers)
                _wait(pending[which])  # the worker is done hashing what this buffer held
                stop = min(rows, start + step)
                slab = buffers[which][: (stop - start) * row_items].reshape((stop - start, *cube.shape[1:]))
                read_into(cube[start:stop], slab)
                if digest is not None:
                    pending[which] = pool.submit(digest.update, as_bytes(slab))
                write(slab, start)
        finally:
            wait([f for f in pending if f is not None])  # no buffer is reused or freed while being hashed
    for future in pending:
        _wait(future)  # a failure of the worker


def as_bytes(array: np.ndarray[Any, Any]) -> memoryview:
    """Return the bytes of a C-contiguous array (no copy)."""
    return memoryview(array.reshape(-1).view(np.uint8))  # type: ignore[arg-type]


def _wait(future: Future[None] | None) -> None:
    if future is not None:
        future.result()
