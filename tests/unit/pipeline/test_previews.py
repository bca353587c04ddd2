"""Previews written into containers (spec/previews.md#previews): levels, names, headers, bands, other members."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hsi_conform
from hsi_conform.container.thumbnail import display_bands, image_view
from hsi_conform.errors import DatasetError, InvalidArgumentError, OutputIsInputError
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.members import THUMBNAIL
from hsi_conform.pipeline.previews import coarsest_factor, level_plan
from hsi_conform.testing.scene import SceneSpec, write_scene
from tests._support import traced_peak
from tests.unit.pipeline._reference import reduce_image

Array = np.ndarray[Any, Any]


def digests(path: Path) -> dict[str, str]:
    with hsi_conform.open(path) as c:
        return {name: hashlib.sha256(c.read_bytes(name)).hexdigest() for name in c.names}


def is_preview(name: str) -> bool:
    return "/" not in name and name.startswith("preview")


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample scene: previews, thumbnail, references, Exploration/ and Metadata/ members."""
    return write_scene(tmp_path_factory.mktemp("scene") / "scene.hsi", SceneSpec(lines=40, samples=30, bands=6))


def test_levels_and_the_coarsest_factor() -> None:
    assert coarsest_factor(100, 80) == 1
    assert coarsest_factor(257, 10) == 2
    assert coarsest_factor(100, 2000, (2, 4)) == 8  # 2000 / 8 = 250
    assert coarsest_factor(100, 80, (2, 4)) == 4  # never finer than a preview_<f>
    assert level_plan(600, 300, (8, 2, 2)) == (("", 8), ("2", 2), ("8", 8))
    assert level_plan(600, 300, ()) == (("", 3),)
    with pytest.raises(InvalidArgumentError):
        level_plan(10, 10, (0,))


@pytest.mark.parametrize("spec", [
    SceneSpec(lines=37, samples=29, bands=5, interleave=Interleave.BSQ),
    SceneSpec(lines=37, samples=29, bands=5, interleave=Interleave.BIL, byte_order=ByteOrder.BIG),
    SceneSpec(lines=37, samples=29, bands=5, interleave=Interleave.BIP, data_type=DataType.FLOAT32),
    SceneSpec(lines=37, samples=29, bands=5, interleave=Interleave.BIL, data_type=DataType.INT16,
              byte_order=ByteOrder.BIG),
], ids=lambda s: f"{s.interleave}-{s.data_type.name}-{s.byte_order.name}")
def test_every_level_is_the_block_mean_of_the_cube(tmp_path: Path, spec: SceneSpec) -> None:
    src = write_scene(tmp_path / "src.hsi", spec)
    dst = hsi_conform.write_previews(src, tmp_path / "dst.hsi", lods=(2, 3))
    with hsi_conform.open(src) as s, hsi_conform.open(dst) as d:
        image = image_view(np.asarray(s.cube), spec.interleave)
        assert d.previews == ("", "2", "3") or sorted(d.previews) == ["", "2", "3"]
        for lod, factor in (("", 3), ("2", 2), ("3", 3)):
            preview = d.preview(lod)
            assert preview.dtype == s.cube.dtype  # type and byte order kept
            header = d.read_header(f"preview{'_' + lod if lod else ''}.hdr")
            assert header.value("interleave") is spec.interleave
            got, expected = image_view(np.asarray(preview), spec.interleave), reduce_image(image, factor)
            if spec.data_type is DataType.FLOAT32:
                np.testing.assert_allclose(got, expected, rtol=1e-6)
            else:
                np.testing.assert_array_equal(got, expected)
    report = hsi_conform.check(dst, content="full")
    assert report.conformant, [(f.rule, str(f.location)) for f in report.failures()]


def test_other_members_are_byte_identical_and_old_previews_are_replaced(tmp_path: Path, scene: Path) -> None:
    before = digests(scene)
    assert "preview.envi" in before
    dst = hsi_conform.write_previews(scene, tmp_path / "dst.hsi", lods=(4,))
    after = digests(dst)
    assert {n: h for n, h in before.items() if not is_preview(n)} == {n: h for n, h in after.items()
                                                                     if not is_preview(n)}
    assert sorted(n for n in after if is_preview(n)) == ["preview.envi", "preview.hdr", "preview_4.envi",
                                                        "preview_4.hdr"]
    assert after["preview.envi"] != before["preview.envi"]  # the scene's own preview was a subsample
    assert after["preview.envi"] == after["preview_4.envi"]  # the coarsest level is also a requested one


def test_a_level_no_longer_requested_is_left_out(tmp_path: Path, scene: Path) -> None:
    first = hsi_conform.write_previews(scene, tmp_path / "first.hsi", lods=(2, 4))
    second = hsi_conform.write_previews(first, tmp_path / "second.hsi", lods=(3,))
    with hsi_conform.open(second) as c:
        assert sorted(c.previews) == ["", "3"]


