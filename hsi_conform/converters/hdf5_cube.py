"""The HDF5 export's cube: ``data.envi``'s array as a ``(band, line, sample)`` dataset, the source read once.

spec/hdf5-mapping.md#streaming. The array is read in its storage order, a slab of whole storage rows at a time
(:func:`~hsi_conform.converters.cube_slabs.stream_slabs`), and a worker thread feeds each slab to the
:class:`~hsi_conform.converters.cube_slabs.CubeDigest` that gives the SHA-256 the file records and the CRC-32 the
writer checks, so no other pass reads the cube:

* contiguous (``chunks=None``): the dataset's storage is allocated when it is created (no fill is written) and the
  slabs land at its file offset as planar bands (:func:`~hsi_conform.converters.tiff_image.write_planes`: one
  ``pwrite`` per BSQ slab, one per band's strip of rows for BIL and BIP), beside HDF5, which never writes those
  bytes itself;
* chunked: slabs hold whole chunk rows (bands for BSQ, lines for BIL and BIP), so each slab covers whole chunks;
  a BSQ slab goes to HDF5 as it is, a BIL or BIP slab is rearranged into ``(band, line, sample)`` a few chunk bands
  at a time through a buffer of about 1 MiB;
* a chunk row that does not fit in :data:`SLAB_LIMIT` slabs of the budget (chunks of square tiles of a wide cube)
  is written block by block from the array as before, and the digest reads the member in a thread of its own.

The memory is two slabs, the 1 MiB buffer and HDF5's chunk cache, whatever the cube's size.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.container.reader import CubeLayout
from hsi_conform.container.source import read_into
from hsi_conform.container.write import iter_slabs
from hsi_conform.converters._stream import TO_BSQ, aligned_empty, block_shape, iter_blocks, payload_range
from hsi_conform.converters.base import Payload, mapping_table, payload_size
from hsi_conform.converters.cube_slabs import CubeDigest, slab_rows, stream_slabs
from hsi_conform.converters.tiff_image import STRIP_BUFFER, write_planes
from hsi_conform.fields import Interleave

__all__ = ["SLAB_LIMIT", "chunk_shape", "write_cube", "write_raw_parts"]

TABLE = mapping_table("hdf5")
_D = TABLE["datasets"]

#: A slab of whole chunk rows may hold this many times the budget (the chunks' rows are not cut to fit); past it
#: the writer goes block by block.
SLAB_LIMIT = 4


def write_cube(h5py: Any, group: Any, name: str, array: np.ndarray[Any, Any], interleave: Interleave, *,
               chunks: tuple[int, ...] | None, filters: dict[str, Any], budget: int,
               digest: CubeDigest | None) -> Any:
    """Create ``name`` in ``group`` as the (band, line, sample) view of ``array`` and write the array into it.

    Args:
        h5py: The h5py module.
        group: The open HDF5 group of the ENVI pair.
        name: The cube dataset's name.
        array: The cube in its storage order (interleave), not empty.
        interleave: That order.
        chunks: The chunk shape (band, line, sample), or None for a contiguous dataset.
        filters: ``create_dataset`` keywords of the compression.
        budget: Bytes per slab read.
        digest: Fed the array's bytes in storage order (None: not hashed). When the writer cannot read them in
            that order, it is fed from a thread of its own (:meth:`CubeDigest.feed`) before this returns.

    Raises:
        InputUnreadableError: A mapped source was truncated while it was read.
        OSError: The file cannot be written.
        Interrupted: A signal arrived (between two slabs).
    """
    shape = tuple(int(n) for n in array.transpose(TO_BSQ[interleave]).shape)
    if chunks is None:
        return _write_contiguous(h5py, group, name, array, interleave, shape, budget, digest)
    cube = group.create_dataset(name, shape=shape, dtype=array.dtype, chunks=chunks, **filters)
    unit = chunks[0] if interleave == Interleave.BSQ else chunks[1]
    if slab_rows(array, budget, unit) * math.prod(array.shape[1:]) * array.itemsize > SLAB_LIMIT * budget:
        if digest is not None:
            digest.feed(iter_slabs(array))
        _write_blocks(cube, array, interleave, shape, chunks, budget)
    elif interleave == Interleave.BSQ:
        stream_slabs(array, lambda slab, start: cube.write_direct(slab, dest_sel=np.s_[start : start + len(slab)]),
                     budget=budget, unit=unit, digest=digest)
    else:
        rearranged = _Transposing(cube, array, interleave, chunks[0], budget, unit)
        stream_slabs(array, rearranged.write, budget=budget, unit=unit, digest=digest)
    return cube


def _write_contiguous(h5py: Any, group: Any, name: str, array: np.ndarray[Any, Any], interleave: Interleave,
                      shape: tuple[int, ...], budget: int, digest: CubeDigest | None) -> Any:
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)  # its offset is known before any byte is written
    cube = group.create_dataset(name, shape=shape, dtype=array.dtype, dcpl=dcpl)
    offset = cube.id.get_offset()
    if offset is None or cube.dtype != array.dtype or cube.id.get_type().get_size() != array.itemsize:
        if digest is not None:  # HDF5 converts the bytes: it writes them itself
            digest.feed(iter_slabs(array))
        _write_blocks(cube, array, interleave, shape, (1, 1, shape[2]), budget)
        return cube
    write_planes(Path(group.file.filename), array, interleave, int(offset), budget=budget, digest=digest)
    return cube


class _Transposing:
    """Writes BIL or BIP slabs of whole chunk rows as (band, line, sample) blocks of whole chunks.

    A slab is rearranged a few chunk bands at a time through a buffer of about :data:`STRIP_BUFFER` bytes, which
    stays in the CPU cache between the rearranging copy and HDF5's write of it.
    """

    def __init__(self, cube: Any, array: np.ndarray[Any, Any], interleave: Interleave, depth: int, budget: int,
                 unit: int) -> None:
        self.cube = cube
        self.order = TO_BSQ[interleave]
        self.depth = depth
        rows = min(int(array.shape[0]), slab_rows(array, budget, unit))
        band_bytes = rows * math.prod(array.shape[1:]) * array.itemsize // int(array.shape[self.order[0]])
        self.group = max(1, STRIP_BUFFER // max(1, band_bytes * depth)) * depth  # whole chunk bands
        self.buffer = aligned_empty(self.group * band_bytes // array.itemsize, array.dtype)

    def write(self, slab: np.ndarray[Any, Any], start: int) -> None:
        """Write a slab whose first storage row is the line ``start``."""
        view = slab.transpose(self.order)  # (band, line, sample) of the slab's lines
        lines = np.s_[start : start + len(slab)]
        for b0 in range(0, view.shape[0], self.group):
            part = view[b0 : b0 + self.group]
            out = self.buffer[: part.size].reshape(part.shape)
            np.copyto(out, part)
            self.cube.write_direct(out, dest_sel=(np.s_[b0 : b0 + len(part)], lines, np.s_[:]))


def _write_blocks(cube: Any, array: np.ndarray[Any, Any], interleave: Interleave, shape: tuple[int, ...],
                  unit: tuple[int, ...], budget: int) -> None:
    """Write whole-chunk blocks of the (band, line, sample) view, lines outermost, through one buffer."""
    view = array.transpose(TO_BSQ[interleave])
    block = block_shape(shape, unit, array.itemsize, budget)
    buffer = aligned_empty(math.prod(block), array.dtype)
    for sel in iter_blocks(shape, block):
        part = view[sel]
        out = buffer[: part.size].reshape(part.shape)
        read_into(part, out)
        cube.write_direct(out, dest_sel=sel)


def chunk_shape(shape: tuple[int, ...], itemsize: int) -> tuple[int, int, int]:
    """Return balanced chunks for (band, line, sample) (spec/hdf5-mapping.md#chunking).

    A chunk holds about ``target_bytes``. Its band depth ``cb`` and line count ``cl`` make one band read
    (``lines / cl`` chunks) cost as many chunks as one spectrum read (``bands / cb`` chunks). Chunks span whole
    lines when a line of ``cb`` bands fits the target: the writer then streams line slabs, which are contiguous
    in BIL and BIP sources; otherwise they are square tiles.
    """
    bands, lines, samples = shape
    elements = max(1, TABLE["chunking"]["target_bytes"] // itemsize)
    depth = round(math.sqrt(bands * elements / max(1, lines * samples)))
    depth = min(bands, max(1, depth))
    rows = elements // (depth * samples)
    if rows >= 1:
        return depth, min(lines, rows), samples
    side = max(1, math.isqrt(max(1, elements // depth)))
    return depth, min(lines, side), min(samples, side)


def write_raw_parts(group: Any, raw: Payload, layout: CubeLayout, array: np.ndarray[Any, Any] | None) -> None:
    """Write the bytes of the data member that are not the array: all of them when it is not mapped."""
    size = payload_size(raw)
    end = layout.header_offset + (array.nbytes if array is not None else 0)
    if array is None or size < end:
        _write_range(group, _D["whole"], raw, 0, size)
        return
    if layout.header_offset:
        _write_range(group, _D["embedded_header"], raw, 0, layout.header_offset)
    if size > end:
        _write_range(group, _D["trailing"], raw, end, size - end)


def _write_range(group: Any, name: str, raw: Payload, start: int, size: int) -> None:
    ds = group.create_dataset(name, shape=(size,), dtype=np.uint8)
    pos = 0
    for chunk in payload_range(raw, start, size):
        ds.write_direct(np.frombuffer(chunk, dtype=np.uint8), dest_sel=np.s_[pos : pos + len(chunk)])
        pos += len(chunk)
