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
    data = b"".join(bytes(s) for s in iter_slabs(cube, slab_bytes=48))  # computed in half slabs
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


def test_the_next_slab_is_computed_in_a_worker_while_this_one_is_written() -> None:
    import threading
    import time

    threads: list[str] = []

    def compute(start: int, stop: int) -> np.ndarray:
        threads.append(threading.current_thread().name)
        return np.full((stop - start, 2, 3), start, dtype="<u2")

    cube = ComputedCube((10, 2, 3), np.dtype("<u2"), compute)
    slabs = iter_slabs(cube, slab_bytes=48)
    first = np.frombuffer(next(slabs), dtype="<u2")
    assert (first == 0).all()
    deadline = time.monotonic() + 5
    while len(threads) < 2 and time.monotonic() < deadline:  # computed without being asked for
        time.sleep(0.01)
    assert len(threads) == 2  # the second slab, while the first one is being written
    rest = [np.frombuffer(s, dtype="<u2")[0] for s in slabs]
    assert rest == [2, 4, 6, 8] and len(threads) == 5
    assert all(name.startswith("hsi-compute") for name in threads)


def test_a_writer_that_stops_early_waits_for_the_slab_being_computed() -> None:
    import threading
    import time

    running = threading.Event()
    finished: list[int] = []

    def compute(start: int, stop: int) -> np.ndarray:
        if start:
            running.set()
            time.sleep(0.2)
        finished.append(start)
        return np.zeros((stop - start, 2, 3), dtype="<u2")

    slabs = iter_slabs(ComputedCube((10, 2, 3), np.dtype("<u2"), compute), slab_bytes=48)
    next(slabs)
    assert running.wait(5)
    slabs.close()  # the writer gave up (an error, a signal)
    assert finished == [0, 2]  # the slab in the worker was finished, not left running; none after it


def test_an_error_of_compute_reaches_the_writer_and_publishes_nothing(tmp_path: Path) -> None:
    def compute(start: int, stop: int) -> np.ndarray:
        if start:
            raise DatasetError("bad slab")
        return np.zeros((stop - start, 64, 1024), dtype="<u2")

    shape = (200, 64, 1024)  # 128 KiB a row: several 8 MiB slabs
    with pytest.raises(DatasetError, match="bad slab"):
        hsi_conform.write_container(tmp_path / "c.hsi", ComputedCube(shape, np.dtype("<u2"), compute),
                                    interleave="bil")
    assert list(tmp_path.iterdir()) == []
