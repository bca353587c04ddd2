"""A band, a line or a spectrum of a local cube read by ``pread`` of its bytes, the cube never mapped.

Private helper of :mod:`hsi_conform.container.reader` (``Container.read_band``, ``read_line``, ``read_spectrum``;
spec/container.md#direct-reads). Mapping a cube costs more than reading one spectrum of it (a fresh ``mmap``, its
bookkeeping, then a page fault per touched page), so a local container's copies are read from the file at the
offsets the header's layout gives: a BIP spectrum or line is one read, a BIL spectrum one read of the line's
slice between its first and last band, a BSQ spectrum one small read per band (spec/container.md#direct-reads).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.errors import ContainerError, FieldValueError
from hsi_conform.header import Header

from .layout import CubeLayout
from .source import SourceFile, read_strided

__all__ = ["DirectCube", "layout_of"]


def layout_of(data: str, header: Header) -> CubeLayout:
    """Return the layout of the data member ``data`` according to its ``header``.

    Raises:
        ContainerError: the header's layout fields are missing or invalid.
    """
    try:
        return CubeLayout.from_header(header)
    except FieldValueError as exc:
        raise ContainerError(data, f"header layout is invalid: {exc}") from exc


@dataclass(frozen=True, slots=True)
class DirectCube:
    """A stored cube of a local container, read by ``pread`` (its layout and where its first byte is).

    Attributes:
        layout: What the header says about the cube.
        offset: The file offset of the cube's first element (after its ``header offset``).
        file: The ``.hsi`` opened once, or the member file of an expanded folder (opened per read).
    """

    layout: CubeLayout
    offset: int
    file: SourceFile | Path

    def band(self, band: int) -> np.ndarray[Any, Any]:
        """Return band ``band`` as a new ``(lines, samples)`` array (``IndexError`` when there is none)."""
        lines, samples, bands = self._strides()
        at = _index(band, self.layout.bands, 0)
        return self._read(at * bands, (self.layout.lines, self.layout.samples), (lines, samples))

    def line(self, line: int) -> np.ndarray[Any, Any]:
        """Return image line ``line`` as a new ``(samples, bands)`` array (``IndexError`` when there is none)."""
        lines, samples, bands = self._strides()
        at = _index(line, self.layout.lines, 0)
        return self._read(at * lines, (self.layout.samples, self.layout.bands), (samples, bands))

    def spectrum(self, line: int, sample: int) -> np.ndarray[Any, Any]:
        """Return the spectrum of pixel ``(line, sample)`` as a new ``(bands,)`` array (``IndexError`` outside)."""
        lines, samples, bands = self._strides()
        at = _index(line, self.layout.lines, 0) * lines + _index(sample, self.layout.samples, 1) * samples
        return self._read(at, (self.layout.bands,), (bands,))

    def _strides(self) -> tuple[int, int, int]:
        """Return the byte strides of a line, a sample and a band in the stored order."""
        shape, size = self.layout.shape, self.layout.dtype.itemsize
        stored = (shape[1] * shape[2] * size, shape[2] * size, size)
        axes = self.layout.interleave.shape(0, 1, 2)  # where lines (0), samples (1), bands (2) are stored
        return stored[axes.index(0)], stored[axes.index(1)], stored[axes.index(2)]

    def _read(self, at: int, shape: tuple[int, ...], strides: tuple[int, ...]) -> np.ndarray[Any, Any]:
        if isinstance(self.file, SourceFile):
            return read_strided(self.file, self.offset + at, shape, strides, self.layout.dtype)
        with SourceFile.open(self.file) as f:
            return read_strided(f, self.offset + at, shape, strides, self.layout.dtype)


def _index(value: object, size: int, axis: int) -> int:
    """Return ``value`` as an index into ``size`` elements, negative ones from the end, as numpy indexes.

    Raises:
        IndexError: not an integer (a ``bool`` is not one here), or outside ``-size .. size - 1``.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        at = value
    elif isinstance(value, np.integer):
        at = int(value)
    else:
        raise IndexError(f"only integers are valid indices of a band, a line or a pixel, not {value!r}")
    if not -size <= at < size:
        raise IndexError(f"index {at} is out of bounds for axis {axis} with size {size}")
    return at + size if at < 0 else at
