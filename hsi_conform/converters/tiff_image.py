"""The image data of the ``tiff`` converter's ``gdal`` profile, written from the cube's storage slabs.

The uncompressed ``gdal`` profile stores one planar-separate IFD: band after band, each band's rows contiguous
(spec/tiff-mapping.md#image-data). :func:`write_planes` fills that reserved region from a cube in its storage
order (``data.envi``'s bytes as they lie):

* the cube is read once, a slab of whole storage rows of about ``budget`` bytes at a time (one ``pread`` per slab
  from a mapped container: :func:`~hsi_conform.container.source.read_into`);
* a worker thread feeds each slab to the SHA-256 of ``data.envi`` that the manifest records and to its CRC-32,
  which the writer checks against the source's central directory (:class:`CubeDigest`), so those bytes are
  hashed from the reads the writer makes anyway, with no pass of their own, while this thread writes;
* a BSQ slab is already a run of whole bands: one write. A BIL or BIP slab is rearranged band by band through a
  small buffer that stays in the CPU cache, and each band's strip of rows is written with one ``pwrite``;
* two slab buffers: the next slab is read while the worker still hashes the previous one. The memory is two slabs
  and the small buffer, whatever the cube's size; a signal stops the writer between two slabs.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform._crc32 import crc32
from hsi_conform._signals import checkpoint
from hsi_conform.container.source import read_into
from hsi_conform.container.write import iter_slabs
from hsi_conform.converters._stream import TO_BSQ, aligned_empty
from hsi_conform.converters.base import HsiDataset, payload_chunks
from hsi_conform.converters.guard import verbatim_crc
from hsi_conform.errors import MemberCrcError
from hsi_conform.fields import Interleave
from hsi_conform.members import CUBE_DATA

__all__ = ["STRIP_BUFFER", "CubeDigest", "check_cube_crc", "cube_member_chunks", "write_planes"]

#: Bytes of the buffer a BIL or BIP slab is rearranged through, a few bands at a time: small enough to stay in
#: the CPU cache between the rearranging copy and the write.
STRIP_BUFFER = 1 << 20


class CubeDigest:
    """The SHA-256 and the CRC-32 of ``data.envi``'s bytes, fed in order.

    Fed by :func:`write_planes` from its slabs, or by :meth:`feed` in a thread of its own (a member with bytes
    outside the cube, compressed or ImageJ output: spec/tiff-mapping.md#image-data).
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


def write_planes(path: Path, cube: np.ndarray[Any, Any], interleave: Interleave, offset: int, *, budget: int,
                 digest: CubeDigest | None = None) -> None:
    """Write ``cube`` (storage order) as planar-separate image data at ``offset`` of the file ``path``.

    Args:
        path: The TIFF being written (its image data region reserved).
        cube: The cube as stored: (lines, bands, samples) for BIL, and so on.
        interleave: Its storage order.
        offset: Where the first band's first row lands.
        budget: Bytes per slab read (at least one storage row is read at a time).
        digest: Updated with the cube's bytes in storage order, in a worker thread (None: not hashed).

    Raises:
        InputUnreadableError: A mapped source was truncated while it was read.
        OSError: The file cannot be written.
        Interrupted: A signal arrived (between two slabs).
    """
    if cube.size == 0:
        return
    rows = int(cube.shape[0])
    row_items = math.prod(int(n) for n in cube.shape[1:])
    step = max(1, budget // max(1, row_items * cube.itemsize))
    buffers = [aligned_empty(min(step, rows) * row_items, cube.dtype) for _ in range(1 if step >= rows else 2)]
    pending: list[Future[None] | None] = [None] * len(buffers)
    planes = _Planes(cube, interleave, offset)
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    try:
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
                        pending[which] = pool.submit(digest.update, _bytes(slab))
                    planes.write(fd, slab, start)
            finally:
                wait([f for f in pending if f is not None])  # no buffer is reused or freed while being hashed
        for future in pending:
            _wait(future)  # a failure of the worker
    finally:
        os.close(fd)


class _Planes:
    """Where each band's rows of a slab land, and the writes that put them there."""

    def __init__(self, cube: np.ndarray[Any, Any], interleave: Interleave, offset: int) -> None:
        self.order = TO_BSQ[interleave]
        _, lines, samples = (int(cube.shape[a]) for a in self.order)
        self.row = samples * cube.itemsize
        self.plane = lines * self.row
        self.offset = offset
        self.bsq = interleave == Interleave.BSQ
        self.buffer: np.ndarray[Any, Any] | None = None
        self.flat = memoryview(b"")

    def write(self, fd: int, slab: np.ndarray[Any, Any], start: int) -> None:
        """Write a slab whose first storage row is ``start`` (a band for BSQ, a line for BIL and BIP)."""
        if self.bsq:  # whole bands, already in the order they land
            _pwrite_all(fd, _bytes(slab), self.offset + start * self.plane)
            return
        view = slab.transpose(self.order)  # (band, line, sample) of this slab's lines
        strip = view[0].nbytes
        if self.buffer is None or self.buffer.nbytes < strip:  # one band's strip at least
            self.buffer = aligned_empty(max(STRIP_BUFFER, strip) // slab.itemsize, slab.dtype)
            self.flat = _bytes(self.buffer)
        group = max(1, self.buffer.nbytes // strip)
        where = self.offset + start * self.row
        for b0 in range(0, view.shape[0], group):
            part = view[b0 : b0 + group]
            np.copyto(self.buffer[: part.size].reshape(part.shape), part)
            for i in range(len(part)):  # a few thousand writes per GiB: slices of one view, no array per write
                _pwrite_all(fd, self.flat[i * strip : (i + 1) * strip], where + (b0 + i) * self.plane)


def _bytes(array: np.ndarray[Any, Any]) -> memoryview:
    """Return the bytes of a C-contiguous array (no copy)."""
    return memoryview(array.reshape(-1).view(np.uint8))  # type: ignore[arg-type]


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    done = os.pwrite(fd, data, offset)
    while done < len(data):  # a short write (rare on a regular file): the rest
        done += os.pwrite(fd, data[done:], offset + done)


def _wait(future: Future[None] | None) -> None:
    if future is not None:
        future.result()
