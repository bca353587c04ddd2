"""Block reduction of an image in line slabs: the mean or the mode over factor x factor pixels.

The semantics are spec/previews.md#block-mean, #rounding, #nan, #mode and #edges. An output line of factor
``f`` is made from the ``f`` source lines of its block row, read in chunks of about :data:`CHUNK_VALUES` values
and folded into per-block accumulators, so memory depends on the width of a line and on the output, never on the
number of lines of the source.

Images here are (lines, samples, bands) views (:func:`hsi_conform.container.thumbnail.image_view`) of a cube in
any storage order; a chunk is copied from a mapped cube with ``pread``
(:func:`hsi_conform.container.source.read_block`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, TypeGuard

import numpy as np

from hsi_conform._signals import checkpoint
from hsi_conform.container.source import read_block
from hsi_conform.errors import DatasetError, InvalidArgumentError

__all__ = ["CHUNK_VALUES", "KINDS", "Kind", "check_factor", "check_kind", "reduce_lines", "reduced_size"]

Array = np.ndarray[Any, Any]
Kind = Literal["mean", "mode"]
"""``mean`` for measurements, ``mode`` for classification and mask data."""
KINDS: tuple[Kind, ...] = ("mean", "mode")

#: Source values read per chunk (the mode reads a quarter: it sorts a key and a value per source value).
CHUNK_VALUES = 1 << 20
_MODE_SHARE = 4
#: Integer sums are exact in int64 while ``factor² · (2·max|value| + 1)`` stays below this.
_INT64_LIMIT = 1 << 63


def is_kind(kind: object) -> TypeGuard[Kind]:
    """Return whether ``kind`` names a reduction."""
    return kind in KINDS


def check_kind(kind: object) -> Kind:
    """Return ``kind`` when it names a reduction.

    Raises:
        InvalidArgumentError: it is neither ``"mean"`` nor ``"mode"``.
    """
    if not is_kind(kind):
        raise InvalidArgumentError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return kind


def check_factor(factor: object) -> int:
    """Return ``factor`` when it is a whole number of pixels >= 1.

    Raises:
        InvalidArgumentError: it is not an integer, or below 1.
    """
    if isinstance(factor, bool) or not isinstance(factor, int | np.integer) or factor < 1:
        raise InvalidArgumentError(f"a level-of-detail factor is an integer >= 1, not {factor!r}")
    return int(factor)


def check_dtype(dtype: np.dtype[Any], kind: Kind) -> None:
    """Refuse element types the reduction does not define.

    Raises:
        DatasetError: not a number, or complex data reduced by the mode.
    """
    if dtype.kind not in "iufc":
        raise DatasetError(f"previews reduce numbers, not {dtype} values")
    if kind == "mode" and dtype.kind == "c":
        raise DatasetError("the mode of complex values is not defined (use the mean)")


def reduced_size(n: int, factor: int) -> int:
    """Return the number of blocks of ``factor`` along an axis of ``n`` pixels (a partial last block counts)."""
    return -(-n // factor)


def reduce_lines(image: Array, factor: int, start: int, stop: int, bands: Sequence[int], kind: Kind,
                 ignore: float | None = None) -> Array:
    """Return output lines ``start:stop`` of ``image`` reduced over ``factor`` x ``factor`` blocks.

    Args:
        image: a (lines, samples, bands) view of a cube (a mapped one is read with ``pread``).
        factor: the block side in pixels.
        start: the first output line to compute.
        stop: the output line after the last one.
        bands: the 0-based bands to reduce, ascending.
        kind: ``"mean"`` or ``"mode"``.
        ignore: the ``data ignore value``: such values are left out of every block, and a block of nothing else
            is that value (spec/previews.md#ignore).

    Returns:
        An array of shape ``(stop - start, ceil(samples / factor), len(bands))`` and ``image``'s dtype.
    """
    width = reduced_size(image.shape[1], factor)
    out = np.empty((stop - start, width, len(bands)), dtype=image.dtype)
    if kind == "mean":  # the accumulators hold one value per output pixel and band
        batch = max(1, CHUNK_VALUES // max(1, width * len(bands)))
    else:  # whole block rows in one chunk when they fit: each is tallied once, never merged
        batch = max(1, CHUNK_VALUES // _MODE_SHARE // max(1, factor * image.shape[1] * len(bands)))
    runs = _runs(bands)
    for first in range(start, stop, batch):
        last = min(stop, first + batch)
        out[first - start : last - start] = _reduce_batch(image, factor, first, last, runs, kind, ignore)
    return out


def _runs(bands: Sequence[int]) -> list[tuple[int, int]]:
    """Return ascending bands as ``(start, stop)`` runs of neighbours, so that each run is one strided read."""
    runs: list[list[int]] = []
    for band in bands:
        if runs and runs[-1][1] == band:
            runs[-1][1] = band + 1
        else:
            runs.append([band, band + 1])
    return [(a, b) for a, b in runs]


def _reduce_batch(image: Array, factor: int, first: int, last: int, runs: list[tuple[int, int]],
                  kind: Kind, ignore: float | None) -> Array:
    lines, samples = image.shape[:2]
    bands = sum(b - a for a, b in runs)
    shape = (last - first, reduced_size(samples, factor), bands)
    acc: _Mean | _Mode = (_Mean(shape, image.dtype, factor, ignore) if kind == "mean"
                          else _Mode(shape, image.dtype, factor, ignore))
    budget = CHUNK_VALUES if kind == "mean" else CHUNK_VALUES // _MODE_SHARE
    step = max(1, budget // max(1, samples * bands))
    low, high = first * factor, min(lines, last * factor)
    for a in range(low, high, step):
        checkpoint()  # a signal stops a preview between two chunks
        b = min(high, a + step)
        head = min((-a) % factor, b - a)  # chunk lines before the first block row that starts in the chunk
        starts = np.arange(head, b - a, factor)
        if head:
            starts = np.concatenate(([0], starts))
        acc.add(_read(image, a, b, runs), head, starts, (a + starts) // factor - first)
    return acc.result(_block_counts(lines, samples, factor, first, last))


def _read(image: Array, a: int, b: int, runs: list[tuple[int, int]]) -> Array:
    parts = [_read_stored(image[a:b, :, s:e]) for s, e in runs]
    values = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)
    return values.astype(values.dtype.newbyteorder("="), copy=False)


def _read_stored(view: Array) -> Array:
    """Copy ``view`` in the order its bytes are stored (one read per run), returned as a view in ``view``'s axes.

    Copying into (lines, samples, bands) order directly would reorder a BIL or BSQ cube value by value while
    reading; the sums work on any strides.
    """
    order = sorted(range(view.ndim), key=lambda axis: -view.strides[axis])
    stored: Array = read_block(view.transpose(order)).transpose(np.argsort(order))
    return stored


def _block_counts(lines: int, samples: int, factor: int, first: int, last: int) -> Array:
    """Return the pixels of each block of output lines ``first:last`` (fewer at the bottom and right edges)."""
    rows = np.minimum(factor, lines - np.arange(first, last) * factor)
    cols = np.minimum(factor, samples - np.arange(reduced_size(samples, factor)) * factor)
    counts: Array = (rows[:, None] * cols[None, :])[:, :, None].astype(np.int64)
    return counts


def _block_sums(values: Array, head: int, factor: int, dtype: type[Any]) -> Array:
    """Sum ``values`` (lines, samples, bands) over each block row and block column, in ``dtype``.

    The block rows are ``head`` lines (when not 0), then ``factor`` lines each, the last one possibly shorter.
    """
    return _group_sums(_group_sums(values, 0, head, factor, dtype), 1, 0, factor, dtype)


def _group_sums(values: Array, axis: int, head: int, factor: int, dtype: type[Any]) -> Array:
    """Sum groups along ``axis``: ``head`` items, then groups of ``factor``, the last one possibly shorter."""
    x = np.moveaxis(values, axis, 0)
    n = x.shape[0]
    full = (n - head) // factor
    end = head + full * factor
    pieces = []
    if head:
        pieces.append(x[:head].sum(axis=0, keepdims=True, dtype=dtype))
    if full:  # splitting an axis is a view: the sum of whole groups needs no copy
        pieces.append(x[head:end].reshape(full, factor, *x.shape[1:]).sum(axis=1, dtype=dtype))
    if end < n:
        pieces.append(x[end:].sum(axis=0, keepdims=True, dtype=dtype))
    sums = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
    return np.moveaxis(sums, 0, axis)


class _Mean:
    """Per-block sums (and, for floats or with an ignore value, counts of the values kept) folded chunk by chunk."""

    def __init__(self, shape: tuple[int, int, int], dtype: np.dtype[Any], factor: int,
                 ignore: float | None = None) -> None:
        self.factor = factor
        self.exact = dtype.kind in "iu" and factor * factor * (2 * _max_abs(dtype) + 1) < _INT64_LIMIT
        acc: type[Any] = np.int64 if self.exact else np.complex128 if dtype.kind == "c" else np.float64
        self.sums = np.zeros(shape, dtype=acc)
        self.ignore = ignore
        self.counts = np.zeros(shape, dtype=np.int64) if dtype.kind in "fc" or ignore is not None else None
        self.dtype = dtype

    def add(self, values: Array, head: int, line_starts: Array, rows: Array) -> None:
        """Fold a chunk: its block rows begin at ``line_starts`` (the first after ``head`` lines) and are ``rows``."""
        del line_starts  # the sums split the chunk by ``head`` and the factor
        if self.counts is not None:
            missing = _left_out(values, self.ignore)
            values = values.astype(self.sums.dtype)
            values[missing] = 0
            self.counts[rows] += _block_sums(~missing, head, self.factor, np.int64)
        with np.errstate(invalid="ignore", over="ignore"):  # +inf and -inf in one block: NaN, as nanmean
            self.sums[rows] += _block_sums(values, head, self.factor, self.sums.dtype.type)

    def result(self, counts: Array) -> Array:
        """Return the block means in the source's dtype (``counts``: the pixels of each block)."""
        empty = None
        if self.counts is not None:  # only the values kept count; a block with none is NaN or the ignore value
            counts = self.counts
            empty = counts == 0
            counts = np.where(empty, 1, counts)
        out = self._means(counts)
        if empty is not None and empty.any():
            out[empty] = np.nan if self.ignore is None else self.ignore
        return out

    def _means(self, counts: Array) -> Array:
        if self.dtype.kind in "fc":  # NaN-aware, as numpy.nanmean
            with np.errstate(invalid="ignore"):
                means: Array = (self.sums / counts).astype(self.dtype)
            return means
        if self.exact:  # half away from zero, in integers: round(s / c) = sign(s) · ((2|s| + c) // 2c)
            q = (2 * np.abs(self.sums) + counts) // (2 * counts)
            exact: Array = np.where(self.sums < 0, -q, q).astype(self.dtype)
            return exact
        quotient = self.sums / counts
        rounded = np.sign(quotient) * np.floor(np.abs(quotient) + 0.5)
        info = np.iinfo(self.dtype)
        clipped: Array = np.clip(rounded, _float_bound(info.min), _float_bound(info.max)).astype(self.dtype)
        return clipped


class _Mode:
    """Per-block counts of each distinct value, kept as sorted ``(key, value, count)`` columns."""

    def __init__(self, shape: tuple[int, int, int], dtype: np.dtype[Any], factor: int,
                 ignore: float | None = None) -> None:
        self.shape = shape
        self.factor = factor
        self.dtype = dtype
        self.ignore = ignore
        self.float = dtype.kind == "f"
        self.keys = np.empty(0, dtype=np.int64)
        self.values = np.empty(0, dtype=dtype.newbyteorder("="))
        self.counts = np.empty(0, dtype=np.int64)

    def add(self, values: Array, head: int, line_starts: Array, rows: Array) -> None:
        """Fold a chunk: its block rows begin at ``line_starts`` (the first after ``head`` lines) and are ``rows``."""
        del head
        lines, samples, bands = values.shape
        row_of_line = np.repeat(rows, np.diff(np.append(line_starts, lines)))
        column = np.arange(samples) // self.factor
        keys = (row_of_line[:, None, None] * self.shape[1] + column[None, :, None]) * bands + np.arange(bands)
        flat_keys, flat_values = np.broadcast_to(keys, values.shape).ravel(), values.ravel()
        if self.float or self.ignore is not None:
            kept = ~_left_out(flat_values, self.ignore)
            flat_keys, flat_values = flat_keys[kept], flat_values[kept]
        self.keys, self.values, self.counts = _tally(np.concatenate((self.keys, flat_keys)),
                                                     np.concatenate((self.values, flat_values)),
                                                     np.concatenate((self.counts, np.ones(flat_keys.size, np.int64))))

    def result(self, counts: Array) -> Array:
        """Return the most frequent value of each block (ties: the smallest; no value: the ignore value or NaN)."""
        del counts  # every value was counted
        order = np.lexsort((self.values, -self.counts, self.keys))
        keys = self.keys[order]
        first = np.ones(keys.size, dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        empty = self.ignore if self.ignore is not None else np.nan if self.float else 0
        out = np.full(int(np.prod(self.shape)), empty, dtype=self.values.dtype)
        out[keys[first]] = self.values[order][first]
        return out.reshape(self.shape).astype(self.dtype)


def _left_out(values: Array, ignore: float | None) -> Array:
    """Return where ``values`` are NaN or equal the ignore value: they do not count in a block."""
    missing: Array = np.isnan(values) if values.dtype.kind in "fc" else np.zeros(values.shape, dtype=bool)
    if ignore is not None:
        missing |= values == ignore
    return missing


def _tally(keys: Array, values: Array, counts: Array) -> tuple[Array, Array, Array]:
    """Merge equal ``(key, value)`` pairs, adding their counts; sorted by key, then value."""
    if keys.size == 0:
        return keys, values, counts
    dense = _dense_tally(keys, values, counts)
    if dense is not None:
        return dense
    order = np.lexsort((values, keys))
    keys, values, counts = keys[order], values[order], counts[order]
    new = np.ones(keys.size, dtype=bool)
    new[1:] = (keys[1:] != keys[:-1]) | (values[1:] != values[:-1])
    starts = np.flatnonzero(new)
    return keys[starts], values[starts], np.add.reduceat(counts, starts)


def _dense_tally(keys: Array, values: Array, counts: Array) -> tuple[Array, Array, Array] | None:
    """Tally through one table of every key and value when it is no larger than the input (class data), else None.

    Classification and mask values span a few integers, so a ``bincount`` replaces the sort.
    """
    if values.dtype.kind not in "iu" or values.dtype.itemsize > 4:
        return None
    low, high = int(values.min()), int(values.max())
    first, last = int(keys.min()), int(keys.max())
    span = high - low + 1
    if (last - first + 1) * span > max(CHUNK_VALUES, keys.size):
        return None
    code = (keys - first) * span + (values.astype(np.int64) - low)
    table = np.bincount(code, weights=counts, minlength=(last - first + 1) * span)
    found = np.flatnonzero(table)
    return first + found // span, (low + found % span).astype(values.dtype), table[found].astype(np.int64)


def _max_abs(dtype: np.dtype[Any]) -> int:
    info = np.iinfo(dtype)
    return max(-int(info.min), int(info.max))


def _float_bound(limit: int) -> float:
    """Return the float nearest ``limit`` that converts back to an integer within the type (2**63 - 1 does not)."""
    bound = np.float64(limit)
    if abs(int(bound)) > abs(limit):
        bound = np.nextafter(bound, 0.0)
    return float(bound)
