"""The stages of the ``read procedures`` executor: cubes that compute any block of themselves on demand.

A :class:`Stage` is a cube in (lines, samples, bands) order whose blocks are computed when asked for, by reading
only the block of the stage below that they need; a chain of stages ends in a :class:`SourceStage` over the data
(a memmap of the container's cube, an array, or a function computing line slabs). Reading a block of the last
stage therefore reads only what that block needs, so a result streams into its container slab by slab
(spec/pipeline.md#streaming).

:class:`IndexStage` is every ``crop`` and ``rotate`` in a row composed into one stage: each output axis is an
arithmetic progression (a :class:`range` of step 1 or -1) of a source axis, the line and sample axes possibly
swapped (spec/procedures.md#crop, spec/procedures.md#rotate).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from hsi_conform.container.reader import Container, CubeLayout, as_interleave
from hsi_conform.container.source import read_block
from hsi_conform.errors import ContainerError, DatasetError, FieldValueError
from hsi_conform.fields import Interleave
from hsi_conform.header import Header
from hsi_conform.members import DATA_SUFFIX, header_of
from hsi_conform.pipeline.output import local_array

__all__ = ["ArrayStage", "Block", "IndexStage", "LineSource", "SourceStage", "Span", "Stage", "full", "member_cube",
           "read_all", "storage_order"]

Span = tuple[int, int]
"""A half-open index range ``(start, stop)`` of one axis."""

Block = np.ndarray[Any, Any]
"""A C-contiguous block of a cube in (lines, samples, bands) order."""

LineSource = Callable[[int, int], Block]
"""``rows(start, stop)``: lines ``start:stop`` of a cube as a (lines, samples, bands) array (e.g. calibrated)."""


class Stage(Protocol):
    """A cube in (lines, samples, bands) order whose blocks are computed on demand."""

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(lines, samples, bands)``."""
        ...

    @property
    def dtype(self) -> np.dtype[Any]:
        """The element type of every block."""
        ...

    def read(self, lines: Span, samples: Span, bands: Span) -> Block:
        """Return the block ``[lines, samples, bands]`` (C-contiguous, of :attr:`dtype`)."""
        ...


def full(stage: Stage) -> tuple[Span, Span, Span]:
    """Return the spans of the whole cube of ``stage``."""
    lines, samples, bands = stage.shape
    return (0, lines), (0, samples), (0, bands)


def read_all(stage: Stage) -> Block:
    """Return the whole cube of ``stage`` in memory."""
    return stage.read(*full(stage))


def member_cube(container: Container, name: str, header: Header | None = None) -> np.ndarray[Any, Any]:
    """Map an ENVI data member of ``container`` as a (lines, samples, bands) view, through its own header.

    Raises:
        ContainerError: not an ``.envi`` member, or its header is missing or invalid.
        InputUnreadableError: it cannot be read.
    """
    if not name.endswith(DATA_SUFFIX):
        raise ContainerError(name, f"not an ENVI data member ({DATA_SUFFIX} with its header beside it)")
    header = header if header is not None else container.read_header(header_of(name))
    try:
        layout = CubeLayout.from_header(header)
    except FieldValueError as exc:
        raise ContainerError(name, f"header layout is invalid: {exc}") from exc
    array = local_array(container.open_array(name, header), "merging a cube")
    view: np.ndarray[Any, Any] = as_interleave(array, layout.interleave, Interleave.BIP)
    return view


def storage_order(block: Block, interleave: Interleave) -> Block:
    """Return a (lines, samples, bands) block in the storage order of ``interleave``, C-contiguous."""
    return np.ascontiguousarray(as_interleave(block, Interleave.BIP, interleave))


@dataclass(frozen=True, slots=True)
class ArrayStage:
    """A cube held as an array (or a read-only view of a memmap) in (lines, samples, bands) order."""

    array: np.ndarray[Any, Any]

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(lines, samples, bands)``."""
        lines, samples, bands = self.array.shape
        return lines, samples, bands

    @property
    def dtype(self) -> np.dtype[Any]:
        """The array's element type."""
        dtype: np.dtype[Any] = self.array.dtype
        return dtype

    def read(self, lines: Span, samples: Span, bands: Span) -> Block:
        """Copy the block out of the array (a mapped array with ``pread``: a truncated file raises, never faults)."""
        return read_block(self.array[slice(*lines), slice(*samples), slice(*bands)])


