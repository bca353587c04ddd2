"""The block reduction of previews (spec/previews.md#block-mean to #edges): values, types, orders, chunks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hsi_conform
from hsi_conform.container.thumbnail import image_view
from hsi_conform.errors import DatasetError, InvalidArgumentError
from hsi_conform.fields import Interleave
from hsi_conform.pipeline import _blocks
from tests.unit.pipeline._reference import reduce_image

Array = np.ndarray[Any, Any]
INTERLEAVES = list(Interleave)
DTYPES = ["u1", "<i2", "<u2", ">u2", "<i4", ">u4", "<f4", ">f8", "<i8", "<u8"]


def stored(image: Array, interleave: Interleave) -> Array:
    """Return a (lines, samples, bands) image as a cube in the storage order of ``interleave``."""
    if interleave is Interleave.BSQ:
        return np.ascontiguousarray(image.transpose(2, 0, 1))
    if interleave is Interleave.BIL:
        return np.ascontiguousarray(image.transpose(0, 2, 1))
    return np.ascontiguousarray(image)


def reduce(image: Array, factor: int, interleave: Interleave = Interleave.BIP, kind: Any = "mean") -> Array:
    """Reduce an image through the public API in ``interleave`` and return the result as an image again."""
    cube = stored(image, interleave)
    out = hsi_conform.block_reduce(cube, factor, interleave=interleave, kind=kind)
    assert out.dtype == cube.dtype  # same type and byte order
    return image_view(out, interleave)


def random_image(dtype: str, shape: tuple[int, int, int], seed: int = 0) -> Array:
    rng = np.random.default_rng(seed)
    kind = np.dtype(dtype).kind
    if kind == "f":
        return rng.normal(100, 30, shape).astype(dtype)
    info = np.iinfo(np.dtype(dtype))
    low, high = max(int(info.min), -5000), min(int(info.max), 5000)
    return rng.integers(low, high, shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize("interleave", INTERLEAVES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_type_and_order_matches_the_reference(dtype: str, interleave: Interleave) -> None:
    image = random_image(dtype, (9, 7, 3))
    for factor in (1, 2, 3, 4, 9, 10):
        got = reduce(image, factor, interleave)
        expected = reduce_image(image, factor)
        if np.dtype(dtype).kind == "f":
            np.testing.assert_allclose(got, expected, rtol=1e-6)
        else:
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", ["u1", "<u2", "<i4", "<f4", ">f8"])
def test_a_constant_cube_stays_constant(dtype: str) -> None:
    image = np.full((11, 6, 4), 7, dtype=dtype)
    for factor in (2, 3, 5, 16):
        got = reduce(image, factor)
        assert np.all(got == 7) and got.shape == (-(-11 // factor), -(-6 // factor), 4)


def test_divisible_sizes_give_the_reshape_mean() -> None:
    image = np.random.default_rng(3).random((12, 8, 5))
    got = reduce(image, 4, Interleave.BSQ)
    expected = image.reshape(3, 4, 2, 4, 5).mean(axis=(1, 3))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_partial_edge_blocks_are_the_mean_of_the_pixels_present() -> None:
    image = np.arange(5 * 5, dtype="<u2").reshape(5, 5, 1)
    got = reduce(image, 2)
    assert got.shape == (3, 3, 1)
    assert got[2, 2, 0] == image[4, 4, 0]  # the corner block holds one pixel
    assert got[0, 2, 0] == round((4 + 9) / 2 + 1e-9)  # the right column: two pixels (6.5 -> 7)
    assert got[2, 0, 0] == 21  # the bottom row: pixels 20 and 21 (20.5 -> 21)


def test_integer_means_round_half_away_from_zero() -> None:
    image = np.array([[[2], [3]], [[-2], [-3]]], dtype="<i2")  # lines, samples, bands
    across = reduce(image, 2)
    assert across[0, 0, 0] == 0
    halves = np.array([[[2, 3, -2, -3], [2, 3, -2, -3]]], dtype="<i2")  # bsq: 1 band, 2 lines, 4 samples
    assert hsi_conform.block_reduce(halves, 2, interleave="bsq").tolist() == [[[3, -3]]]  # 2.5 -> 3, -2.5 -> -3
    thirds = np.array([[[0, 1, 1], [0, 0, 0]]], dtype="u1")
    assert hsi_conform.block_reduce(thirds, 3, interleave="bsq").tolist() == [[[0]]]  # 2/6 rounds down


@pytest.mark.parametrize("dtype", ["<u4", "<i4", "<i8", "<u8"])
def test_extreme_integers_do_not_overflow(dtype: str) -> None:
    info = np.iinfo(np.dtype(dtype))
    for value in (info.min, info.max):
        got = reduce(np.full((4, 4, 1), value, dtype=dtype), 4)[0, 0, 0]
        if np.dtype(dtype).itemsize < 8:
            assert got == value
        else:  # summed in float64 (spec/previews.md#rounding): near the value, never wrapped around
            assert abs(int(got) - int(value)) <= 2**11


def test_nan_is_ignored_and_an_all_nan_block_stays_nan() -> None:
    image = np.array([[1.0, np.nan, np.nan, np.nan], [3.0, np.nan, np.nan, np.nan]], dtype="<f4")[:, :, None]
    got = reduce(image, 2)
    assert got[0, 0, 0] == 2.0  # (1 + 3) / 2: the NaN is not a value
    assert np.isnan(got[0, 1, 0])
    infinite = np.array([[[np.inf], [-np.inf]]], dtype="<f8")
    assert np.isnan(reduce(infinite, 2)[0, 0, 0])  # as numpy.nanmean


def test_complex_means_ignore_nan() -> None:
    image = np.array([[[1 + 1j], [3 + 3j]], [[complex(np.nan, 0)], [2 + 2j]]], dtype="<c8")
    assert reduce(image, 2)[0, 0, 0] == 2 + 2j


def test_the_mode_picks_the_most_frequent_value_and_the_smallest_on_a_tie() -> None:
    image = np.array([[5, 5, 1, 2], [3, 5, 2, 1]], dtype="u1")[:, :, None]
    got = reduce(image, 2, kind="mode")
    assert got[:, :, 0].tolist() == [[5, 1]]  # 5 three times; 1 and 2 twice each: the smaller
    floats = np.array([[np.nan, 4.0], [np.nan, np.nan]], dtype="<f4")[:, :, None]
    assert reduce(floats, 2, kind="mode")[0, 0, 0] == 4.0
    assert np.isnan(reduce(np.full((2, 2, 1), np.nan, "<f4"), 2, kind="mode")[0, 0, 0])


@pytest.mark.parametrize("interleave", INTERLEAVES)
@pytest.mark.parametrize("dtype", ["u1", ">u2", "<i4", "<f4", "<u8"])
def test_the_mode_matches_the_reference(dtype: str, interleave: Interleave) -> None:
    image = np.random.default_rng(5).integers(0, 4, (10, 9, 2)).astype(dtype)
    image[0, :3] = 7  # a value outside the others' range
    for factor in (1, 2, 3, 10):
        np.testing.assert_array_equal(reduce(image, factor, interleave, kind="mode"),
                                      reduce_image(image, factor, "mode"))


def test_continuous_values_take_the_sorting_mode() -> None:
    image = np.random.default_rng(6).integers(0, 2**31, (6, 6, 2)).astype("<i4")  # too wide for one table
    image[:2, :2, 0] = 9
    np.testing.assert_array_equal(reduce(image, 2, kind="mode"), reduce_image(image, 2, "mode"))


@pytest.mark.parametrize("kind", ["mean", "mode"])
@pytest.mark.parametrize("interleave", INTERLEAVES)
def test_chunks_that_split_blocks_give_the_same_values(monkeypatch: pytest.MonkeyPatch, kind: str,
                                                       interleave: Interleave) -> None:
    image = random_image("<i2", (23, 11, 3), seed=2) % 5
    expected = reduce_image(image, 7, kind)
    monkeypatch.setattr(_blocks, "CHUNK_VALUES", 40)  # a chunk of one or two lines: blocks span many chunks
    np.testing.assert_array_equal(reduce(image, 7, interleave, kind), expected)
    np.testing.assert_array_equal(reduce(image, 2, interleave, kind), reduce_image(image, 2, kind))


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.dtype("<i2"), hnp.array_shapes(min_dims=3, max_dims=3, max_side=9)),
       st.integers(1, 10), st.sampled_from(INTERLEAVES), st.sampled_from(["mean", "mode"]))
def test_any_cube_matches_the_reference(image: Array, factor: int, interleave: Interleave, kind: str) -> None:
    np.testing.assert_array_equal(reduce(image, factor, interleave, kind), reduce_image(image, factor, kind))


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.dtype("<f4"), hnp.array_shapes(min_dims=3, max_dims=3, max_side=8),
                  elements=st.floats(-1e6, 1e6, width=32) | st.just(np.nan)),
       st.integers(1, 9))
def test_float_means_match_nanmean(image: Array, factor: int) -> None:
    got = reduce(image, factor)
    np.testing.assert_allclose(got, reduce_image(image, factor), rtol=1e-6, atol=1e-3)


@pytest.mark.parametrize("factor", [0, -2, 1.5, True, "2"])
def test_a_factor_must_be_a_whole_number_of_pixels(factor: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        hsi_conform.block_reduce(np.zeros((2, 2, 2), "u1"), factor)


def test_arguments_the_reduction_does_not_define_are_refused() -> None:
    with pytest.raises(InvalidArgumentError):
        hsi_conform.block_reduce(np.zeros((2, 2, 2), "u1"), 2, kind="median")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        hsi_conform.block_reduce(np.zeros((2, 2, 2), "u1"), 2, interleave="bsx")
    with pytest.raises(DatasetError):
        hsi_conform.block_reduce(np.zeros((2, 2), "u1"), 2)
    with pytest.raises(DatasetError):
        hsi_conform.block_reduce(np.zeros((2, 2, 2), "<c8"), 2, kind="mode")
    with pytest.raises(DatasetError):
        hsi_conform.block_reduce(np.zeros((2, 2, 2), bool), 2)
