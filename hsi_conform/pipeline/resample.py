"""``resample:{S, L, B}``: resize a cube to S samples, L lines and B bands (spec/procedures.md#resample).

Each axis is resampled on its own (the method is separable), in the pixel-area model: output index ``j`` of an
axis of ``n`` input and ``m`` output cells covers the input interval ``[j·n/m, (j+1)·n/m)``.

- **Shrinking** (``m < n``): the area mean, each input cell weighted by its overlap with that interval.
- **Growing** (``m > n``): linear interpolation at the output cell's centre ``(j + ½)·n/m - ½``, clamped to the
  first and last input centre (no extrapolation).
- **Same size**: the axis is left as it is.

Every output value is computed as ``x[f] + Σ w·(x[i] - x[f])`` with ``f`` the first input cell it uses, so a
constant cube stays exactly constant whatever the weights. The result keeps the input's data type: integers are
rounded half to even and clipped to the type's range. The line axis is streamed: an output line reads the input
lines of its window one at a time, so memory stays at a few lines whatever the cube (spec/pipeline.md#streaming).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hsi_conform._signals import checkpoint
from hsi_conform.pipeline.stages import Block, Span, Stage

__all__ = ["AxisWeights", "ResampleStage", "axis_weights", "resample_axis"]

_CACHED_LINES = 4


@dataclass(frozen=True, slots=True)
class AxisWeights:
    """How one axis is resampled: output ``j`` is ``x[first[j]] + Σ_t weights[j, t]·(x[first[j]+t] - x[first[j]])``.

    Attributes:
        size_in: input cells.
        first: the first input cell of each output cell.
        weights: the weight of input cell ``first[j] + t`` (column ``t``); column 0 is never needed, zero weights
            pad windows shorter than the widest.
    """

    size_in: int
    first: np.ndarray[Any, np.dtype[np.intp]]
    weights: np.ndarray[Any, np.dtype[np.float64]]

    @property
    def size_out(self) -> int:
        """Output cells."""
        return len(self.first)

    @property
    def width(self) -> int:
        """Input cells of the widest window."""
        return int(self.weights.shape[1])

    def window(self, out: Span) -> Span:
        """Return the input span that output cells ``out`` read."""
        start, stop = out
        if stop <= start:
            return 0, 0
        last = self.first[start:stop] + np.where(self.weights[start:stop] > 0, np.arange(self.width), 0).max(axis=1)
        return int(self.first[start]), int(last.max()) + 1

    def cells(self, index: int) -> np.ndarray[Any, np.dtype[np.intp]]:
        """Return the input cells output cell ``index`` mixes (those with a weight)."""
        used = np.union1d([0], np.flatnonzero(self.weights[index] > 0)).astype(np.intp)
        cells: np.ndarray[Any, np.dtype[np.intp]] = used + self.first[index]
        return cells

    def centre(self, index: int) -> float:
        """Return the input position (in cells, centres at ``i``) of output cell ``index``'s centre."""
        return (index + 0.5) * self.size_in / self.size_out - 0.5


def axis_weights(size_in: int, size_out: int) -> AxisWeights:
    """Return the weights that resample an axis of ``size_in`` cells to ``size_out`` (see the module docstring)."""
    if size_out == size_in:
        return AxisWeights(size_in, np.arange(size_in, dtype=np.intp), np.zeros((size_in, 1)))
    if size_out < size_in:
        return _area_mean(size_in, size_out)
    return _linear(size_in, size_out)


def _area_mean(n: int, m: int) -> AxisWeights:
    # In units of 1/m of an input cell: output j covers [j*n, (j+1)*n), input i covers [i*m, (i+1)*m); integers
    # are exact, so only the final division rounds.
    starts = np.arange(m, dtype=np.int64) * n
    first = starts // m
    last = ((starts + n) + m - 1) // m  # exclusive
    width = int((last - first).max())
    cells = first[:, None] + np.arange(width)
    overlap = np.minimum((cells + 1) * m, starts[:, None] + n) - np.maximum(cells * m, starts[:, None])
    weights = np.clip(overlap, 0, None) / n
    weights[:, 0] = 0.0  # the reference cell: x[f] - x[f] is zero anyway
    return AxisWeights(n, first.astype(np.intp), weights)