def test_preview_headers_hold_the_layout_and_the_spectral_fields(tmp_path: Path, scene: Path) -> None:
    dst = hsi_conform.write_previews(scene, tmp_path / "dst.hsi", lods=(2,))
    with hsi_conform.open(dst) as c:
        cube = c.header
        for name in ("preview.hdr", "preview_2.hdr"):
            header = c.read_header(name)
            assert header.keys() == ["samples", "lines", "bands", "header offset", "file type", "data type",
                                     "interleave", "byte order", "wavelength units", "wavelength", "fwhm",
                                     "default bands"]
            for key in ("wavelength units", "wavelength", "fwhm", "default bands", "data type", "byte order"):
                assert header.value(key) == cube.value(key), key
            assert header.get("wavelength").items == cube.get("wavelength").items  # as data.hdr writes them


def test_a_band_subset_carries_its_wavelengths_and_renumbered_default_bands(tmp_path: Path, scene: Path) -> None:
    with hsi_conform.open(scene) as c:
        waves = c.header.value("wavelength")
        default = c.header.value("default bands")
        image = image_view(np.asarray(c.cube), c.layout.interleave)
    keep = sorted({*default, 1})
    dst = hsi_conform.write_previews(scene, tmp_path / "dst.hsi", lods=(2,), bands=[*reversed(keep), keep[0]])
    with hsi_conform.open(dst) as c:
        header = c.read_header("preview_2.hdr")
        assert header.value("bands") == len(keep)
        assert header.value("wavelength") == tuple(waves[b - 1] for b in keep)  # in the cube's order
        assert [keep[b - 1] for b in header.value("default bands")] == list(default)
        got = image_view(np.asarray(c.preview("2")), c.layout.interleave)
        np.testing.assert_array_equal(got, reduce_image(image[:, :, [b - 1 for b in keep]], 2))
    assert hsi_conform.check(dst, content="full").conformant


def test_a_subset_without_the_default_bands_has_none(tmp_path: Path, scene: Path) -> None:
    with hsi_conform.open(scene) as c:
        default = c.header.value("default bands")
    other = next(b for b in range(1, 7) if b not in default)
    dst = hsi_conform.write_previews(scene, tmp_path / "dst.hsi", lods=(), bands=[other])
    with hsi_conform.open(dst) as c:
        header = c.read_header("preview.hdr")
        assert header.value("bands") == 1 and "default bands" not in header


def test_rgb_keeps_the_thumbnail_bands(tmp_path: Path) -> None:
    src = hsi_conform.write_container(tmp_path / "src.hsi", np.arange(4 * 6 * 5, dtype="<u2").reshape(4, 6, 5),
                                      interleave="bip", fields={"wavelength": [400.0, 470.0, 560.0, 650.0, 900.0],
                                                                "wavelength units": "Nanometers"})
    dst = hsi_conform.write_previews(src, tmp_path / "dst.hsi", lods=(2,), bands="rgb")
    shown = display_bands(5, wavelengths=[400.0, 470.0, 560.0, 650.0, 900.0])
    assert shown == (3, 2, 1)
    with hsi_conform.open(dst) as c:
        header = c.read_header("preview_2.hdr")
        assert header.value("wavelength") == (470.0, 560.0, 650.0)
        assert header.value("default bands") == (3, 2, 1)  # red, green, blue among the kept bands
    assert hsi_conform.check(dst, content="full").conformant


