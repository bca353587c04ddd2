"""A lazy, read-only array over a byte range of a remote object: indexing reads only the selected bytes.

:class:`RemoteArray` is what ``Container.cube`` (and every ENVI data member) is for a remote container: it has
the shape, dtype and byte order the memmap of a local copy has, and ``array[key]`` returns the same numpy array
``memmap[key]`` returns (always a copy in memory). A key of integers and slices (the common case: a band, a line, a
spectrum, a window) becomes one byte range per contiguous run, coalesced into few parallel requests within the
budget of spec/remote.md#budgets; any other key (integer arrays, masks, ``None``) reads the smallest box that
holds the selection and applies the key to it in memory, so numpy's semantics hold exactly. ``np.asarray(array)``
reads everything. :meth:`RemoteArray.transpose` is a view (``Container.bsq()`` and friends). Wrap it with
``dask.array.from_array(array, chunks=...)`` for chunked, parallel computation.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from hsi_conform.remote.ranges import RangeReader, coalesce, read_ranges_into

__all__ = ["RemoteArray"]

_Key = Any  # what numpy accepts as an index


class RemoteArray:
    """A read-only C-order array of ``shape`` and ``dtype`` stored at ``offset`` of a ranged source (lazy).

    Attributes:
        reader: Where the bytes are.
        offset: Byte offset of the first element.
    """

    def __init__(self, reader: RangeReader, dtype: np.dtype[Any], offset: int, shape: tuple[int, ...],
                 axes: tuple[int, ...] | None = None) -> None:
        self.reader = reader
        self.offset = offset
        self._dtype = np.dtype(dtype)
        self._stored = tuple(int(n) for n in shape)
        self._axes = tuple(range(len(shape))) if axes is None else tuple(axes)

    # -- numpy-like attributes -------------------------------------------------------------------------------

    @property
    def dtype(self) -> np.dtype[Any]:
        """Element type, with its byte order (as stored)."""
        return self._dtype

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape (in this view's axis order)."""
        return tuple(self._stored[a] for a in self._axes)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self._stored)

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self._stored)

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self._dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of the whole array."""
        return self.size * self.itemsize

    def __len__(self) -> int:
        if not self._stored:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __repr__(self) -> str:
        return f"RemoteArray(shape={self.shape}, dtype={self.dtype}, source={self.reader.name!r})"

    def transpose(self, *axes: Any) -> RemoteArray:
        """Return a view with permuted axes (as :meth:`numpy.ndarray.transpose`; nothing is read)."""
        if len(axes) == 1 and isinstance(axes[0], Sequence):
            axes = tuple(axes[0])
        order = [operator.index(a) for a in axes] if axes else list(reversed(range(self.ndim)))
        order = [a + self.ndim if -self.ndim <= a < 0 else a for a in order]
        if sorted(order) != list(range(self.ndim)):
            raise ValueError(f"axes {tuple(order)} do not permute {self.ndim} dimensions")
        return RemoteArray(self.reader, self._dtype, self.offset, self._stored, tuple(self._axes[a] for a in order))

    @property
    def T(self) -> RemoteArray:
        """The view with reversed axes."""
        return self.transpose()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray[Any, Any]:
        out = np.asarray(self[...])
        return out if dtype is None else out.astype(dtype, copy=False)

    # -- indexing --------------------------------------------------------------------------------------------

    def __getitem__(self, key: _Key) -> Any:
        """Read the selection (see the module docstring): a new array in memory, or a scalar for a full index."""
        parts = key if isinstance(key, tuple) else (key,)
        shape = self.shape
        # Numpy judges the key first (bounds, types, too many indices), on an array of zero strides.
        np.broadcast_to(np.empty((), dtype=self._dtype), shape)[key]
        basic = _basic(parts, shape)
        if basic is not None:
            ranges, ints, flips = basic
            box = self._read_view(ranges)
            for axis in flips:
                box = np.flip(box, axis)
            return box[tuple(0 if i in ints else slice(None) for i in range(len(shape)))]
        box_ranges, adjusted = _box(parts, shape)
        return self._read_view(box_ranges)[adjusted]

    def _read_view(self, ranges: Sequence[range]) -> np.ndarray[Any, Any]:
        """Read the box ``ranges`` (positive steps; in view order) and return it in view order."""
        stored: list[range] = [range(0)] * self.ndim
        for view_axis, r in enumerate(ranges):
            stored[self._axes[view_axis]] = r
        return self._read_box(stored).transpose(self._axes)

    def _read_box(self, ranges: Sequence[range]) -> np.ndarray[Any, Any]:
        """Read the elements at the product of per-axis ranges (stored order, positive steps)."""
        shape = tuple(len(r) for r in ranges)
        if 0 in shape:
            return np.empty(shape, dtype=self._dtype)
        strides = _strides(self._stored, self.itemsize)
        # The innermost axes selected whole form one run with the next axis when that one's selection is
        # contiguous; every axis further out gives one run per index.
        split = len(ranges)
        while split > 0 and ranges[split - 1] == range(self._stored[split - 1]):
            split -= 1
        if split == 0:
            starts, run = np.full(1, self.offset, dtype=np.int64), self.nbytes
        else:
            j = split - 1
            contiguous = ranges[j].step == 1 or len(ranges[j]) == 1
            run = len(ranges[j]) * strides[j] if contiguous else strides[j]
            starts = np.full(1, self.offset + (ranges[j].start * strides[j] if contiguous else 0), dtype=np.int64)
            for axis in range(j if contiguous else split):
                idx = np.asarray(ranges[axis], dtype=np.int64) * strides[axis]
                starts = (starts[:, None] + idx[None, :]).reshape(-1)
        return self._gather(starts, run).view(self._dtype).reshape(shape)

    def _gather(self, starts: np.ndarray[tuple[int], np.dtype[np.int64]], run: int) -> np.ndarray[Any, Any]:
        """Return the bytes of every ``[start, start + run)`` in order, as a ``(len(starts), run)`` uint8 array."""
        plan = coalesce(starts, starts + run)
        out = np.empty((len(starts), run), dtype=np.uint8)
        if len(plan.requests) == len(starts):  # a request per run (a BSQ band, a BIL band): each lands in its row
            rows = np.empty(len(starts), dtype=np.intp)
            rows[plan.owner] = np.arange(len(starts), dtype=np.intp)
            self._read_into(plan.requests, [out[i] for i in rows.tolist()])
            return out
        # Requests merged over gaps: their bodies land side by side in one buffer, the runs are copied out of it.
        sizes = [b - a for a, b in plan.requests]
        positions = np.cumsum([0, *sizes[:-1]], dtype=np.int64)
        buffer = np.empty(sum(sizes), dtype=np.uint8)
        self._read_into(plan.requests, [buffer[pos : pos + size]
                                        for pos, size in zip(positions.tolist(), sizes, strict=True)])
        bases = np.array([a for a, _ in plan.requests], dtype=np.int64)
        at = positions[plan.owner] + (starts - bases[plan.owner])
        if run >= 4096 or len(starts) < 64:
            for i, pos in enumerate(at.tolist()):
                out[i] = buffer[pos : pos + run]
        else:
            out[:] = buffer[at[:, None] + np.arange(run, dtype=np.int64)[None, :]]
        return out

    def _read_into(self, requests: list[tuple[int, int]], buffers: list[np.ndarray[Any, Any]]) -> None:
        """Fill each buffer with its request's bytes (spec/remote.md#http-reads); none may lie past the source."""
        for (a, b), count in zip(requests, read_ranges_into(self.reader, requests, buffers), strict=True):
            if count != b - a:
                raise IndexError(f"{self.reader.name}: bytes {a}-{b - 1} lie beyond the end of the source")


