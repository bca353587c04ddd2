"""The quicklook ``thumbnail.jpg`` (spec/previews.md#thumbnail): decoded with Pillow and compared with the spec's
formulas, written in numpy here; and ``write_container``'s thumbnail (spec/previews.md#writers)."""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import hsi_conform
from hsi_conform.container.thumbnail import (
    display_bands,
    image_view,
    render_thumbnail,
    thumbnail_fits,
    thumbnail_for,
    wavelengths_nm,
)
from hsi_conform.container.write import ComputedCube, cube_header_fields
from hsi_conform.errors import DatasetError, InvalidArgumentError
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.header import Header, build_header_text, parse_header
from hsi_conform.testing.samples import jpeg_image
from tests._support import traced_peak

WAVES = [460.0, 550.0, 640.0, 900.0]  # blue, green, red, and a band no quicklook shows


def header_for(cube: np.ndarray[Any, Any], interleave: str = "bsq", **fields: object) -> Header:
    named = {k.replace("_", " "): v for k, v in fields.items()}
    return parse_header(build_header_text(cube_header_fields(cube, interleave, named)))


def decode(jpeg: bytes) -> tuple[Image.Image, np.ndarray[Any, Any]]:
    image = Image.open(io.BytesIO(jpeg))
    return image, np.asarray(image).astype(int)


def blocks(values: np.ndarray[Any, Any], size: int = 8) -> np.ndarray[Any, Any]:
    """Each value as a size x size block: a JPEG keeps such blocks to about one level."""
    return np.kron(values, np.ones((size, size), dtype=values.dtype))