def _linear(n: int, m: int) -> AxisWeights:
    centres = np.clip((np.arange(m) + 0.5) * n / m - 0.5, 0.0, n - 1)
    first = np.floor(centres).astype(np.intp)
    weights = np.zeros((m, 2))
    weights[:, 1] = centres - first
    return AxisWeights(n, first, weights)


def resample_axis(x: np.ndarray[Any, Any], w: AxisWeights, axis: int, out: Span | None = None,
                  offset: int = 0) -> np.ndarray[Any, Any]:
    """Resample ``x`` (floating point) along ``axis`` to output cells ``out`` (default all).

    ``x`` holds the input cells from ``offset`` on (a window of the axis, see :meth:`AxisWeights.window`).
    """
    start, stop = out if out is not None else (0, w.size_out)
    first = w.first[start:stop] - offset
    moved = np.moveaxis(x, axis, 0)
    ref = moved[first]
    result = ref.copy()
    last = moved.shape[0] - 1
    for t in range(1, w.width):
        weight = w.weights[start:stop, t]
        if not weight.any():
            continue
        shape = (len(weight),) + (1,) * (moved.ndim - 1)
        # A cell outside an output's window adds nothing, even a NaN or an infinity (0·inf is NaN).
        diff = np.where(weight.reshape(shape) > 0, moved[np.minimum(first + t, last)] - ref, 0)
        result += weight.reshape(shape) * diff
    return np.moveaxis(result, 0, axis)


@dataclass(slots=True)
class ResampleStage:
    """The parent cube resampled to ``shape`` (lines, samples, bands), computed line by line."""

    parent: Stage
    shape: tuple[int, int, int]
    _axes: tuple[AxisWeights, AxisWeights, AxisWeights] = field(init=False)
    _work: np.dtype[Any] = field(init=False)
    _cache: OrderedDict[tuple[int, Span, Span], np.ndarray[Any, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self._axes = (axis_weights(self.parent.shape[0], self.shape[0]),
                      axis_weights(self.parent.shape[1], self.shape[1]),
                      axis_weights(self.parent.shape[2], self.shape[2]))
        complex_ = np.issubdtype(self.parent.dtype, np.complexfloating)
        self._work = np.dtype(np.complex128 if complex_ else np.float64)
        self._cache = OrderedDict()

    @property
    def dtype(self) -> np.dtype[Any]:
        """The parent's element type (spec/procedures.md#resample)."""
        return self.parent.dtype

    @property
    def axes(self) -> tuple[AxisWeights, AxisWeights, AxisWeights]:
        """The weights of the line, sample and band axes."""
        return self._axes

    def read(self, lines: Span, samples: Span, bands: Span) -> Block:
        """Compute the block, one output line at a time from the input lines of its window."""
        lw, sw, bw = self._axes
        s_in, b_in = sw.window(samples), bw.window(bands)
        out = np.empty((lines[1] - lines[0], samples[1] - samples[0], bands[1] - bands[0]), self._work)
        for row, j in enumerate(range(*lines)):
            checkpoint()  # a signal stops a long resample between two lines
            first = int(lw.first[j])
            ref = self._line(first, samples, bands, s_in, b_in)
            acc = ref.copy()
            for t in range(1, lw.width):
                weight = float(lw.weights[j, t])
                if weight:
                    acc += weight * (self._line(min(first + t, lw.size_in - 1), samples, bands, s_in, b_in) - ref)
            out[row] = acc
        return _to_dtype(out, self.dtype)

    def _line(self, index: int, samples: Span, bands: Span, s_in: Span, b_in: Span) -> np.ndarray[Any, Any]:
        """Return input line ``index`` resampled along samples and bands (the last few are kept)."""
        key = (index, samples, bands)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        x = self.parent.read((index, index + 1), s_in, b_in)[0].astype(self._work)
        x = resample_axis(x, self._axes[1], 0, samples, s_in[0])
        x = resample_axis(x, self._axes[2], 1, bands, b_in[0])
        self._cache[key] = x
        if len(self._cache) > _CACHED_LINES:
            self._cache.popitem(last=False)
        return x


def _to_dtype(values: np.ndarray[Any, Any], dtype: np.dtype[Any]) -> Block:
    """Return ``values`` in ``dtype``: integers rounded half to even and clipped to the type's range."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = np.clip(np.rint(values.real), info.min, info.max)
    return np.ascontiguousarray(values.astype(dtype))
