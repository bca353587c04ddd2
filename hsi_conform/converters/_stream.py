"""Streaming helpers shared by the array converters: block iteration, aligned buffers, hashing, scratch files."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import os
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform._atomic import sweep_beside, temp_name
from hsi_conform._signals import checkpoint, shielded
from hsi_conform.container.reader import CubeLayout
from hsi_conform.container.source import read_block
from hsi_conform.converters.base import Blob, Payload, payload_bytes
from hsi_conform.errors import ContainerError, HsiConformError
from hsi_conform.fields import Interleave
from hsi_conform.header import Header

#: Axis permutation from each storage order to (band, line, sample), and back.
TO_BSQ = {Interleave.BSQ: (0, 1, 2), Interleave.BIL: (1, 0, 2), Interleave.BIP: (2, 0, 1)}
FROM_BSQ = {Interleave.BSQ: (0, 1, 2), Interleave.BIL: (1, 0, 2), Interleave.BIP: (1, 2, 0)}


def block_shape(shape: tuple[int, ...], unit: tuple[int, ...], itemsize: int, budget: int) -> tuple[int, int, int]:
    """Return the block copied per write: whole chunks, grown samples first, then lines, then bands."""
    block = [min(u, n) for u, n in zip(unit, shape, strict=True)]
    for axis in (2, 1, 0):
        others = itemsize * math.prod(block) // block[axis]
        times = max(1, budget // max(1, others * block[axis]))
        block[axis] = min(shape[axis], block[axis] * times)
    return block[0], block[1], block[2]


def iter_blocks(shape: tuple[int, ...], block: tuple[int, ...]) -> Iterator[tuple[slice, slice, slice]]:
    """Yield the selections of every block, lines outermost (sequential reads of BIL/BIP sources)."""
    for l0 in range(0, shape[1], block[1]):
        for b0 in range(0, shape[0], block[0]):
            for s0 in range(0, shape[2], block[2]):
                checkpoint()  # a signal stops a writer between two blocks (h5py may swallow its exception)
                yield (slice(b0, min(b0 + block[0], shape[0])), slice(l0, min(l0 + block[1], shape[1])),
                       slice(s0, min(s0 + block[2], shape[2])))


def band_strips(view: np.ndarray[Any, Any], rows: int, budget: int) -> Iterator[np.ndarray[Any, Any]]:
    """Yield strips of ``rows`` lines of each band of a (band, line, sample) view, band by band, in memory.

    A BIL or BIP source holds a band's line as a short run between the other bands: when whole planes fit
    ``budget``, several bands are read at once (one read per source line for all of them), else a strip at a time.
    """
    bands, lines, samples = view.shape
    step = budget // max(1, lines * samples * view.dtype.itemsize)
    if step >= 2:
        for b0 in range(0, bands, step):
            for plane in read_block(view[b0 : b0 + step]):
                yield from (plane[y : y + rows] for y in range(0, lines, rows))
        return
    for b in range(bands):
        yield from (read_block(view[b, y : y + rows]) for y in range(0, lines, rows))


PAGE = 4096


def aligned_empty(count: int, dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
    """Return an uninitialised 1-D array of ``count`` items whose data starts at a page boundary."""
    dtype = np.dtype(dtype)
    raw = np.empty(count * dtype.itemsize + PAGE, dtype=np.uint8)
    start = -raw.ctypes.data % PAGE
    return raw[start : start + count * dtype.itemsize].view(dtype)


def payload_range(payload: Payload, start: int, size: int) -> Iterator[bytes]:
    """Yield ``size`` bytes of a payload from ``start``, in chunks."""
    if not isinstance(payload, Blob):  # in memory, or made in memory
        yield payload_bytes(payload)[start : start + size]
        return
    yield from Blob(payload.file, payload.offset + start, size).chunks()


class HashThread:
    """SHA-256 of an iterator of buffers, computed in a background thread (hashlib releases the GIL)."""

    def __init__(self, chunks: Iterator[Any]) -> None:
        import threading

        self._digest = hashlib.sha256()
        self._error: BaseException | None = None
        self._chunks = chunks
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for chunk in self._chunks:
                self._digest.update(chunk)
        except BaseException as exc:  # re-raised in result()
            self._error = exc

    def result(self) -> str:
        """Wait for the thread and return the hex digest (re-raising its error)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._digest.hexdigest()


_SCRATCH = "hsi-conform-scratch"


class Scratch:
    """Temporary files holding decoded arrays; removed when the dataset that uses them is collected.

    They live in the system's temp folder under the temp-name scheme of :mod:`hsi_conform._atomic`
    (``.hsi-conform-scratch.tmp-{pid}-{hex}``). Until :meth:`bind` hands them to a dataset they belong to this
    object, so a read that fails or is interrupted removes them; those of a process killed outright are removed
    by the next process that needs scratch space.
    """

    def __init__(self) -> None:
        self.paths: list[Path] = []
        self._finalizer = weakref.finalize(self, _remove_all, self.paths)

    def new(self, size: int) -> Path:
        """Create a sparse temporary file of ``size`` bytes and return its path."""
        _sweep_scratch_once(tempfile.gettempdir())
        with shielded():  # created and noted as one step: a signal cannot come between
            fd, path = _create_scratch()
            self.paths.append(path)
        try:
            os.ftruncate(fd, size)
        finally:
            os.close(fd)
        return path

    def bind(self, owner: object) -> None:
        """Remove the files when ``owner`` is garbage-collected (or at exit) instead of with this object."""
        self._finalizer.detach()
        if self.paths:
            weakref.finalize(owner, _remove_all, list(self.paths))


def _create_scratch() -> tuple[int, Path]:
    while True:
        path = temp_name(Path(tempfile.gettempdir(), _SCRATCH))
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600), path
        except FileExistsError:
            continue


@functools.cache
def _sweep_scratch_once(folder: str) -> None:
    sweep_beside(Path(folder, _SCRATCH))


def _remove_all(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):  # still mapped on Windows: the OS temp cleaner removes it later
            path.unlink(missing_ok=True)


def safe_value(header: Header, key: str) -> Any:
    """Return a header field's typed value, or None when it is absent or invalid."""
    try:
        return header.value(key)
    except HsiConformError:
        return None


def band_values(header: Header, key: str, bands: int, kind: type) -> list[Any] | None:
    """Return a per-band list converted with ``kind``, or None when it is absent, invalid or not one per band."""
    value = safe_value(header, key)
    if not isinstance(value, list | tuple) or len(value) != bands:
        return None
    try:
        return [kind(v) for v in value]
    except (TypeError, ValueError):
        return None


def member_layout(member: str, header: Header) -> CubeLayout:
    """Return a header's data layout.

    Raises:
        ContainerError: a layout field is missing or invalid (named after ``member``).
    """
    try:
        return CubeLayout.from_header(header)
    except HsiConformError as exc:
        raise ContainerError(member, str(exc)) from exc