def _strides(shape: tuple[int, ...], itemsize: int) -> list[int]:
    strides = [itemsize] * len(shape)
    for axis in range(len(shape) - 2, -1, -1):
        strides[axis] = strides[axis + 1] * shape[axis + 1]
    return strides


def _expand(parts: tuple[Any, ...], ndim: int) -> list[Any] | None:
    """Replace an Ellipsis by full slices; None when the key holds more than integers, slices and one Ellipsis."""
    if sum(p is Ellipsis for p in parts) > 1:
        return None
    for p in parts:
        if p is not Ellipsis and not isinstance(p, slice) and not _is_int(p):
            return None
    if Ellipsis in parts:
        at = next(i for i, p in enumerate(parts) if p is Ellipsis)
        parts = (*parts[:at], *([slice(None)] * (ndim - len(parts) + 1)), *parts[at + 1 :])
    return [*parts, *([slice(None)] * (ndim - len(parts)))]


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _basic(parts: tuple[Any, ...], shape: tuple[int, ...]) -> tuple[list[range], set[int], list[int]] | None:
    """Return per-axis ranges (positive steps), the integer axes and the axes to flip, for a basic key."""
    full = _expand(parts, len(shape))
    if full is None:
        return None
    ranges: list[range] = []
    ints: set[int] = set()
    flips: list[int] = []
    for axis, (part, n) in enumerate(zip(full, shape, strict=True)):
        if isinstance(part, slice):
            r = range(n)[part]
            if r.step < 0 and len(r) > 0:
                r = r[::-1]
                flips.append(axis)
            ranges.append(r if len(r) else range(0))
        else:
            i = int(part) % n  # numpy has already checked the bounds
            ranges.append(range(i, i + 1))
            ints.add(axis)
    return ranges, ints, flips


