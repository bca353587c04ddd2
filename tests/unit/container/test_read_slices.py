"""``Container.read_band``, ``read_line`` and ``read_spectrum``: plain reads of a local cube, in every interleave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.testing.scene import SceneSpec, write_scene


@pytest.fixture(scope="module", params=list(Interleave), ids=lambda i: i.value)
def scene(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = SceneSpec(lines=9, samples=7, bands=5, interleave=request.param, data_type=DataType.FLOAT32,
                     byte_order=ByteOrder.BIG, minimal=True)
    return write_scene(tmp_path_factory.mktemp("slices") / "s.hsi", spec)


def test_band_line_and_spectrum_are_copies_of_the_views(scene: Path) -> None:
    with hsi_conform.open(scene) as c:
        bsq, bip = np.asarray(c.bsq()), np.asarray(c.bip())
        for band in (0, 4, -1):
            got = c.read_band(band)
            assert got.shape == (9, 7) and np.array_equal(got, bsq[band]) and got.dtype == c.cube.dtype
            assert not isinstance(got, np.memmap) and got.flags.c_contiguous
        for line in (0, 8):
            assert np.array_equal(c.read_line(line), bip[line]) and c.read_line(line).shape == (7, 5)
        for line, sample in ((0, 0), (8, 6), (3, 2)):
            assert np.array_equal(c.read_spectrum(line, sample), bip[line, sample])
            assert c.read_spectrum(line, sample).shape == (5,)


def test_indexes_outside_the_cube_are_index_errors(scene: Path) -> None:
    with hsi_conform.open(scene) as c:
        for read in (lambda: c.read_band(5), lambda: c.read_line(9), lambda: c.read_spectrum(0, 7)):
            with pytest.raises(IndexError):
                read()
