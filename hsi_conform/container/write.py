"""Write a ``.hsi`` container from an array (or a memmap) plus header fields and further members.

The cube is streamed into ``data.envi`` in slabs along its first storage axis, so anonymous memory stays bounded
whatever the cube size; the header is written in canonical form (spec/header-syntax.md#canonical-form); the
container is published atomically by :class:`~hsi_conform.container.zipwrite.ContainerWriter`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform._copy import FileSpan
from hsi_conform._signals import checkpoint
from hsi_conform.container.source import array_span, read_block
from hsi_conform.container.thumbnail import thumbnail_fits, written_thumbnail
from hsi_conform.container.zipwrite import ContainerWriter
from hsi_conform.errors import (
    ConfigError,
    DatasetError,
    InputUnreadableError,
    InvalidArgumentError,
    OutputUnwritableError,
)
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.header import build_header_text, parse_header
from hsi_conform.header.model import normalize_key
from hsi_conform.members import CUBE_DATA, CUBE_HEADER, THUMBNAIL, envi_names, preview_stem, reference_stem

#: Bytes per slab copied from the array into the container.
SLAB_BYTES = 8 << 20
_SPECTRAL = frozenset({"wavelength", "wavelength units", "fwhm"})
_CORE = ("samples", "lines", "bands", "header offset", "data type", "interleave", "byte order")


@dataclass(frozen=True, slots=True)
class ComputedCube:
    """A cube that is computed while it is written, slab by slab along its first storage axis.

    Writers accept it wherever they accept an array, so a result larger than memory (a calibrated cube, the
    output of ``read procedures``) streams into its container without a scratch copy.

    Attributes:
        shape: the cube's shape in storage order (three axes).
        dtype: the element type of every slab.
        compute: ``compute(start, stop)`` returns rows ``start:stop`` of the first axis, C-contiguous, of that
            dtype and shape ``(stop - start, *shape[1:])``.
    """

    shape: tuple[int, int, int]
    dtype: np.dtype[Any]
    compute: Callable[[int, int], np.ndarray[Any, Any]]

    @property
    def ndim(self) -> int:
        """Number of axes (3)."""
        return len(self.shape)

    @property
    def nbytes(self) -> int:
        """Bytes of the whole cube."""
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def rows(self, start: int, stop: int) -> np.ndarray[Any, Any]:
        """Return rows ``start:stop`` computed and checked against the declared shape and dtype.

        Raises:
            DatasetError: ``compute`` returned another shape or dtype (a bug in the producer).
        """
        block = self.compute(start, stop)
        expected = (stop - start, *self.shape[1:])
        if block.shape != expected or block.dtype != self.dtype:
            raise DatasetError(f"a computed slab has shape {block.shape} and type {block.dtype}, "
                               f"expected {expected} and {self.dtype}")
        return np.ascontiguousarray(block)


#: What a writer streams into a data member: an array (a memmap stays lazy) or a cube computed while written.
CubeSource = np.ndarray[Any, Any] | ComputedCube


def cube_header_fields(cube: CubeSource, interleave: Interleave | str,
                       fields: Mapping[str, object] | None = None) -> dict[str, object]:
    """Return the header fields of a cube: the layout from the array, everything else from ``fields``.

    Raises:
        DatasetError: the array is not 3-D, its dtype has no ENVI code, or ``fields`` contradicts the layout.
        InvalidArgumentError: ``interleave`` is not bsq, bil or bip.
    """
    if cube.ndim != 3:
        raise DatasetError(f"a cube has 3 dimensions, this array has {cube.ndim}")
    il = interleave_of(interleave)
    lines, samples, bands = _dimensions(cube.shape, il)
    order = ByteOrder.BIG if _is_big_endian(cube.dtype) else ByteOrder.LITTLE
    layout: dict[str, object] = {
        "samples": samples, "lines": lines, "bands": bands, "header offset": 0,
        "file type": "ENVI Standard", "data type": DataType.from_dtype(cube.dtype),
        "interleave": il, "byte order": order,
    }
    merged = dict(layout)
    for key, value in (fields or {}).items():
        k = normalize_key(key)
        if k in _CORE and str(_plain(value)) != str(_plain(layout[k])):
            raise DatasetError(f"field {k!r} = {value!r} contradicts the array ({layout[k]!r})")
        if k not in _CORE:
            merged[k] = value  # e.g. `file type = ENVI Classification` replaces the default
    return merged


def interleave_of(interleave: Interleave | str) -> Interleave:
    """Return the :class:`Interleave` named by ``interleave`` (any case).

    Raises:
        InvalidArgumentError: it names none.
    """
    try:
        return Interleave(str(interleave).lower())
    except ValueError:
        raise InvalidArgumentError(f"interleave must be bsq, bil or bip, not {interleave!r}") from None


def write_container(path: str | os.PathLike[str], cube: CubeSource, *,
                    interleave: Interleave | str = Interleave.BSQ,
                    fields: Mapping[str, object] | None = None,
                    references: Mapping[str, CubeSource] | None = None,
                    previews: Mapping[str, CubeSource] | None = None,
                    members: Mapping[str, bytes | os.PathLike[str] | str] | None = None,
                    thumbnail: bool = True) -> Path:
    """Write a container: ``data.hdr``, ``data.envi`` (4096-aligned), ``thumbnail.jpg``, references, previews, members.

    Args:
        path: destination ``.hsi`` (replaced atomically; never left half-written; never one of the inputs).
        cube: the cube in storage order of ``interleave`` (BSQ: bands, lines, samples; BIL: lines, bands,
            samples; BIP: lines, samples, bands). Its byte order is kept (``byte order`` follows it). A memmap
            is streamed in slabs, so cubes larger than RAM are fine.
        interleave: the storage order of ``cube`` and of the reference and preview arrays.
        fields: further header fields (``wavelength``, ``description``, ...), in the order to write them.
        references: ``{"white": array, "black": array}`` written as ``Reference/<name>.envi/.hdr``.
        previews: ``{"": array}`` for ``preview.envi``, ``{"<lod>": array}`` for ``preview_<lod>.envi``.
        members: further members by container path: bytes, or the path of a file to copy. A ``thumbnail.jpg``
            given here is written instead of the rendered one.
        thumbnail: write ``thumbnail.jpg`` right after ``data.envi``, rendered from the cube as written
            (spec/previews.md#thumbnail); False writes none (unless ``members`` has one).

    Returns:
        The destination path.

    Raises:
        DatasetError: an invalid cube, reference or preview array, or fields that contradict it (nothing is
            written then; a ``ValueError``).
        MemberNameError: a member name the container cannot hold (a ``ValueError``).
        InvalidArgumentError: an unknown ``interleave`` (a ``ValueError``).
        ConfigError: the destination is one of the inputs (a ``ValueError``).
        InputUnreadableError: a member file cannot be read (an ``OSError``).
        OutputUnwritableError: the destination cannot be written, e.g. its folder is missing or the disk is
            full (an ``OSError``; the destination keeps its old content).
    """
    path = OutputUnwritableError.checked_path(path)
    sources = [InputUnreadableError.checked_path(c) for c in (members or {}).values()
               if not isinstance(c, bytes | bytearray | memoryview)]
    _refuse_own_input(Path(path), cube, *(references or {}).values(), *(previews or {}).values(),
                      sources=sources)
    header = build_header_text(cube_header_fields(cube, interleave, fields)).encode("utf-8")
    spectral = {k: v for k, v in (fields or {}).items() if normalize_key(k) in _SPECTRAL}
    arrays = [(reference_stem(n), a) for n, a in (references or {}).items()]
    arrays += [(preview_stem(lod), a) for lod, a in (previews or {}).items()]
    names = [CUBE_HEADER, CUBE_DATA, *(n for base, _ in arrays for n in envi_names(base)), *(members or {})]
    render = thumbnail and 0 not in cube.shape and thumbnail_fits(names)
    with ContainerWriter(path) as zw:
        zw.add_bytes(CUBE_HEADER, header)
        written = zw.add_stream(CUBE_DATA, iter_chunks(cube), cube.nbytes)
        if render:  # from the bytes as written: a computed cube is not computed twice
            zw.add_bytes(THUMBNAIL, written_thumbnail(zw, written, parse_header(header)))
        for base, array in arrays:
            header_name, data_name = envi_names(base)
            zw.add_bytes(header_name, build_header_text(cube_header_fields(array, interleave, spectral)).encode())
            zw.add_stream(data_name, iter_chunks(array), array.nbytes)
        for name, content in (members or {}).items():
            if isinstance(content, bytes | bytearray | memoryview):
                zw.add_bytes(name, content)
            else:
                zw.add_file(name, content)
    return Path(path)


def _refuse_own_input(dest: Path, *arrays: CubeSource, sources: list[str]) -> None:
    target = dest.resolve()
    files = [Path(a.filename) for a in arrays if isinstance(a, np.memmap) and a.filename]
    files += [Path(s) for s in sources]
    for f in files:
        if f.resolve() == target:
            raise ConfigError(f"refusing to write {dest} over one of its own inputs")


def iter_chunks(array: CubeSource, slab_bytes: int = SLAB_BYTES) -> Iterator[memoryview | FileSpan]:
    """Yield the bytes of ``array`` for a container writer: a file range when a file holds them as they are.

    A C-contiguous array mapped from a file (:func:`~hsi_conform.container.source.array_span`) is one
    :class:`~hsi_conform._copy.FileSpan`, which the writer has the kernel copy; anything else comes as the slabs
    of :func:`iter_slabs`.
    """
    if isinstance(array, np.ndarray):
        with array_span(array) as span:
            if span is not None:
                yield span
                return
    yield from iter_slabs(array, slab_bytes)


def iter_slabs(array: CubeSource, slab_bytes: int = SLAB_BYTES) -> Iterator[memoryview]:
    """Yield the bytes of ``array`` in C order, in slabs of about ``slab_bytes`` along the first axis.

    Only one slab is ever copied into memory (memmaps stay lazy; non-contiguous views are copied slab by slab;
    a :class:`ComputedCube` is computed slab by slab). Arrays mapped from an input are read with ``pread``
    (:func:`~hsi_conform.container.source.read_block`), so an input truncated meanwhile raises instead of faulting.
    """
    if array.ndim == 0 or array.shape[0] == 0:
        return
    rows = array.shape[0]
    row = max(1, array.nbytes // rows)
    if isinstance(array, ComputedCube):  # two half slabs alive at once, never more than one slab's worth
        yield from _computed_ahead(array, max(1, slab_bytes // 2 // row))
        return
    step = max(1, slab_bytes // row)
    for start in range(0, rows, step):
        checkpoint()  # a signal stops a writer between two slabs
        stop = min(rows, start + step)
        yield memoryview(read_block(array[start:stop])).cast("B")  # type: ignore[arg-type]


def _computed_ahead(cube: ComputedCube, step: int) -> Iterator[memoryview]:
    """Yield the slabs of a computed cube, each next one computed in a worker while the caller writes this one.

    ``compute`` runs in one worker thread, one slab at a time and in order, so it sees the calls it would see
    inline; numpy and the writes release the GIL, so computing and writing overlap (spec/pipeline.md#overlap).
    The slabs are half as large as those written from arrays, so the two alive at once (the one being written, the
    one being computed) hold about what one slab did. When the caller stops early (an error, a signal), the slab
    being computed is waited for before this returns, so ``compute`` never runs after its writer is gone.
    """
    rows = cube.shape[0]
    starts = range(0, rows, step)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hsi-compute") as pool:
        ahead = pool.submit(cube.rows, 0, min(rows, step))
        try:
            for start in starts:
                checkpoint()  # a signal stops a writer between two slabs
                slab = ahead.result()
                nxt = start + step
                if nxt < rows:
                    ahead = pool.submit(cube.rows, nxt, min(rows, nxt + step))
                yield memoryview(slab).cast("B")  # type: ignore[arg-type]
                del slab  # written: only the slab being computed is alive while waiting for it
        finally:
            ahead.cancel()
            wait([ahead])


def _dimensions(shape: tuple[int, ...], il: Interleave) -> tuple[int, int, int]:
    a, b, c = shape
    if il is Interleave.BSQ:
        return b, c, a
    if il is Interleave.BIL:
        return a, c, b
    return a, b, c


def _is_big_endian(dtype: np.dtype[Any]) -> bool:
    order = dtype.byteorder
    return order == ">" or (order == "=" and sys.byteorder == "big")


def _plain(value: object) -> object:
    import enum

    if isinstance(value, enum.Enum):
        return value.value
    return value