def expected_stretch(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The spec's stretch, in plain float64: percentiles of the finite values; the rest black."""
    v = np.abs(values).astype(np.float64) if values.dtype.kind == "c" else values.astype(np.float64)
    finite = np.isfinite(v)
    low, high = np.percentile(v[finite], [2, 98])
    out = np.zeros(v.shape)
    out[finite] = np.clip((v[finite] - low) / (high - low), 0, 1) * 255
    return np.rint(out)


def grey(plane: np.ndarray[Any, Any]) -> bytes:
    """The thumbnail of a one-band BSQ cube holding ``plane``."""
    return render_thumbnail(image_view(plane[None], Interleave.BSQ), (0,))


# -- size and mode ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("lines", "samples"), [(10, 7), (256, 256), (257, 3), (1, 1000), (600, 1000), (1, 1)])
def test_the_longest_side_is_at_most_256_on_a_grid(lines: int, samples: int) -> None:
    cube = np.arange(3 * lines * samples, dtype="<u2").reshape(3, lines, samples)
    image, _ = decode(thumbnail_for(header_for(cube), cube))
    step = math.ceil(max(lines, samples) / 256)
    assert image.size == (math.ceil(samples / step), math.ceil(lines / step))
    assert max(image.size) <= 256 and image.mode == "RGB" and image.format == "JPEG"


def test_one_band_and_one_default_band_are_grey() -> None:
    one = np.arange(20, dtype="<u2").reshape(1, 4, 5)
    assert decode(thumbnail_for(header_for(one), one))[0].mode == "L"
    three = np.arange(60, dtype="<u2").reshape(3, 4, 5)
    assert decode(thumbnail_for(header_for(three, default_bands=[2]), three))[0].mode == "L"


# -- band choice ----------------------------------------------------------------------------------------------------

def bright(band: int, bands: int = 4) -> np.ndarray[Any, Any]:
    """A BSQ cube whose band ``band`` is bright on the left half and dark on the right; every other band constant."""
    cube = np.zeros((bands, 32, 32), dtype="<u2")
    cube[band, :, :16] = 1000
    return cube


@pytest.mark.parametrize(("band", "channel"), [(2, 0), (1, 1), (0, 2), (3, None)])
def test_the_band_nearest_640_550_460_nm_is_red_green_blue(band: int, channel: int | None) -> None:
    cube = bright(band)
    _, pixels = decode(thumbnail_for(header_for(cube, wavelength=WAVES, wavelength_units="nm"), cube))
    left, right = pixels[:, :12], pixels[:, 20:]  # away from the edge, which 4:2:0 chroma blurs
    assert right.max() <= 3  # dark and constant channels are black
    for c in range(3):
        assert (left[..., c].min() >= 250) if c == channel else (left[..., c].max() <= 3)


@pytest.mark.parametrize(("default", "red"), [([4, 2, 1], True), ([1, 2, 3], False)])
def test_default_bands_win_over_wavelengths(default: list[int], red: bool) -> None:
    cube = bright(3)  # 900 nm: shown only when default bands name it
    _, pixels = decode(thumbnail_for(header_for(cube, wavelength=WAVES, default_bands=default), cube))
    assert (pixels[0, 0, 0] >= 250) == red


def test_without_wavelengths_last_middle_first_are_red_green_blue() -> None:
    assert display_bands(5) == (4, 2, 0)
    assert display_bands(2) == (1, 1, 0)
    assert display_bands(1) == (0,)
    cube = bright(3)
    _, pixels = decode(thumbnail_for(header_for(cube), cube))
    assert pixels[0, 0, 0] >= 250 and pixels[0, 0, 1:].max() <= 3


@pytest.mark.parametrize("default", [[0, 1, 2], [1, 2], [6], [1, 2, 6], [True, 2, 3], [1.5, 2, 3]])
def test_default_bands_out_of_range_or_not_one_or_three_integers_are_ignored(default: list[Any]) -> None:
    assert display_bands(5, default_bands=default) == (4, 2, 0)


@pytest.mark.parametrize(("values", "units", "nm"), [
    ([460, 550, 640, 900], "nm", [460, 550, 640, 900]),  # 'nm' used to give no wavelengths
    ([460, 550, 640, 900], "Nanometers", [460, 550, 640, 900]),
    ([0.46, 0.55, 0.64, 0.9], "Micrometers", [460, 550, 640, 900]),
    ([0.46, 0.55, 0.64, 0.9], "um", [460, 550, 640, 900]),
    ([0.46, 0.55, 0.64, 0.9], None, [460, 550, 640, 900]),  # below 100 without units: micrometres
    ([460, 550, 640, 900], None, [460, 550, 640, 900]),
    ([4600, 5500, 6400, 9000], "Angstroms", [460, 550, 640, 900]),
    ([21739, 18181, 15625, 11111], "Wavenumber", None),
    ([1, 2, 3, 4], "Index", None),
    ([50, 200, 300, 400], None, None),  # neither all nanometres nor all micrometres
])
def test_wavelength_units(values: list[float], units: str | None, nm: list[float] | None) -> None:
    cube = bright(2)
    header = header_for(cube, wavelength=values, **({"wavelength_units": units} if units else {}))
    assert wavelengths_nm(header, 4) == (None if nm is None else pytest.approx(nm))


def test_wavelengths_must_reach_into_the_visible_range() -> None:
    assert display_bands(4, wavelengths=[470, 600, 700, 900]) == (1, 1, 0)  # starts above 460 nm: still colour
    assert display_bands(4, wavelengths=[900, 1100, 1300, 1700]) == (3, 2, 0)  # SWIR: last, middle, first
    assert display_bands(4, wavelengths=[300, 350, 400, 450]) == (3, 2, 0)
    assert display_bands(4, wavelengths=[460, float("nan"), 640, 900]) == (3, 2, 0)


def test_no_band_is_an_error() -> None:
    with pytest.raises(InvalidArgumentError):
        display_bands(0)


# -- stretch and values -------------------------------------------------------------------------------------------

def test_the_stretch_is_the_2_98_percentile_formula() -> None:
    values = blocks(np.random.default_rng(1).integers(0, 5000, size=(8, 8)))
    _, pixels = decode(grey(values.astype("<u2")))
    assert np.abs(pixels - expected_stretch(values)).max() <= 1


def test_nan_and_infinities_are_black_and_left_out_of_the_stretch() -> None:
    values = blocks(np.random.default_rng(2).uniform(-3, 7, size=(8, 8))).astype("<f4")
    values[:8, :8], values[:8, 8:16], values[8:16, :8] = np.nan, np.inf, -np.inf
    _, pixels = decode(grey(values))
    assert np.abs(pixels - expected_stretch(values)).max() <= 1
    assert pixels[:16, :8].max() <= 1 and pixels[:8, 8:16].max() <= 1


def test_the_largest_floats_do_not_overflow() -> None:
    big = np.finfo(np.float64).max
    values = blocks(np.array([[-big, big], [0.0, big / 2]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in the stretch would warn
        _, pixels = decode(grey(values))
    assert np.abs(pixels - blocks(np.array([[0, 255], [128, 191]]))).max() <= 1


@pytest.mark.parametrize("plane", [np.full((8, 8), 7.0), np.full((8, 8), np.nan)], ids=["constant", "all-nan"])
def test_a_channel_without_spread_is_black(plane: np.ndarray[Any, Any]) -> None:
    assert decode(grey(plane))[1].max() <= 1


def test_complex_values_show_their_magnitude() -> None:
    rng = np.random.default_rng(3)
    radius, angle = rng.uniform(0, 10, size=(8, 8)), rng.uniform(0, 2 * np.pi, size=(8, 8))
    values = blocks(radius * np.exp(1j * angle)).astype(">c16")
    _, pixels = decode(grey(values))
    assert np.abs(pixels - expected_stretch(values)).max() <= 1


@pytest.mark.parametrize("data_type", list(DataType), ids=lambda d: d.name)
@pytest.mark.parametrize("order", list(ByteOrder), ids=lambda o: o.name)
def test_every_data_type_and_byte_order_shows_the_same_picture(data_type: DataType, order: ByteOrder) -> None:
    values = blocks(np.random.default_rng(4).integers(0, 100, size=(4, 6)))  # exact in every type
    reference = grey(values.astype("u1"))
    assert grey(values.astype(data_type.dtype(int(order)))) == reference


@pytest.mark.parametrize(("dtype", "low"), [("<u8", 2**64 - 2**20), ("i1", -128), ("<i8", -(2**62))])
def test_extreme_integers(dtype: str, low: int) -> None:
    steps = blocks(np.random.default_rng(5).integers(0, 100, size=(8, 8)))
    unit = 2**10 if low > 0 else 1 if dtype == "i1" else 2**50
    values = (np.array(low, dtype=object) + steps.astype(object) * unit).astype(dtype)
    _, pixels = decode(grey(values))
    assert np.abs(pixels - expected_stretch(values)).max() <= 1


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=64),
       st.integers(1, 8))
def test_any_float_channel_renders(values: list[float], width: int) -> None:
    plane = np.resize(np.asarray(values, dtype="<f4"), (max(1, len(values) // width), width))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image, _ = decode(grey(plane))
    assert image.size == (plane.shape[1], plane.shape[0])


def test_the_same_pixels_give_the_same_bytes() -> None:
    cube = np.random.default_rng(6).integers(0, 4000, size=(3, 40, 30)).astype("<u2")
    assert thumbnail_for(header_for(cube), cube) == thumbnail_for(header_for(cube), cube.copy())


def test_what_has_no_picture_is_refused() -> None:
    with pytest.raises(DatasetError):
        render_thumbnail(np.zeros((0, 3, 3)), (0,))
    with pytest.raises(DatasetError):
        render_thumbnail(np.zeros((2, 3, 3)), (3,))
    with pytest.raises(DatasetError):
        render_thumbnail(np.zeros((2, 3, 3)), (0, 1))
    with pytest.raises(InvalidArgumentError):
        render_thumbnail(np.zeros((2, 3, 3)), (0,), max_side=0)


# -- memory -------------------------------------------------------------------------------------------------------

def sparse_cube(path: Path, shape: tuple[int, int, int]) -> np.memmap[Any, np.dtype[Any]]:
    with open(path, "wb") as f:
        f.truncate(math.prod(shape) * 2)  # a sparse file: no disk, no page cache until read
    return np.memmap(path, dtype="<u2", mode="r", shape=shape)


@pytest.mark.parametrize("interleave", [Interleave.BSQ, Interleave.BIP])
def test_only_the_grid_pixels_of_the_shown_bands_are_copied(tmp_path: Path, interleave: Interleave) -> None:
    small = sparse_cube(tmp_path / "small", interleave.shape(512, 512, 16))
    big = sparse_cube(tmp_path / "big", interleave.shape(2048, 2048, 16))  # 128 MiB
    render_thumbnail(image_view(small, interleave), (0, 1, 2))  # Pillow's import is no part of the peak

    def peak(cube: np.memmap[Any, np.dtype[Any]]) -> int:
        return traced_peak(lambda: render_thumbnail(image_view(cube, interleave), (15, 8, 0)))

    small_peak, big_peak = peak(small), peak(big)
    assert big_peak <= 1.1 * small_peak + (64 << 10)  # the same 256 x 256 grid, whatever the cube
    assert big_peak < 4 << 20  # of a 128 MiB cube


# -- names --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("names", "fits"), [
    (["data.hdr", "data.envi", "Metadata/thumbnail.jpg"], True),
    (["data.hdr", "data.envi", "thumbnail.jpg"], False),
    (["data.hdr", "data.envi", "Thumbnail.JPG"], False),
    (["data.hdr", "data.envi", "thumbnail.jpg/notes.txt"], False),
])
def test_thumbnail_fits(names: list[str], fits: bool) -> None:
    assert thumbnail_fits(names) is fits


# -- write_container ------------------------------------------------------------------------------------------------

def thumbnail_rules(path: Path) -> list[str]:
    return [f.rule for f in hsi_conform.check(path).findings if f.rule in ("XRF014", "XRF015", "XRF016")]


def test_write_container_writes_the_thumbnail_of_the_cube_as_written(tmp_path: Path) -> None:
    line, band, sample = np.ogrid[0:30, 0:4, 0:20]
    cube = ((line * 7 + sample * 3) * (band + 1)).astype(">u2")  # BIL, big-endian; every band the same picture
    path = hsi_conform.write_container(tmp_path / "c.hsi", cube, interleave="bil",
                                       fields={"wavelength": WAVES, "wavelength units": "nm"})
    with hsi_conform.open(path) as c:
        assert c.names == ("data.hdr", "data.envi", "thumbnail.jpg")
        jpeg = c.read_bytes("thumbnail.jpg")
        assert jpeg == thumbnail_for(c.header, c.cube)
    image, pixels = decode(jpeg)
    assert (image.size, image.mode) == ((20, 30), "RGB")
    for channel in range(3):  # each band stretched as the spec says: the same grey picture
        assert np.abs(pixels[..., channel] - expected_stretch(cube[:, 2, :])).mean() <= 2
    assert thumbnail_rules(path) == [] and hsi_conform.check(path).conformant


def test_write_container_without_a_thumbnail_or_with_the_callers(tmp_path: Path) -> None:
    cube = np.arange(60, dtype="<u2").reshape(3, 4, 5)
    with hsi_conform.open(hsi_conform.write_container(tmp_path / "none.hsi", cube, thumbnail=False)) as c:
        assert c.names == ("data.hdr", "data.envi")
    given_jpeg = jpeg_image(3, 2)
    for thumbnail in (True, False):
        path = hsi_conform.write_container(tmp_path / f"given-{thumbnail}.hsi", cube, thumbnail=thumbnail,
                                           members={"thumbnail.jpg": given_jpeg})
        with hsi_conform.open(path) as c:
            assert c.names == ("data.hdr", "data.envi", "thumbnail.jpg")
            assert c.read_bytes("thumbnail.jpg") == given_jpeg


def test_a_case_twin_of_the_thumbnail_keeps_the_container_writable(tmp_path: Path) -> None:
    cube = np.arange(60, dtype="<u2").reshape(3, 4, 5)
    path = hsi_conform.write_container(tmp_path / "twin.hsi", cube, members={"Thumbnail.JPG": jpeg_image(5, 4)})
    with hsi_conform.open(path) as c:
        assert c.names == ("data.hdr", "data.envi", "Thumbnail.JPG")


def test_a_cube_without_pixels_gets_no_thumbnail(tmp_path: Path) -> None:
    with hsi_conform.open(hsi_conform.write_container(tmp_path / "z.hsi", np.zeros((0, 2, 3), "<u2"))) as c:
        assert c.names == ("data.hdr", "data.envi")


def test_a_computed_cube_is_computed_once_and_shown_as_written(tmp_path: Path) -> None:
    cube = np.random.default_rng(8).normal(size=(6, 50, 40)).astype("<f4")
    rows: list[int] = []

    def compute(start: int, stop: int) -> np.ndarray[Any, Any]:
        rows.extend(range(start, stop))
        return cube[start:stop]

    computed = ComputedCube((6, 50, 40), cube.dtype, compute)
    path = hsi_conform.write_container(tmp_path / "computed.hsi", computed, fields={"default bands": [1, 3, 5]})
    assert rows == list(range(6))
    with hsi_conform.open(path) as c:
        assert c.read_bytes("thumbnail.jpg") == thumbnail_for(c.header, cube)
