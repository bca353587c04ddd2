"""The image data of the ``tiff`` converter's ``gdal`` profile, written from the cube's storage slabs.

The uncompressed ``gdal`` profile stores one planar-separate IFD: band after band, each band's rows contiguous
(spec/tiff-mapping.md#image-data); the HDF5 export's contiguous cube is the same layout
(spec/hdf5-mapping.md#streaming). :func:`write_planes` fills that reserved region from a cube in its storage
order (``data.envi``'s bytes as they lie), read once by :func:`~hsi_conform.converters.cube_slabs.stream_slabs`
(whose worker hashes each slab while this thread writes it):

* a BSQ slab is already a run of whole bands: one write. A BIL or BIP slab is rearranged band by band through a
  small buffer that stays in the CPU cache, and each band's strip of rows is written with one ``pwrite``;
* the memory is two slabs and the small buffer, whatever the cube's size; a signal stops the writer between two
  slabs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.converters._stream import TO_BSQ, aligned_empty
from hsi_conform.converters.cube_slabs import Updatable, as_bytes, stream_slabs
from hsi_conform.fields import Interleave

__all__ = ["STRIP_BUFFER", "write_planes"]

#: Bytes of the buffer a BIL or BIP slab is rearranged through, a few bands at a time: small enough to stay in
#: the CPU cache between the rearranging copy and the write.
STRIP_BUFFER = 1 << 20


def write_planes(path: Path, cube: np.ndarray[Any, Any], interleave: Interleave, offset: int, *, budget: int,
                 digest: Updatable | None = None) -> None:
    """Write ``cube`` (storage order) as planar-separate image data at ``offset`` of the file ``path``.

    Args:
        path: The file being written (its image data region reserved).
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
    planes = _Planes(cube, interleave, offset)
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    try:
        stream_slabs(cube, lambda slab, start: planes.write(fd, slab, start), budget=budget, digest=digest)
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
            _pwrite_all(fd, as_bytes(slab), self.offset + start * self.plane)
            return
        view = slab.transpose(self.order)  # (band, line, sample) of this slab's lines
        strip = view[0].nbytes
        if self.buffer is None or self.buffer.nbytes < strip:  # one band's strip at least
            self.buffer = aligned_empty(max(STRIP_BUFFER, strip) // slab.itemsize, slab.dtype)
            self.flat = as_bytes(self.buffer)
        group = max(1, self.buffer.nbytes // strip)
        where = self.offset + start * self.row
        for b0 in range(0, view.shape[0], group):
            part = view[b0 : b0 + group]
            np.copyto(self.buffer[: part.size].reshape(part.shape), part)
            for i in range(len(part)):  # a few thousand writes per GiB: slices of one view, no array per write
                _pwrite_all(fd, self.flat[i * strip : (i + 1) * strip], where + (b0 + i) * self.plane)


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    done = os.pwrite(fd, data, offset)
    while done < len(data):  # a short write (rare on a regular file): the rest
        done += os.pwrite(fd, data[done:], offset + done)

