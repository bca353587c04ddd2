"""The stages of the executor on arrays: rotations, crops, resampling, merges (spec/procedures.md).

Property tests: rotations compose to the identity, a crop of a crop is one crop, blocks equal the whole, a resample
of a constant is constant, output shapes equal ``shape_after`` of the typed procedures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsi_conform.header.procedures import Crop, IndexRange, Resample, Rotate
from hsi_conform.pipeline.merge import MergeStage, fill_value
from hsi_conform.pipeline.resample import ResampleStage, axis_weights, resample_axis
from hsi_conform.pipeline.stages import ArrayStage, IndexStage, SourceStage, Stage, read_all

Cube = np.ndarray[Any, Any]
NUMPY_ROTATIONS = {
    "clockwise": lambda x: np.rot90(x, k=-1, axes=(0, 1)),
    "counterclockwise": lambda x: np.rot90(x, k=1, axes=(0, 1)),
    "180": lambda x: x[::-1, ::-1],
    "swap-left-right": lambda x: x[:, ::-1],
    "swap-up-down": lambda x: x[::-1],
}


@st.composite
def cubes(draw: st.DrawFn, max_side: int = 7) -> Cube:
    shape = draw(st.tuples(*(st.integers(min_value=1, max_value=max_side) for _ in range(3))))
    return np.arange(np.prod(shape), dtype=np.int32).reshape(shape)


def rotated(x: Cube, *directions: str) -> Cube:
    stage = IndexStage.identity(ArrayStage(x))
    for d in directions:
        stage = stage.rotate(d)
    return read_all(stage)


@pytest.mark.parametrize("direction", list(NUMPY_ROTATIONS))
def test_each_rotation_is_its_numpy_expression(direction: str) -> None:
    x = np.arange(3 * 4 * 2).reshape(3, 4, 2)
    assert np.array_equal(rotated(x, direction), NUMPY_ROTATIONS[direction](x))


def test_clockwise_moves_the_bottom_left_pixel_to_the_top_left() -> None:
    x = np.zeros((3, 5, 1), dtype=np.uint8)
    x[2, 0] = 1  # bottom-left as displayed (line down, sample right)
    assert rotated(x, "clockwise")[0, 0, 0] == 1


@settings(max_examples=40, deadline=None)
@given(cubes(), st.sampled_from([("clockwise", "counterclockwise"), ("counterclockwise", "clockwise"),
                                 ("180", "180"), ("swap-left-right",) * 2, ("swap-up-down",) * 2,
                                 ("clockwise",) * 4, ("clockwise", "clockwise", "180"),
                                 ("swap-left-right", "swap-up-down", "180")]))
def test_rotations_compose_to_the_identity(x: Cube, directions: tuple[str, ...]) -> None:
    stage = IndexStage.identity(ArrayStage(x))
    for d in directions:
        stage = stage.rotate(d)
    assert stage.is_identity
    assert np.array_equal(read_all(stage), x)


@settings(max_examples=60, deadline=None)
@given(cubes(), st.lists(st.sampled_from(list(NUMPY_ROTATIONS)), max_size=5), st.data())
def test_any_chain_of_rotations_and_crops_equals_numpy(x: Cube, directions: list[str], data: st.DataObject) -> None:
    expected = x
    stage = IndexStage.identity(ArrayStage(x))
    for d in directions:
        expected = NUMPY_ROTATIONS[d](expected)
        stage = stage.rotate(d)
        lines, samples, bands = expected.shape
        crop = [data.draw(_span(n)) for n in (samples, lines, bands)]
        expected = expected[slice(*crop[1]), slice(*crop[0]), slice(*crop[2])]
        stage = stage.crop(*crop)
    assert stage.shape == expected.shape
    assert np.array_equal(read_all(stage), expected)


def _span(size: int) -> st.SearchStrategy[tuple[int, int]]:
    return st.integers(min_value=0, max_value=size - 1).flatmap(
        lambda start: st.integers(min_value=start + 1, max_value=size).map(lambda stop: (start, stop)))


@settings(max_examples=40, deadline=None)
@given(cubes(), st.data())
def test_crop_of_crop_is_one_crop(x: Cube, data: st.DataObject) -> None:
    lines, samples, bands = x.shape
    outer = [data.draw(_span(n)) for n in (samples, lines, bands)]
    inner = [data.draw(_span(b - a)) for a, b in outer]
    twice = IndexStage.identity(ArrayStage(x)).crop(*outer).crop(*inner)
    once = IndexStage.identity(ArrayStage(x)).crop(*[(a + c, a + d) for (a, _), (c, d) in zip(outer, inner,
                                                                                                 strict=True)])
    assert (twice.rows, twice.cols, twice.bands) == (once.rows, once.cols, once.bands)
    assert np.array_equal(read_all(twice), read_all(once))


@settings(max_examples=40, deadline=None)
@given(cubes(), st.lists(st.sampled_from(list(NUMPY_ROTATIONS)), max_size=4), st.data())
def test_blocks_equal_the_whole(x: Cube, directions: list[str], data: st.DataObject) -> None:
    stage: Stage = IndexStage.identity(ArrayStage(x))
    for d in directions:
        stage = stage.rotate(d)  # type: ignore[attr-defined]
    whole = read_all(stage)
    spans = [data.draw(_span(n)) for n in stage.shape]
    assert np.array_equal(stage.read(*spans), whole[tuple(slice(*s) for s in spans)])


@settings(max_examples=40, deadline=None)
@given(cubes(), st.sampled_from(["clockwise", "180", "swap-up-down"]),
       st.tuples(*(st.integers(min_value=1, max_value=9) for _ in range(3))))
def test_shapes_equal_shape_after(x: Cube, direction: str, size: tuple[int, int, int]) -> None:
    lines, samples, bands = x.shape
    turned = IndexStage.identity(ArrayStage(x)).rotate(direction)
    expected = Rotate(direction).shape_after((samples, lines, bands))
    assert expected == (turned.shape[1], turned.shape[0], turned.shape[2])
    resample = Resample(*size)
    stage = ResampleStage(ArrayStage(x.astype(np.float32)), (size[1], size[0], size[2]))
    assert resample.shape_after((samples, lines, bands)) == (stage.shape[1], stage.shape[0], stage.shape[2])
    assert read_all(stage).shape == stage.shape
    crop = Crop(IndexRange(0, samples - 1), IndexRange(lines // 2, lines - 1), IndexRange(0, 0))
    cropped = IndexStage.identity(ArrayStage(x)).crop((0, samples), (lines // 2, lines), (0, 1))
    assert crop.shape_after((samples, lines, bands)) == (cropped.shape[1], cropped.shape[0], cropped.shape[2])


# -- resample --------------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.tuples(*(st.integers(min_value=1, max_value=8) for _ in range(3))),
       st.tuples(*(st.integers(min_value=1, max_value=12) for _ in range(3))),
       st.sampled_from(["<u2", ">u2", "<i4", "<f4", ">f8", "u1"]),
       st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_resample_of_a_constant_is_constant(shape: tuple[int, int, int], size: tuple[int, int, int], dtype: str,
                                            value: float) -> None:
    kind = np.dtype(dtype)
    if kind.kind in "ui":
        info = np.iinfo(kind)
        value = float(np.clip(round(value), info.min, info.max))
    x = np.full(shape, value, dtype=kind)
    out = read_all(ResampleStage(ArrayStage(x), size))
    assert out.shape == size and out.dtype == kind
    assert np.all(out == x.flat[0])


def test_shrinking_is_the_area_mean() -> None:
    x = np.arange(10, dtype=np.float64)
    assert np.allclose(resample_axis(x, axis_weights(10, 3), 0), [1.2, 4.5, 7.8])  # 3⅓ cells each
    assert np.allclose(resample_axis(x, axis_weights(10, 5), 0), [0.5, 2.5, 4.5, 6.5, 8.5])


def test_growing_interpolates_linearly_without_extrapolating() -> None:
    x = np.array([0.0, 10.0])
    assert np.allclose(resample_axis(x, axis_weights(2, 4), 0), [0.0, 2.5, 7.5, 10.0])


def test_integer_results_are_rounded_half_to_even() -> None:
    x = np.array([[[1], [2]]], dtype=np.uint8)  # 1 line, 2 samples, 1 band
    assert read_all(ResampleStage(ArrayStage(x), (1, 1, 1))).item() == 2  # mean 1.5 -> 2
    x = np.array([[[2], [3]]], dtype=np.uint8)
    assert read_all(ResampleStage(ArrayStage(x), (1, 1, 1))).item() == 2  # mean 2.5 -> 2


def test_nan_outside_a_window_does_not_spread() -> None:
    x = np.array([1.0, 1.0, np.nan, np.nan])
    assert np.array_equal(resample_axis(x, axis_weights(4, 2), 0), [1.0, np.nan], equal_nan=True)


@settings(max_examples=30, deadline=None)
@given(cubes(max_side=6), st.tuples(*(st.integers(min_value=1, max_value=9) for _ in range(3))), st.data())
def test_resample_blocks_equal_the_whole(x: Cube, size: tuple[int, int, int], data: st.DataObject) -> None:
    stage = ResampleStage(ArrayStage(x.astype(np.float64)), size)
    whole = read_all(stage)
    spans = [data.draw(_span(n)) for n in size]
    assert np.array_equal(stage.read(*spans), whole[tuple(slice(*s) for s in spans)])


def test_resample_is_separable_area_mean() -> None:
    x = np.arange(4 * 6 * 2, dtype=np.float64).reshape(4, 6, 2)
    out = read_all(ResampleStage(ArrayStage(x), (2, 3, 1)))
    expected = x.reshape(2, 2, 3, 2, 1, 2).mean(axis=(1, 3, 5))
    assert np.allclose(out, expected)


# -- merge and sources -------------------------------------------------------------------------------------------


def test_merge_paints_in_order_over_the_fill() -> None:
    base = ArrayStage(np.ones((2, 2, 1), np.uint8))
    other = ArrayStage(np.full((2, 2, 1), 5, np.uint8))
    stage = MergeStage.build(base, [(other, 1, 1)], np.uint8(9))
    assert stage.origin == (0, 0) and not stage.covers_all
    assert read_all(stage)[..., 0].tolist() == [[1, 1, 9], [1, 5, 5], [9, 5, 5]]
    left = MergeStage.build(base, [(other, -2, 0)], np.uint8(0))
    assert left.origin == (0, 2) and left.covers_all
    assert read_all(left)[..., 0].tolist() == [[5, 5, 1, 1], [5, 5, 1, 1]]


@pytest.mark.parametrize(("dtype", "ignore", "expected"), [
    ("<u2", 65535.0, 65535), ("<u2", -9999.0, 0), ("<u2", None, 0), ("<f4", float("nan"), "nan"), ("<i2", 1.5, 0),
])
def test_fill_value_is_the_ignore_value_when_the_type_holds_it(dtype: str, ignore: object, expected: object) -> None:
    value = fill_value(np.dtype(dtype), ignore)
    assert (np.isnan(value) if expected == "nan" else value == expected)


def test_a_line_source_is_read_by_lines() -> None:
    x = np.arange(5 * 3 * 2, dtype=np.float32).reshape(5, 3, 2)
    calls: list[tuple[int, int]] = []

    def rows(start: int, stop: int) -> Cube:
        calls.append((start, stop))
        return x[start:stop]

    stage = SourceStage(rows, x.shape, x.dtype)
    assert np.array_equal(stage.read((1, 3), (1, 2), (0, 2)), x[1:3, 1:2])
    assert calls == [(1, 3)]