@pytest.mark.parametrize("bands", [[0], [7], [], "all", [1.0]])
def test_bands_out_of_range_are_refused_before_anything_is_written(tmp_path: Path, scene: Path,
                                                                    bands: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        hsi_conform.write_previews(scene, tmp_path / "dst.hsi", bands=bands)
    assert not (tmp_path / "dst.hsi").exists()


def test_an_open_container_is_a_source_and_never_its_own_destination(tmp_path: Path, scene: Path) -> None:
    with hsi_conform.open(scene) as c:
        dst = hsi_conform.write_previews(c, tmp_path / "dst.hsi", lods=(2,), kind="mode")
        with pytest.raises(OutputIsInputError):
            hsi_conform.write_previews(c, scene)
        image = image_view(np.asarray(c.cube), c.layout.interleave)
    with hsi_conform.open(dst) as d:
        got = image_view(np.asarray(d.preview("2")), d.layout.interleave)
    np.testing.assert_array_equal(got, reduce_image(image, 2, "mode"))


def test_a_source_without_a_thumbnail_gets_one(tmp_path: Path) -> None:
    src = hsi_conform.write_container(tmp_path / "src.hsi", np.ones((3, 5, 4), "<u2"), interleave="bsq",
                                      fields={"wavelength": [500.0, 600.0, 700.0]}, thumbnail=False)
    with hsi_conform.open(src) as c:
        assert THUMBNAIL not in c
    dst = hsi_conform.write_previews(src, tmp_path / "dst.hsi", lods=(2,))
    with hsi_conform.open(dst) as c:
        assert THUMBNAIL in c
    assert hsi_conform.check(dst, content="full").conformant


def test_complex_cubes_have_no_mode(tmp_path: Path) -> None:
    src = hsi_conform.write_container(tmp_path / "src.hsi", np.ones((2, 4, 4), "<c8"), interleave="bsq",
                                      fields={"wavelength": [500.0, 600.0]})
    with pytest.raises(DatasetError):
        hsi_conform.write_previews(src, tmp_path / "dst.hsi", kind="mode")
    hsi_conform.write_previews(src, tmp_path / "dst.hsi")  # the mean is defined


def test_preview_levels_of_an_array_write_through_write_container(tmp_path: Path) -> None:
    cube = np.random.default_rng(0).integers(0, 1000, (600, 3, 20)).astype("<u2")  # bil: 600 lines
    levels = hsi_conform.preview_levels(cube, (2, 4), interleave="bil")
    assert list(levels) == ["", "2", "4"]
    assert levels[""].shape == (150, 3, 5)  # factor 4: 600 / 4 = 150 lines
    np.testing.assert_array_equal(levels[""], levels["4"])
    assert levels[""] is not levels["4"]
    image = image_view(cube, Interleave.BIL)
    np.testing.assert_array_equal(image_view(levels["2"], Interleave.BIL), reduce_image(image, 2))
    path = hsi_conform.write_container(tmp_path / "x.hsi", cube, interleave="bil",
                                       fields={"wavelength": [500.0, 600.0, 700.0]}, previews=levels)
    assert hsi_conform.check(path, content="full").conformant


def test_peak_memory_does_not_grow_with_the_cube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The accumulators grow with the output lines up to CHUNK_VALUES values, then stay there: a smaller chunk makes
    # both cubes past that point (at the default, a cube of 128 MiB is), so what is compared is what grows beyond it.
    monkeypatch.setattr("hsi_conform.pipeline._blocks.CHUNK_VALUES", 1 << 16)

    def source(lines: int) -> Path:
        cube = np.random.default_rng(lines).integers(0, 4000, (lines, 32, 256), dtype="<u2")  # bil, 16 KB a line
        return hsi_conform.write_container(tmp_path / f"src{lines}.hsi", cube, interleave="bil",
                                           fields={"wavelength": [400.0 + i for i in range(32)]})

    small, large = source(1024), source(4096)  # 16 MiB and 64 MiB
    hsi_conform.write_previews(small, tmp_path / "warm.hsi", lods=(8,))  # imports and caches outside the trace
    peak_small = traced_peak(lambda: hsi_conform.write_previews(small, tmp_path / "s.hsi", lods=(8,)))
    peak_large = traced_peak(lambda: hsi_conform.write_previews(large, tmp_path / "l.hsi", lods=(8,)))
    assert peak_large < 1.25 * peak_small + (1 << 20), (peak_small, peak_large)
    assert peak_large < (64 << 20) // 2


@pytest.mark.parametrize("kind", ["mean", "mode"])
@pytest.mark.parametrize("dtype", ["<u2", "<f4"])
def test_the_ignore_value_is_left_out_of_every_block(kind: str, dtype: str) -> None:
    plane = np.array([[0, 0, 7, 0],
                      [0, 0, 9, 9],
                      [4, 0, 5, 5]], dtype=dtype)  # lines x samples, 0 = no data
    out = hsi_conform.block_reduce(plane[None], 2, interleave="bsq", kind=kind, ignore=0)[0]  # type: ignore[arg-type]
    mean = 25 / 3 if dtype == "<f4" else 8  # (7 + 9 + 9) / 3, rounded for integers
    expected = [[0, mean if kind == "mean" else 9], [4, 5]]  # all-ignored block: the ignore value
    np.testing.assert_array_equal(out, np.array(expected, dtype=dtype))


def test_write_previews_honours_data_ignore_value(tmp_path: Path) -> None:
    cube = np.full((1, 4, 4), 100, "<u2")
    cube[0, :2, :2] = 0
    cube[0, 0, 2] = 0
    src = hsi_conform.write_container(tmp_path / "src.hsi", cube, interleave="bsq",
                                      fields={"wavelength": [500.0], "data ignore value": 0})
    dst = hsi_conform.write_previews(src, tmp_path / "dst.hsi", lods=(2,))
    with hsi_conform.open(dst) as c:
        np.testing.assert_array_equal(c.preview("2")[0], [[0, 100], [100, 100]])
        assert c.read_header("preview_2.hdr").value("data ignore value") == 0
    assert hsi_conform.check(dst, content="full").conformant
