"""RemoteArray indexes exactly as numpy indexes the memmap of the same bytes, reading only what it selects."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hsi_conform.remote import FileObjectReader, RemoteArray

SHAPE = (5, 7, 6)
OFFSET = 13  # not aligned: offsets are exact byte positions


class _Counting(FileObjectReader):
    """A reader that records every range it is asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), name="<test>")
        self.asked: list[tuple[int, int]] = []

    def read(self, offset: int, size: int) -> bytes:
        self.asked.append((offset, offset + size))
        return super().read(offset, size)


def _pair(dtype: str = ">u2", shape: tuple[int, ...] = SHAPE) -> tuple[np.ndarray[Any, Any], RemoteArray, _Counting]:
    expected = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    reader = _Counting(b"\x99" * OFFSET + expected.tobytes() + b"tail")
    return expected, RemoteArray(reader, np.dtype(dtype), OFFSET, shape), reader


KEYS: list[Any] = [
    0, -1, (1, 2), (1, 2, 3), (-1, -2, -3), slice(None), (slice(1, 4), 2), (Ellipsis, 3), (2, Ellipsis),
    (slice(None, None, 2), slice(None, None, -1), 0), (slice(4, 0, -2),), (slice(3, 3),), (slice(10, 20),),
    (..., slice(1, 5, 3)), ([0, 3, 1],), (slice(None), [6, 0, 6]), ([1, 2], [3, 4]),
    (np.array([True, False] * 2 + [True]),),
    (None, 1), (1, None, slice(2, 4)), ([[0, 1], [2, 3]], 1), (slice(1, 3), [0, -1], slice(None, None, -2)),
    (np.int64(2), np.int32(1)), (),
]


@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_indexing_matches_numpy(key: Any) -> None:
    expected, lazy, _ = _pair()
    got, want = lazy[key], expected[key]
    assert np.array_equal(got, want) and np.shape(got) == np.shape(want)
    assert np.asarray(got).dtype == want.dtype


@pytest.mark.parametrize("axes", [(0, 1, 2), (2, 0, 1), (1, 2, 0), (2, 1, 0)])
@pytest.mark.parametrize("key", [(0,), (slice(None), 1), (1, 2), (..., 0), ([1, 0], slice(1, 3)), (1, 2, 0)],
                         ids=repr)
def test_transposed_views_index_like_numpy(axes: tuple[int, ...], key: Any) -> None:
    expected, lazy, _ = _pair()
    assert lazy.transpose(axes).shape == expected.transpose(axes).shape
    assert np.array_equal(lazy.transpose(*axes)[key], expected.transpose(axes)[key])
    assert np.array_equal(lazy.T[key], expected.T[key])


def test_bad_keys_fail_as_numpy_fails_and_read_nothing() -> None:
    _, lazy, reader = _pair()
    for key in [(5,), (0, 7), (0, 0, 0, 0), (slice(None), "x")]:
        with pytest.raises((IndexError, TypeError, ValueError)):
            lazy[key]
    assert reader.asked == []
    with pytest.raises(ValueError):
        lazy.transpose(0, 0, 1)


def test_attributes_are_those_of_the_memmap() -> None:
    expected, lazy, reader = _pair("<f4")
    assert (lazy.shape, lazy.dtype, lazy.ndim, lazy.size, lazy.nbytes, lazy.itemsize, len(lazy)) == (
        expected.shape, expected.dtype, expected.ndim, expected.size, expected.nbytes, expected.itemsize,
        len(expected))
    assert reader.asked == []  # nothing is read until indexed
    assert np.array_equal(np.asarray(lazy), expected) and np.asarray(lazy, dtype=np.float64).dtype == np.float64


def test_a_band_is_one_range_and_a_spectrum_reads_only_its_values() -> None:
    _expected, lazy, reader = _pair()
    lazy[2]
    plane = SHAPE[1] * SHAPE[2] * 2
    assert reader.asked == [(OFFSET + 2 * plane, OFFSET + 3 * plane)]
    reader.asked.clear()
    lazy[:, 3, 4]
    assert sum(b - a for a, b in reader.asked) <= 1.1 * SHAPE[0] * 2 + (256 << 10)


def test_a_source_shorter_than_the_array_is_an_index_error() -> None:
    reader = FileObjectReader(io.BytesIO(b"\0" * 20))
    with pytest.raises(IndexError):
        RemoteArray(reader, np.dtype("u1"), 0, (10, 10))[5]


_SLICES = st.builds(slice, st.none() | st.integers(-8, 8), st.none() | st.integers(-8, 8),
                    st.none() | st.integers(-3, 3).filter(bool))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.integers(-5, 4), _SLICES, st.just(Ellipsis)), max_size=3).filter(
    lambda k: sum(p is Ellipsis for p in k) <= 1), hnp.integer_dtypes() | hnp.floating_dtypes())
def test_any_basic_key_matches_numpy(key: list[Any], dtype: np.dtype[Any]) -> None:
    expected, lazy, _ = _pair(dtype.str)
    try:
        want = expected[tuple(key)]
    except IndexError:
        with pytest.raises(IndexError):
            lazy[tuple(key)]
        return
    got = lazy[tuple(key)]
    assert np.shape(got) == np.shape(want) and np.array_equal(got, want, equal_nan=dtype.kind == "f")
