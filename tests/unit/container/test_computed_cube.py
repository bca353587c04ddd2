"""ComputedCube (a cube computed while written) and ContainerWriter.written_array."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.container.write import ComputedCube, iter_slabs
from hsi_conform.container.zipwrite import ContainerWriter
from hsi_conform.errors import DatasetError


def test_slabs_are_the_computed_rows_in_order() -> None:
    calls: list[tuple[int, int]] = []

    def compute(start: int, stop: int) -> np.ndarray:
        calls.append((start, stop))
        return np.arange(start * 6, stop * 6, dtype="<u2").reshape(stop - start, 2, 3)

    cube = ComputedCube((10, 2, 3), np.dtype("<u2"), compute)
    data = b"".join(bytes(s) for s in iter_slabs(cube, slab_bytes=24))
    assert data == np.arange(60, dtype="<u2").tobytes()
    assert calls == [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    assert cube.nbytes == 120 and cube.ndim == 3


def test_a_slab_of_the_wrong_shape_or_type_is_refused() -> None:
    wrong_shape = ComputedCube((4, 2, 3), np.dtype("<u2"), lambda a, b: np.zeros((b - a, 3, 2), "<u2"))
    wrong_type = ComputedCube((4, 2, 3), np.dtype("<u2"), lambda a, b: np.zeros((b - a, 2, 3), "<f4"))
    for cube in (wrong_shape, wrong_type):
        with pytest.raises(DatasetError):
            list(iter_slabs(cube))


def test_write_container_takes_a_computed_cube(tmp_path: Path) -> None:
    source = np.random.default_rng(1).integers(0, 4000, (7, 3, 5), dtype="<u2")  # BIL
    cube = ComputedCube(source.shape, np.dtype("<f4"), lambda a, b: source[a:b].astype("<f4") / 4000)
    path = hsi_conform.write_container(tmp_path / "c.hsi", cube, interleave="bil",
                                       fields={"wavelength": [500.0, 600.0, 700.0]})
    with hsi_conform.open(path) as c:
        assert c.layout.shape == (7, 3, 5)
        np.testing.assert_array_equal(c.cube, source.astype("<f4") / 4000)


def test_written_array_maps_what_was_written(tmp_path: Path) -> None:
    data = np.arange(24, dtype="<u2")
    with ContainerWriter(tmp_path / "w.hsi") as zw:
        member = zw.add_bytes("a.envi", data.tobytes())
        mapped = zw.written_array(member, np.dtype("<u2"), (2, 3, 4))
        np.testing.assert_array_equal(mapped.ravel(), data)
        with pytest.raises(DatasetError):
            zw.written_array(member, np.dtype("<u2"), (25,))
    with pytest.raises(RuntimeError):
        zw.written_array(member, np.dtype("<u2"), (24,))
