"""A slow, obvious reduction (plain loops and Python integers) that the streamed one is compared against."""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]


def round_half_away(total: int, count: int) -> int:
    """Return ``total / count`` rounded half away from zero, in integers."""
    q = (2 * abs(total) + count) // (2 * count)
    return -q if total < 0 else q


def block_value(block: Array, kind: str) -> Any:
    """Return the mean or the mode of one block (NaN ignored) as the spec defines them."""
    values = block.ravel()
    if kind == "mode":
        if values.dtype.kind == "f":
            values = values[~np.isnan(values)]
            if values.size == 0:
                return np.nan
        found, counts = np.unique(values, return_counts=True)  # sorted: argmax takes the smallest of a tie
        return found[int(np.argmax(counts))]
    if values.dtype.kind in "iu":
        return round_half_away(sum(int(v) for v in values), values.size)
    kept = values[~np.isnan(values)]
    return np.nan if kept.size == 0 else kept.astype(np.complex128 if kept.dtype.kind == "c" else np.float64).mean()


def reduce_image(image: Array, factor: int, kind: str = "mean") -> Array:
    """Reduce a (lines, samples, bands) image over ``factor`` x ``factor`` blocks, block by block."""
    lines, samples, bands = image.shape
    out = np.zeros((-(-lines // factor), -(-samples // factor), bands), dtype=image.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for b in range(bands):
                block = image[i * factor : (i + 1) * factor, j * factor : (j + 1) * factor, b]
                out[i, j, b] = block_value(block, kind)
    return out