def _box(parts: tuple[Any, ...], shape: tuple[int, ...]) -> tuple[list[range], tuple[Any, ...]]:
    """Return the smallest box (step 1) holding an advanced key's selection, and the key relative to the box."""
    ranges = [range(n) for n in shape]
    adjusted: list[Any] = []
    consumed = sum(0 if p is None or p is Ellipsis else (np.ndim(p) if _is_bool_array(p) else 1) for p in parts)
    axis = 0
    for part in parts:
        if part is None:
            adjusted.append(None)
        elif part is Ellipsis:
            adjusted.append(Ellipsis)
            axis += len(shape) - consumed
        elif _is_bool_array(part):
            adjusted.append(part)
            axis += int(np.ndim(part))
        elif isinstance(part, slice) or _is_int(part):
            lo, hi, rel = _narrow(part, shape[axis])
            ranges[axis] = range(lo, hi)
            adjusted.append(rel)
            axis += 1
        else:
            idx = np.asarray(part)
            if idx.size:
                wrapped = np.where(idx < 0, idx + shape[axis], idx)
                lo, hi = int(wrapped.min()), int(wrapped.max()) + 1
                ranges[axis] = range(lo, hi)
                idx = wrapped - lo
            adjusted.append(idx)
            axis += 1
    return ranges, tuple(adjusted)


def _is_bool_array(part: object) -> bool:
    return isinstance(part, np.ndarray | list | bool | np.bool_) and np.asarray(part).dtype == np.bool_


def _narrow(part: Any, n: int) -> tuple[int, int, Any]:
    """Return the box ``[lo, hi)`` of an integer or slice and the part relative to it."""
    if _is_int(part):
        i = int(part) % n
        return i, i + 1, 0
    r = range(n)[part]
    if len(r) == 0:
        return 0, 0, slice(0, 0)
    lo, hi = min(r[0], r[-1]), max(r[0], r[-1]) + 1
    if r.step > 0:
        return lo, hi, slice(0, hi - lo, r.step)
    return lo, hi, slice(r[0] - lo, None, r.step)
