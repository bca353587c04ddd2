"""Zarr v2 metadata and chunk references (hsi_conform/refs/zarr_v2.py; spec/refs.md#chunks)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsi_conform.refs.zarr_v2 import array_meta, chunk_refs, chunk_shape, inline_bytes, json_text


@settings(deadline=None)
@given(shape=st.tuples(*[st.integers(0, 12)] * 3), itemsize=st.sampled_from([1, 2, 4, 8]),
       target=st.integers(1, 20_000), max_chunks=st.none() | st.integers(1, 200))
def test_every_chunk_is_one_whole_range_inside_the_array(shape: tuple[int, int, int], itemsize: int,
                                                         target: int, max_chunks: int | None) -> None:
    chunks = chunk_shape(shape, itemsize, target, max_chunks)
    assert all(c >= 1 and n % c == 0 for n, c in zip(shape, chunks, strict=True))  # no chunk past the end
    if 0 in shape:
        assert not list(chunk_refs("v", shape, chunks, 0, itemsize, "u"))  # an empty array has no chunk
        return
    # contiguous: after the first axis chunked by more than 1, every inner axis is whole
    first = next((i for i, c in enumerate(chunks) if c > 1), len(chunks) - 1)
    assert all(c == 1 for c in chunks[:first]) and list(chunks[first + 1 :]) == list(shape[first + 1 :])
    count = math.prod(n // c for n, c in zip(shape, chunks, strict=True))
    nbytes = itemsize * math.prod(chunks)
    if max_chunks is None:
        assert nbytes <= target or (chunks[-1] == 1 and nbytes == itemsize)  # one element is the smallest chunk
    else:
        assert count <= max_chunks
        smaller = chunk_shape(shape, itemsize, target)
        assert math.prod(chunks) >= math.prod(smaller)  # chunks only grow to respect the bound
    refs = list(chunk_refs("v", shape, chunks, 100, itemsize, "u"))
    covered = sorted((offset, offset + length) for _, (_, offset, length) in refs)
    assert covered[0][0] == 100 and covered[-1][1] == 100 + itemsize * math.prod(shape)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))  # a tiling, no gap, no overlap


def test_chunk_keys_follow_the_storage_order() -> None:
    array = np.arange(2 * 6 * 4, dtype="<u2").reshape(2, 6, 4)
    raw = b"HEAD" + array.tobytes()
    chunks = chunk_shape(array.shape, 2, 3 * 4 * 2)  # three rows of one band
    assert chunks == (1, 3, 4)
    for key, (url, offset, length) in chunk_refs("cube", array.shape, chunks, 4, 2, "x.hsi"):
        b, r, s = (int(i) for i in key.removeprefix("cube/").split("."))
        assert url == "x.hsi" and s == 0
        got = np.frombuffer(raw[offset : offset + length], dtype="<u2").reshape(chunks)
        assert np.array_equal(got[0], array[b, 3 * r : 3 * r + 3])


def test_a_bsq_band_larger_than_the_target_is_split_into_whole_lines() -> None:
    assert chunk_shape((3, 1000, 1000), 2, 1 << 20) == (1, 500, 1000)
    assert chunk_shape((3, 1000, 1000), 2, 10 << 20) == (3, 1000, 1000)
    assert chunk_shape((7, 13, 11), 4, 4) == (1, 1, 1)  # a prime length falls back to single elements


def test_a_prime_length_never_gives_a_key_per_element_under_the_bound() -> None:
    prime = 2_147_483_647  # a 4 GiB row of uint16 with no divisor but itself
    assert chunk_shape((1, 1, prime), 2, 8 << 20) == (1, 1, 1)
    assert chunk_shape((1, 1, prime), 2, 8 << 20, 262_144) == (1, 1, prime)  # one (large) chunk instead
    assert chunk_shape((4, 6, 7), 2, 14, 10) == (1, 3, 7)  # 8 chunks of 3 lines; single lines would give 24


@pytest.mark.parametrize(("dtype", "text"), [("<u2", "<u2"), (">u2", ">u2"), ("u1", "|u1"), (">f4", ">f4")])
def test_array_meta_keeps_the_byte_order(dtype: str, text: str) -> None:
    meta = array_meta((2, 3, 4), (1, 3, 4), np.dtype(dtype), None)
    assert meta["dtype"] == text and meta["compressor"] is None and meta["order"] == "C"


def test_non_finite_values_are_zarr_strings_and_json_is_strict() -> None:
    assert array_meta((1,), (1,), np.dtype("f4"), float("nan"))["fill_value"] == "NaN"
    assert array_meta((1,), (1,), np.dtype("f4"), float("-inf"))["fill_value"] == "-Infinity"
    text = json_text({"a": [np.float32(1.5), float("inf")], "b": np.int64(3)})
    assert json.loads(text) == {"a": [1.5, "Infinity"], "b": 3}
    assert inline_bytes(b"\x00\xff") == "base64:AP8="
