"""Lossless JPEG-XL cubes (``file type = JPEGXL``, spec/jpegxl.md): encode a cube, decode it lazily.

:func:`encode_cube` turns a cube into codestreams, one per band group and spatial tile, spooled to a temporary
file, with the index that locates them. :class:`JpegXlArray` is what ``Container.cube`` is for such a container:
it has the shape, dtype and byte order a memmap of the uncompressed cube would have, and ``array[key]`` decodes
only the codestreams the selection touches (a few decoded ones are kept: :data:`CACHE_BYTES`).
:func:`decoded_copy` decodes everything once, into a temporary file, for whole-cube passes.

The codec is ``imagecodecs`` (the ``[jpegxl]`` extra), imported only when a JPEG-XL cube is encoded or decoded.
"""

from __future__ import annotations

import tempfile
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from hsi_conform._signals import checkpoint
from hsi_conform.container.jxl_codestream import bare_codestream
from hsi_conform.container.jxl_index import (
    DEFAULT_EFFORT,
    DEFAULT_GROUP,
    DEFAULT_TILE,
    JPEGXL_DATA_TYPES,
    MAX_GROUP,
    Codestream,
    JxlIndex,
    grid,
    interleave_axes,
)
from hsi_conform.container.layout import CubeLayout
from hsi_conform.container.source import read_block
from hsi_conform.errors import ContainerError, DatasetError, MissingDependencyError
from hsi_conform.fields import DataType, Interleave
from hsi_conform.members import CUBE_DATA, CUBE_INDEX
from hsi_conform.remote import RemoteArray

__all__ = ["CACHE_BYTES", "EncodedCube", "JpegXlArray", "codec", "decode_codestream", "decoded_copy",
           "encode_cube", "open_cube"]

CACHE_BYTES = 256 << 20
"""Decoded codestreams a :class:`JpegXlArray` keeps (at least one, whatever its size)."""

#: Reads ``size`` bytes at ``offset`` of ``data.envi``.
ReadAt = Callable[[int, int], bytes]


def codec(task: str) -> Any:
    """Return ``imagecodecs`` when its JPEG-XL codec is available.

    Raises:
        MissingDependencyError: it is not installed, or built without JPEG-XL (``pip install 'hsi-conform[jpegxl]'``).
    """
    try:
        import imagecodecs
    except ImportError:
        raise MissingDependencyError(task, ("imagecodecs",), extra="jpegxl") from None
    if not imagecodecs.JPEGXL.available:
        raise MissingDependencyError(task, ("imagecodecs",), extra="jpegxl",
                                     hint="this imagecodecs build has no JPEG-XL codec")
    return imagecodecs


def decode_codestream(data: bytes, stream: Codestream, dtype: np.dtype[Any], *, number: int = 0,
                      check_crc: bool = False) -> np.ndarray[Any, Any]:
    """Decode one codestream into its box ``(bands, lines, samples)`` of ``dtype`` (byte order included).

    Raises:
        ContainerError: the bytes do not decode, decode to another shape or type, or (``check_crc``) their CRC-32
            differs from the stored one.
        MissingDependencyError: no JPEG-XL codec.
    """
    imagecodecs = codec(f"decoding the JPEG-XL cube of {CUBE_DATA}")
    where = f"codestream {number} (bytes {stream.offset}-{stream.offset + stream.size - 1})"
    try:
        decoded = imagecodecs.jpegxl_decode(data)
    except (RuntimeError, ValueError) as exc:  # imagecodecs.JpegxlError is a RuntimeError
        raise ContainerError(CUBE_DATA, f"{where} does not decode: {exc}") from None
    shape = (stream.bands, stream.lines, stream.samples)
    if decoded.size != np.prod(shape) or decoded.dtype.itemsize != dtype.itemsize or decoded.dtype.kind != "u":
        raise ContainerError(CUBE_DATA, f"{where} decodes to {decoded.shape} {decoded.dtype}, the index says "
                             f"{shape} {dtype.newbyteorder('=')}")
    box = np.ascontiguousarray(decoded.reshape(shape).astype(dtype, copy=False))
    if check_crc and stream.crc32 is not None:
        crc = zlib.crc32(box.data)
        if crc != stream.crc32:
            raise ContainerError(CUBE_DATA, f"{where} decodes to data of CRC-32 {crc:08x}, the index says "
                                 f"{stream.crc32:08x}")
    return box