@dataclass(frozen=True, slots=True)
class SourceStage:
    """A cube computed in line slabs by a :data:`LineSource` (e.g. calibration), of a known shape and type."""

    rows: LineSource
    shape: tuple[int, int, int]
    dtype: np.dtype[Any]

    def read(self, lines: Span, samples: Span, bands: Span) -> Block:
        """Compute the lines of the block and keep its samples and bands.

        Raises:
            DatasetError: the line source returned another shape or type than it declared.
        """
        slab = self.rows(*lines)
        expected = (lines[1] - lines[0], *self.shape[1:])
        if slab.shape != expected or slab.dtype != self.dtype:
            raise DatasetError(f"a line source returned shape {slab.shape} and type {slab.dtype}, expected "
                               f"{expected} and {self.dtype}")
        return np.ascontiguousarray(slab[:, slice(*samples), slice(*bands)])


@dataclass(frozen=True, slots=True)
class IndexStage:
    """Crops, mirrors and quarter turns composed: output index ``i`` of an axis is source index ``axis[i]``.

    Attributes:
        parent: the stage below.
        rows: the parent index of each output line (a parent *sample* when :attr:`swapped`).
        cols: the parent index of each output sample (a parent *line* when :attr:`swapped`).
        bands: the parent band of each output band.
        swapped: an odd number of quarter turns: output lines run along the parent's samples.
    """

    parent: Stage
    rows: range
    cols: range
    bands: range
    swapped: bool = False

    @classmethod
    def identity(cls, parent: Stage) -> IndexStage:
        """Return the stage that shows ``parent`` as it is."""
        lines, samples, bands = parent.shape
        return cls(parent, range(lines), range(samples), range(bands))

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(lines, samples, bands)``."""
        return len(self.rows), len(self.cols), len(self.bands)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The parent's element type."""
        return self.parent.dtype

    @property
    def is_identity(self) -> bool:
        """Whether the stage shows its parent unchanged."""
        return not self.swapped and (self.rows, self.cols, self.bands) == tuple(range(n) for n in self.parent.shape)

    def crop(self, samples: Span, lines: Span, bands: Span) -> IndexStage:
        """Keep the half-open ranges of the output axes (spec/procedures.md#crop)."""
        return replace(self, rows=self.rows[slice(*lines)], cols=self.cols[slice(*samples)],
                       bands=self.bands[slice(*bands)])

    def rotate(self, direction: str) -> IndexStage:
        """Turn or mirror the (line, sample) plane as displayed (spec/procedures.md#rotate).

        ``clockwise`` equals ``np.rot90(x, k=-1, axes=(0, 1))``: output ``[i, j]`` is input ``[L-1-j, i]``;
        ``counterclockwise`` is input ``[j, S-1-i]``.
        """
        if direction == "clockwise":
            return replace(self, rows=self.cols, cols=self.rows[::-1], swapped=not self.swapped)
        if direction == "counterclockwise":
            return replace(self, rows=self.cols[::-1], cols=self.rows, swapped=not self.swapped)
        if direction == "swap-left-right":
            return replace(self, cols=self.cols[::-1])
        if direction == "swap-up-down":
            return replace(self, rows=self.rows[::-1])
        if direction == "180":
            return replace(self, rows=self.rows[::-1], cols=self.cols[::-1])
        raise ValueError(f"unknown rotation {direction!r}")  # the grammar admits only the five above

    def read(self, lines: Span, samples: Span, bands: Span) -> Block:
        """Read the parent's block under the requested one and arrange it."""
        rows, cols, bands_ = self.rows[slice(*lines)], self.cols[slice(*samples)], self.bands[slice(*bands)]
        if self.swapped:
            block = self.parent.read(_span(cols), _span(rows), _span(bands_))
            block = block[_order(cols), _order(rows), _order(bands_)].transpose(1, 0, 2)
        else:
            block = self.parent.read(_span(rows), _span(cols), _span(bands_))
            block = block[_order(rows), _order(cols), _order(bands_)]
        return np.ascontiguousarray(block)


def _span(axis: range) -> Span:
    """Return the parent span an (increasing or decreasing) progression covers."""
    if not axis:
        return 0, 0
    return min(axis[0], axis[-1]), max(axis[0], axis[-1]) + 1


def _order(axis: range) -> slice:
    """Return the slice that puts a block read over :func:`_span` in the order of ``axis``."""
    return slice(None, None, -1) if axis.step < 0 else slice(None)
