"""Zarr version 2 metadata and chunk references over byte ranges (spec/refs.md#format).

What a kerchunk reference set holds, written without a zarr writer: ``.zgroup``, each array's ``.zarray`` and
``.zattrs`` (inline JSON text) and its chunk keys, each a ``[url, offset, length]`` reference to one contiguous byte
range of the container. Chunks are whole runs of the outer storage axes (:func:`chunk_shape`), so every chunk is
exactly one range of the member and no chunk reaches past it.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["array_meta", "chunk_refs", "chunk_shape", "inline_bytes", "json_text", "plain_json"]

ZARR_FORMAT = 2


def chunk_shape(shape: Sequence[int], itemsize: int, target_bytes: int,
                max_chunks: int | None = None) -> tuple[int, ...]:
    """Return the chunk shape of a C-order array: contiguous chunks of at most ``target_bytes`` where possible.

    Walking from the outermost axis in, the first axis whose inner slab fits the target gets the largest divisor
    of its length whose chunk still fits; the axes outside it get 1, the axes inside it their full length. A
    divisor keeps every chunk whole: the last chunk never reaches past the array (spec/refs.md#chunks). An array
    whose innermost element run alone exceeds the target is chunked by the largest fitting divisor of that axis.

    With ``max_chunks``, chunks grow past the target (the next divisors, then whole axes further out) until there
    are at most that many: a length without a fitting divisor (a large prime) never makes one key per element.
    """
    chunks: list[int] = []
    for axis, n in enumerate(shape):
        slab = itemsize * math.prod(shape[axis + 1 :])
        if slab <= target_bytes or axis == len(shape) - 1:
            chunks.append(_largest_divisor(n, max(1, target_bytes // max(slab, 1))))
            chunks.extend(max(n, 1) for n in shape[axis + 1 :])  # zarr's chunks are positive, even on empty axes
            break
        chunks.append(1)
    return _at_most(tuple(shape), chunks, max_chunks) if max_chunks else tuple(chunks)


def _at_most(shape: tuple[int, ...], chunks: list[int], max_chunks: int) -> tuple[int, ...]:
    """Grow contiguous chunks, innermost chunked axis first, until there are at most ``max_chunks``."""
    axis = next((i for i, c in enumerate(chunks) if c > 1 or i == len(chunks) - 1), len(chunks) - 1)
    while axis >= 0:
        outer = math.prod(shape[:axis])  # one chunk per index of every axis outside
        fits = [d for d in _divisors(shape[axis]) if d >= chunks[axis] and outer * (shape[axis] // d) <= max_chunks]
        if fits:
            chunks[axis] = fits[0]
            break
        chunks[axis] = max(shape[axis], 1)
        axis -= 1
    return tuple(chunks)


def _divisors(n: int) -> list[int]:
    """Return the divisors of ``n`` in increasing order ([1] for n <= 1)."""
    if n <= 1:
        return [1]
    small = (d for d in range(1, math.isqrt(n) + 1) if n % d == 0)
    return sorted({x for d in small for x in (d, n // d)})


def _largest_divisor(n: int, at_most: int) -> int:
    """Return the largest divisor of ``n`` that is at most ``at_most`` (1 for n <= 1)."""
    return max(d for d in _divisors(n) if d <= max(at_most, 1))


def chunk_refs(name: str, shape: Sequence[int], chunks: Sequence[int], offset: int, itemsize: int,
               url: str) -> Iterator[tuple[str, list[Any]]]:
    """Yield ``(key, [url, offset, length])`` of every chunk of a C-order array stored at ``offset``.

    ``chunks`` must come from :func:`chunk_shape` (each chunk one contiguous range).
    """
    length = itemsize * math.prod(chunks)
    strides = [itemsize * math.prod(shape[axis + 1 :]) for axis in range(len(shape))]
    counts = [n // c for n, c in zip(shape, chunks, strict=True)]
    for index in itertools.product(*(range(c) for c in counts)):
        start = offset + sum(i * c * s for i, c, s in zip(index, chunks, strides, strict=True))
        yield f"{name}/{'.'.join(map(str, index)) or '0'}", [url, start, length]


def array_meta(shape: Sequence[int], chunks: Sequence[int], dtype: np.dtype[Any], fill_value: Any) -> dict[str, Any]:
    """Return the ``.zarray`` of an uncompressed, unfiltered C-order array (the dtype keeps its byte order)."""
    return {"zarr_format": ZARR_FORMAT, "shape": list(shape), "chunks": list(chunks),
            "dtype": _dtype_str(dtype), "compressor": None, "filters": None, "fill_value": _fill_json(fill_value),
            "order": "C", "dimension_separator": "."}


def _dtype_str(dtype: np.dtype[Any]) -> str:
    """Return the zarr v2 dtype: ``<u2``, ``>f4``; ``|u1`` for one-byte types, whose byte order does not exist."""
    dtype = np.dtype(dtype)
    return dtype.str


def _fill_json(value: Any) -> Any:
    """Encode a fill value as zarr v2 does: non-finite floats as the strings ``NaN``, ``Infinity``, ``-Infinity``."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def plain_json(value: Any) -> Any:
    """Return ``value`` as strict JSON can hold it: numpy scalars as numbers, non-finite floats as strings."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return _fill_json(value)
    if isinstance(value, Mapping):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain_json(value.tolist())
    return value


def json_text(value: Any) -> str:
    """Return the compact, strict JSON text of a metadata document (an inline reference)."""
    return json.dumps(plain_json(value), separators=(",", ":"), allow_nan=False)


def inline_bytes(data: bytes) -> str:
    """Return binary chunk data as an inline reference (``base64:...``)."""
    return "base64:" + base64.b64encode(data).decode("ascii")