class JpegXlArray(RemoteArray):
    """A read-only, lazily decoded JPEG-XL cube in storage order (see the module docstring).

    It is a :class:`~hsi_conform.remote.array.RemoteArray` for every caller: indexing returns new numpy arrays
    exactly as indexing the uncompressed memmap would, ``np.asarray`` decodes everything, :meth:`transpose` is
    a view. Only the bytes of the codestreams a selection touches are read and decoded.

    Attributes:
        index: the band-group index.
        layout: the decoded cube's layout (``data.hdr``).
    """

    def __init__(self, read_at: ReadAt, index: JxlIndex, layout: CubeLayout, name: str,
                 axes: tuple[int, ...] | None = None, cache: _Cache | None = None) -> None:
        # The ranged reader and offset of a RemoteArray are not used: reads go through ``read_at``.
        self.offset = 0
        self.index = index
        self.layout = layout
        self._name = name
        self._read_at = read_at
        self._dtype = layout.dtype
        self._stored = layout.shape
        self._axes = tuple(range(3)) if axes is None else tuple(axes)
        self._cache = cache if cache is not None else _Cache()

    def __repr__(self) -> str:
        return (f"JpegXlArray(shape={self.shape}, dtype={self.dtype}, codestreams={len(self.index.codestreams)}, "
                f"source={self._name!r})")

    def transpose(self, *axes: Any) -> JpegXlArray:
        """Return a view with permuted axes (as :meth:`numpy.ndarray.transpose`; nothing is decoded)."""
        order = _permutation(axes, self.ndim)
        return JpegXlArray(self._read_at, self.index, self.layout, self._name,
                           tuple(self._axes[a] for a in order), self._cache)

    def decoded(self) -> np.ndarray[Any, Any]:
        """Return this view decoded whole: :func:`decoded_copy` of the cube (CRCs checked), with this view's axes.

        Raises:
            ContainerError: see :func:`decoded_copy`.
        """
        return decoded_copy(self).transpose(self._axes)

    def read_codestream(self, number: int, limit: int | None = None) -> bytes:
        """Return the bytes of codestream ``number`` (its first ``limit`` bytes at most), not decoded.

        Raises:
            ContainerError: the member holds fewer bytes.
        """
        stream = self.index.codestreams[number]
        size = stream.size if limit is None else min(limit, stream.size)
        data = self._read_at(stream.offset, size)
        if len(data) != size:
            raise ContainerError(CUBE_DATA, f"codestream {number} is truncated")
        return data

    def block(self, number: int, *, check_crc: bool = False) -> np.ndarray[Any, Any]:
        """Return codestream ``number`` decoded: its box ``(bands, lines, samples)`` (cached).

        Raises:
            ContainerError: see :func:`decode_codestream`.
            MissingDependencyError: no JPEG-XL codec.
        """
        cached = self._cache.get(number)
        if cached is not None and not check_crc:
            return cached
        stream = self.index.codestreams[number]
        data = self.read_codestream(number)
        box = decode_codestream(data, stream, self._dtype, number=number, check_crc=check_crc)
        self._cache.put(number, box)
        return box

    def _read_box(self, ranges: Any) -> np.ndarray[Any, Any]:
        """Decode the elements at the product of per-axis ranges (stored order, positive steps)."""
        axes = interleave_axes(self.layout.interleave)
        wanted = [ranges[axes[d]] for d in range(3)]  # band, line, sample
        out = np.empty(tuple(len(r) for r in wanted), dtype=self._dtype)
        if out.size:
            idx = [np.asarray(r, dtype=np.int64) for r in wanted]
            for number, stream in enumerate(self.index.codestreams):
                spans = ((stream.band, stream.bands), (stream.line, stream.lines), (stream.sample, stream.samples))
                masks = [(i >= lo) & (i < lo + n) for i, (lo, n) in zip(idx, spans, strict=True)]
                if all(m.any() for m in masks):
                    box = self.block(number)
                    inner = np.ix_(*(i[m] - lo for i, m, (lo, _) in zip(idx, masks, spans, strict=True)))
                    out[np.ix_(*(np.flatnonzero(m) for m in masks))] = box[inner]
        return np.ascontiguousarray(out.transpose([axes.index(k) for k in range(3)]))


