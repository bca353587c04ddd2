"""The container ``write_procedures`` writes: it conforms, its header and members follow the procedures, it streams
(spec/procedures.md#header, #members, #streaming)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hsi_conform
from hsi_conform.container.bboxes import parse_bounding_boxes
from hsi_conform.pipeline.procedures import write_procedures
from tests._support import assert_no_errors, member_digests, traced_peak
from tests.unit.pipeline.procedure_helpers import MAP_INFO, scene_with

Cube = np.ndarray[Any, Any]
CROP = "crop:{4:40, 2:50, 3:20}"  # samples 4..40, lines 2..50, bands 3..20 of the 48 x 64 x 32 scene


def _write(path: Path, dest: Path) -> Path:
    with hsi_conform.open(path) as c:
        return write_procedures(c, dest)


def _boxes(path: Path) -> list[tuple[str, int, int, int, int]]:
    with hsi_conform.open(path) as c:
        result = parse_bounding_boxes(c.read_bytes("Exploration/bounding boxes.csv"))
    return [(b.name, b.left, b.top, b.width, b.height) for b in result.boxes]


@pytest.fixture
def cropped(tmp_path: Path) -> tuple[Path, Path]:
    path = scene_with(tmp_path, [CROP], map_info=MAP_INFO, x_start=10, pixel_size=["0.5", "0.25", "units=Meters"])
    return path, _write(path, tmp_path / "out.hsi")


def test_a_crop_conforms_and_keeps_what_still_matches(cropped: tuple[Path, Path]) -> None:
    source, out = cropped
    assert_no_errors(out)
    with hsi_conform.open(source) as s, hsi_conform.open(out) as c:
        h = c.header
        assert (c.layout.lines, c.layout.samples, c.layout.bands) == (49, 37, 18)
        assert h.get("wavelength").items == s.header.get("wavelength").items[3:21]  # the text is kept
        assert h.value("default bands") == (10, 6, 1)  # 13, 9, 4 of the source
        assert h.value("map info")[1:3] == ("-3", "-1") and h.value("x start") == 14
        assert "read procedures" not in h and CROP in h.value("description")
        assert np.array_equal(c.reference("white"), s.reference("white")[:, 3:21, 4:41])
        assert np.array_equal(c.open_array("Exploration/leaf.envi"), s.open_array("Exploration/leaf.envi")[2:51, :,
                                                                                                            4:41])
        assert not any(n.startswith("preview") for n in c.names)
        assert c.read_bytes("Metadata/sample-camera.txt") == s.read_bytes("Metadata/sample-camera.txt")
    assert _boxes(out) == [("leaf", 4, 21, 19, 28), ("panel", 24, 4, 13, 16)]


def test_a_quarter_turn_drops_references_and_turns_masks(tmp_path: Path) -> None:
    path = scene_with(tmp_path, ["rotate:counterclockwise"], map_info=MAP_INFO, pixel_size=["0.5", "0.25"])
    out = _write(path, tmp_path / "out.hsi")
    assert_no_errors(out)
    with hsi_conform.open(path) as s, hsi_conform.open(out) as c:
        assert (c.layout.lines, c.layout.samples) == (48, 64)
        assert not any(n.startswith("Reference/") for n in c.names)
        assert "map info" not in c.header and c.header.value("pixel size") == ("0.25", "0.5")
        mask = np.array(s.open_array("Exploration/leaf.envi"))[:, 0, :]  # BIL (lines, 1 band, samples)
        assert np.array_equal(c.open_array("Exploration/leaf.envi")[:, 0, :], np.rot90(mask, k=1))
        assert "Reference/white.envi" in c.header.value("description")
    # the leaf box (left 8, top 23, 19 x 32) turned counterclockwise: samples become lines from the bottom up
    assert ("leaf", 23, 48 - 27, 32, 19) in _boxes(out)


def test_a_resample_interpolates_bands_and_drops_what_no_longer_matches(tmp_path: Path) -> None:
    path = scene_with(tmp_path, ["resample:{24, 32, 16}"], map_info=MAP_INFO, band_names=[f"b{i}" for i in range(32)],
                      bbl=[1] * 31 + [0])
    out = _write(path, tmp_path / "out.hsi")
    assert_no_errors(out)
    with hsi_conform.open(path) as s, hsi_conform.open(out) as c:
        waves = np.array(s.header.value("wavelength"))
        assert np.allclose(c.header.value("wavelength"), (waves[0::2] + waves[1::2]) / 2)
        assert "band names" not in c.header and c.header.value("bbl")[-1] == 0
        assert c.header.value("map info")[5:7] == ("1", "1")  # 0.5 m pixels, twice as large
        assert c.header.value("default bands") == (7, 5, 2)
        for name in ("Reference/white.envi", "Exploration/leaf.envi", "Exploration/bounding boxes.csv"):
            assert name not in c.names
        assert all(k not in c.header for k in ("classification file", "class names", "classes", "bounding boxes"))
        expected = np.array(s.bip(), dtype=np.float64).reshape(32, 2, 24, 2, 16, 2).mean(axis=(1, 3, 5))
        assert np.array_equal(c.bip(), np.rint(expected).astype(np.uint16))


def test_turns_that_cancel_keep_every_member(tmp_path: Path) -> None:
    path = scene_with(tmp_path, ["rotate:180", "rotate:swap-up-down", "rotate:swap-left-right"])
    out = _write(path, tmp_path / "out.hsi")
    before, after = member_digests(path), member_digests(out)
    assert {k: v for k, v in after.items() if k not in ("data.hdr", "thumbnail.jpg")} == {
        k: v for k, v in before.items() if k not in ("data.hdr", "thumbnail.jpg")}


def test_a_list_free_source_is_copied(tmp_path: Path) -> None:
    path = scene_with(tmp_path, [])
    assert member_digests(_write(path, tmp_path / "out.hsi")) == member_digests(path)


@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
def test_every_interleave_streams_to_the_same_result(tmp_path: Path, interleave: str) -> None:
    x = np.arange(5 * 6 * 4, dtype="<u2").reshape(5, 6, 4)  # lines, samples, bands
    stored = {"bsq": x.transpose(2, 0, 1), "bil": x.transpose(0, 2, 1), "bip": x}[interleave]
    path = hsi_conform.write_container(tmp_path / "in.hsi", np.ascontiguousarray(stored), interleave=interleave,
                                       fields={"wavelength": [400, 500, 600, 700], "wavelength units": "nm",
                                               "read procedures": ["rotate:clockwise", "resample:{3, 6, 2}"]})
    out = _write(path, tmp_path / "out.hsi")
    assert_no_errors(out)
    with hsi_conform.open(path) as s, hsi_conform.open(out) as c:
        assert c.layout.interleave == interleave
        assert np.array_equal(c.bip(), hsi_conform.apply_procedures(s))


def test_crop_and_mirror_stream_in_memory_independent_of_the_cube(tmp_path: Path) -> None:
    def peak(lines: int) -> int:
        x = np.lib.format.open_memmap(tmp_path / f"x{lines}.npy", mode="w+", dtype="<u2", shape=(lines, 16, 256))
        x[:] = 7
        path = hsi_conform.write_container(tmp_path / f"in{lines}.hsi", x, interleave="bil",
                                           fields={"read procedures": ["crop:{1:254, 1:" + str(lines - 2) + ", 0:15}",
                                                                       "rotate:swap-up-down"]})
        del x
        with hsi_conform.open(path) as c:
            return traced_peak(lambda: write_procedures(c, tmp_path / f"out{lines}.hsi", thumbnail=False))

    small, big = peak(2048), peak(8192)  # 16 MiB and 64 MiB cubes, both larger than a slab
    assert big < small * 1.25, (small, big)
    with hsi_conform.open(tmp_path / "out8192.hsi") as c:
        assert c.layout.lines == 8190 and int(c.cube[0, 0, 0]) == 7
