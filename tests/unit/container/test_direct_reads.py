"""``read_band``, ``read_line`` and ``read_spectrum`` of a local cube read by ``pread``, the cube never mapped.

spec/container.md#direct-reads: every copy equals the same selection of ``Container.cube`` for every interleave,
byte order and data type; indexes and errors behave as numpy's indexing of the views did.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

import hsi_conform
from hsi_conform import write_container
from hsi_conform.container import source
from hsi_conform.errors import ContainerClosedError, InputUnreadableError
from hsi_conform.testing.generate import ValidContainer
from hsi_conform.testing.strategies import container_specs, valid_containers


def _every_read_equals_the_cube(c: hsi_conform.Container) -> None:
    bsq, bip = np.asarray(c.bsq()), np.asarray(c.bip())
    lines, samples, bands = bip.shape
    for band in range(-bands, bands):
        got = c.read_band(band)
        assert got.dtype == c.cube.dtype and got.flags.c_contiguous and not isinstance(got, np.memmap)
        assert np.array_equal(got, bsq[band], equal_nan=got.dtype.kind in "fc")
    for line in range(-lines, lines):
        got = c.read_line(line)
        assert got.shape == (samples, bands) and np.array_equal(got, bip[line], equal_nan=got.dtype.kind in "fc")
        for sample in (0, samples - 1, -1, samples // 2):
            spectrum = c.read_spectrum(line, sample)
            assert spectrum.shape == (bands,) and spectrum.dtype == c.cube.dtype
            assert np.array_equal(spectrum, bip[line, sample], equal_nan=spectrum.dtype.kind in "fc")


@settings(max_examples=60, deadline=None)
@given(valid_containers(container_specs(features=())))
def test_every_read_equals_the_cube_for_every_interleave_byte_order_and_type(vc: ValidContainer) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.hsi"
        path.write_bytes(vc.data)
        with hsi_conform.open(path) as c:
            first = c.read_spectrum(-1, 0)
            assert c._cube is None  # read without mapping the cube
            assert np.array_equal(first, np.asarray(c.bip())[-1, 0], equal_nan=first.dtype.kind in "fc")
            _every_read_equals_the_cube(c)
            assert np.array_equal(np.asarray(c.cube), vc.cube, equal_nan=vc.cube.dtype.kind in "fc")


@settings(max_examples=10, deadline=None)
@given(valid_containers(container_specs(features=())))
def test_an_expanded_folder_reads_as_its_container(vc: ValidContainer) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.hsi"
        path.write_bytes(vc.data)
        with zipfile.ZipFile(path) as z:
            z.extractall(Path(tmp) / "folder")
        with hsi_conform.open(Path(tmp) / "folder") as c:
            _every_read_equals_the_cube(c)


def test_a_bsq_spectrum_of_bands_far_apart_reads_one_element_per_band(tmp_path: Path) -> None:
    cube = (np.arange(3 * 700 * 800, dtype=np.uint32) % 65521).astype(">u2").reshape(3, 700, 800)
    assert source._SCRATCH_READ < 700 * 800 * 2  # a band is farther than one buffered read covers
    path = write_container(tmp_path / "far.hsi", cube, interleave="bsq", thumbnail=False)
    with hsi_conform.open(path) as c:
        for line, sample in ((0, 0), (699, 799), (-1, 3), (350, -400)):
            assert np.array_equal(c.read_spectrum(line, sample), cube[:, line, sample])
        assert np.array_equal(c.read_line(5), cube[:, 5, :].T) and np.array_equal(c.read_band(-1), cube[-1])


@pytest.fixture
def small(tmp_path: Path) -> Path:
    cube = np.arange(4 * 5 * 3, dtype="<i2").reshape(4, 3, 5)  # BIL: lines, bands, samples
    return write_container(tmp_path / "small.hsi", cube, interleave="bil", thumbnail=False)


@pytest.mark.parametrize(("read", "message"), [
    (lambda c: c.read_band(3), "index 3 is out of bounds for axis 0 with size 3"),
    (lambda c: c.read_band(-4), "index -4 is out of bounds for axis 0 with size 3"),
    (lambda c: c.read_line(4), "index 4 is out of bounds for axis 0 with size 4"),
    (lambda c: c.read_spectrum(0, 5), "index 5 is out of bounds for axis 1 with size 5"),
    (lambda c: c.read_spectrum(-5, 0), "index -5 is out of bounds for axis 0 with size 4"),
    (lambda c: c.read_spectrum(1.0, 0), "only integers"),
    (lambda c: c.read_band(True), "only integers"),
    (lambda c: c.read_line("1"), "only integers"),
])
def test_indexes_outside_the_cube_or_not_integers_are_index_errors(small: Path, read: object,
                                                                    message: str) -> None:
    with hsi_conform.open(small) as c, pytest.raises(IndexError, match=message):
        read(c)  # type: ignore[operator]


def test_numpy_integers_index_as_integers(small: Path) -> None:
    with hsi_conform.open(small) as c:
        assert np.array_equal(c.read_spectrum(np.int64(-1), np.uint8(2)), np.asarray(c.bip())[-1, 2])


def test_a_closed_container_refuses_reads_it_made_before(small: Path) -> None:
    c = hsi_conform.open(small)
    c.read_spectrum(0, 0)
    c.close()
    with pytest.raises(ContainerClosedError):
        c.read_spectrum(0, 0)


def test_a_file_truncated_after_the_first_read_is_an_unreadable_input(tmp_path: Path) -> None:
    cube = np.arange(2 * 700 * 800, dtype="<u2").reshape(2, 700, 800)
    path = write_container(tmp_path / "cut.hsi", cube, interleave="bsq", thumbnail=False)
    with hsi_conform.open(path) as c:
        c.read_spectrum(0, 0)
        with open(path, "r+b") as f:
            f.truncate(c.info("data.envi").offset + 700 * 800 * 2 + 10)  # the second band is cut off
        with pytest.raises(InputUnreadableError, match="truncated"):
            c.read_spectrum(699, 799)
        with pytest.raises(InputUnreadableError, match="truncated"):
            c.read_band(1)