class _Cache:
    """The decoded codestreams of one cube, least recently used first (shared by its transposed views)."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self._budget = budget
        self._items: OrderedDict[int, np.ndarray[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, number: int) -> np.ndarray[Any, Any] | None:
        with self._lock:
            box = self._items.get(number)
            if box is not None:
                self._items.move_to_end(number)
            return box

    def put(self, number: int, box: np.ndarray[Any, Any]) -> None:
        box.flags.writeable = False  # handed out to several selections
        with self._lock:
            self._items[number] = box
            total = sum(b.nbytes for b in self._items.values())
            while len(self._items) > 1 and total > self._budget:
                total -= self._items.popitem(last=False)[1].nbytes


def _permutation(axes: tuple[Any, ...], ndim: int) -> list[int]:
    if len(axes) == 1 and isinstance(axes[0], tuple | list):
        axes = tuple(axes[0])
    order = [int(a) for a in axes] if axes else list(reversed(range(ndim)))
    order = [a + ndim if -ndim <= a < 0 else a for a in order]
    if sorted(order) != list(range(ndim)):
        raise ValueError(f"axes {tuple(order)} do not permute {ndim} dimensions")
    return order


def open_cube(layout: CubeLayout, index_json: bytes, data_size: int, name: str, read_at: ReadAt) -> JpegXlArray:
    """Return the lazy cube of ``data.envi`` (``data_size`` bytes, read by ``read_at``) indexed by ``index_json``.

    Raises:
        ContainerError: the index does not parse, or disagrees with ``layout`` (``data.hdr``) or the member size.
    """
    try:
        index = JxlIndex.from_json(index_json)
    except ValueError as exc:
        raise ContainerError(CUBE_INDEX, f"not a band-group index: {exc}") from None
    problems = index.problems(layout, data_size=data_size)
    if problems:
        raise ContainerError(CUBE_INDEX, "; ".join(problems))
    return JpegXlArray(read_at, index, layout, name)


def decoded_copy(array: JpegXlArray, *, check_crc: bool = True) -> np.memmap[Any, np.dtype[Any]]:
    """Decode every codestream once into a temporary file and return it mapped, in storage order.

    The file has no name and disappears with the mapping; memory holds one codestream at a time.

    Raises:
        ContainerError: a codestream does not decode, or (``check_crc``) its CRC-32 differs from the index's.
    """
    with tempfile.TemporaryFile() as scratch:  # closed here: the mapping keeps the file alive
        out: np.memmap[Any, np.dtype[Any]] = np.memmap(scratch, dtype=array.layout.dtype, mode="w+",
                                                       shape=array.layout.shape)
    bsq = out.transpose(interleave_axes(array.layout.interleave))
    for number, stream in enumerate(array.index.codestreams):
        checkpoint()
        bsq[stream.band : stream.band + stream.bands, stream.line : stream.line + stream.lines,
            stream.sample : stream.sample + stream.samples] = array.block(number, check_crc=check_crc)
    return out


@dataclass(frozen=True, slots=True)
class EncodedCube:
    """Codestreams spooled to a temporary file, ready to be copied into ``data.envi``.

    Attributes:
        index: where each codestream is and what it decodes to.
        spool: the codestreams back to back (closed by :meth:`close`).
        size: their total size in bytes.
    """

    index: JxlIndex
    spool: IO[bytes]
    size: int

    def chunks(self, size: int = 8 << 20) -> Iterator[bytes]:
        """Yield the spooled bytes from the start."""
        self.spool.seek(0)
        while chunk := self.spool.read(size):
            checkpoint()
            yield chunk

    def close(self) -> None:
        """Drop the spool."""
        self.spool.close()


def encode_cube(cube: np.ndarray[Any, Any], interleave: Interleave, *, group: int = DEFAULT_GROUP,
                tile: int = DEFAULT_TILE, effort: int = DEFAULT_EFFORT, byte_order: int | None = None) -> EncodedCube:
    """Encode a cube (storage order of ``interleave``; a memmap stays lazy) losslessly, per band group and tile.

    ``byte_order`` is the header's (0 little, 1 big endian); by default the array's. It matters for the index
    only: a uint8 cube's header may say either.

    Raises:
        DatasetError: a data type JPEG-XL cannot hold exactly, a cube without a pixel, a group outside
            1..:data:`MAX_GROUP`, a tile or effort out of range.
        MissingDependencyError: no JPEG-XL codec.
    """
    data_type = DataType.from_dtype(cube.dtype)
    if data_type not in JPEGXL_DATA_TYPES:
        allowed = ", ".join(f"{int(t)} ({t.name.lower()})" for t in JPEGXL_DATA_TYPES)
        raise DatasetError(f"a JPEG-XL cube holds data type {allowed}, not {int(data_type)} "
                           f"({data_type.name.lower()}): see spec/jpegxl.md#data-types")
    if cube.ndim != 3 or 0 in cube.shape:
        raise DatasetError(f"a JPEG-XL cube has three non-empty dimensions, not {cube.shape}")
    if not 1 <= group <= MAX_GROUP or tile < 1 or not 1 <= effort <= 9:
        raise DatasetError(f"band group must be 1..{MAX_GROUP}, tile positive and effort 1..9 (got {group}, "
                           f"{tile}, {effort})")
    imagecodecs = codec("encoding a JPEG-XL cube")
    axes = interleave_axes(interleave)
    bsq = cube.transpose(axes)
    bands, lines, samples = bsq.shape
    order = (1 if cube.dtype.byteorder == ">" else 0) if byte_order is None else byte_order
    native = cube.dtype.newbyteorder("=")
    spool = tempfile.SpooledTemporaryFile(max_size=64 << 20)  # noqa: SIM115 (closed by EncodedCube.close)
    streams, offset = [], 0
    try:
        for b, nb, y, ny, x, nx in grid(lines, samples, bands, group, (tile, tile)):
            checkpoint()
            box = read_block(bsq[b : b + nb, y : y + ny, x : x + nx])
            crc = zlib.crc32(np.ascontiguousarray(box).data)
            data = bare_codestream(imagecodecs.jpegxl_encode(np.ascontiguousarray(box.astype(native)),
                                                             lossless=True, effort=effort, planar=True))
            spool.write(data)
            streams.append(Codestream(offset, len(data), b, nb, y, ny, x, nx, crc32=crc))
            offset += len(data)
    except BaseException:
        spool.close()
        raise
    index = JxlIndex(lines=lines, samples=samples, bands=bands, data_type=int(data_type), byte_order=order,
                     group=group, tile=(tile, tile), effort=effort, codestreams=tuple(streams))
    return EncodedCube(index=index, spool=spool, size=offset)
