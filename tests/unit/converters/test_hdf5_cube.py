"""The HDF5 export's cube: written from storage slabs (contiguous or chunked), the digest from the same reads."""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hsi_conform.converters import cube_slabs, hdf5_cube
from hsi_conform.converters._stream import TO_BSQ
from hsi_conform.converters.cube_slabs import CubeDigest
from hsi_conform.converters.hdf5_cube import write_cube
from hsi_conform.fields import Interleave
from tests._support import InterruptOnCall

h5py = pytest.importorskip("h5py")

LINES, BANDS, SAMPLES = 23, 7, 11
SHAPES = {Interleave.BSQ: (BANDS, LINES, SAMPLES), Interleave.BIL: (LINES, BANDS, SAMPLES),
          Interleave.BIP: (LINES, SAMPLES, BANDS)}
CHUNKS = {"contiguous": None, "lines": (2, 5, SAMPLES), "tiles": (3, 4, 5)}


def stored(interleave: Interleave, dtype: str) -> np.ndarray[Any, Any]:
    shape = SHAPES[interleave]
    dt = np.dtype(dtype)
    raw = np.random.default_rng(7).integers(0, 256, size=int(np.prod(shape)) * dt.itemsize, dtype=np.uint8)
    return raw.view(dt).reshape(shape)


def written(path: Path, array: np.ndarray[Any, Any], interleave: Interleave, chunks: tuple[int, ...] | None,
            budget: int, **filters: Any) -> tuple[np.ndarray[Any, Any], tuple[str, int]]:
    digest = CubeDigest()
    with h5py.File(path, "w") as f:
        cube = write_cube(h5py, f, "cube", array, interleave, chunks=chunks, filters=filters, budget=budget,
                          digest=digest)
        assert cube.chunks == chunks and cube.dtype == array.dtype
        return cube[()], digest.result()


@pytest.mark.parametrize("interleave", list(SHAPES))
@pytest.mark.parametrize("dtype", ["u1", ">i2", "<f8", "c8"])
@pytest.mark.parametrize("budget", [1, 700, 1 << 20], ids=["row", "rows", "one-slab"])
@pytest.mark.parametrize(("chunks", "by"), [(c, by) for c in CHUNKS for by in ("slabs", "blocks", "chunk-bands")
                                            if CHUNKS[c] is not None or by == "slabs"])
def test_the_cube_is_the_array_band_by_band_and_the_digest_its_stored_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interleave: Interleave, dtype: str, chunks: str,
        budget: int, by: str) -> None:
    if by == "blocks":
        monkeypatch.setattr(hdf5_cube, "SLAB_LIMIT", 0)  # every chunk row is "too large": block by block
    if by == "chunk-bands":
        monkeypatch.setattr(hdf5_cube, "STRIP_BUFFER", 1)  # a BIL or BIP slab rearranged one chunk band at a time
    array = stored(interleave, dtype)
    values, (sha, crc) = written(tmp_path / "x.h5", array, interleave, CHUNKS[chunks], budget)
    assert values.tobytes() == np.ascontiguousarray(array.transpose(TO_BSQ[interleave])).tobytes()
    assert (sha, crc) == (hashlib.sha256(array.tobytes()).hexdigest(), zlib.crc32(array.tobytes()))


def test_a_compressed_cube_goes_by_slabs_too(tmp_path: Path) -> None:
    array = stored(Interleave.BIP, "<u2")
    values, (sha, _) = written(tmp_path / "x.h5", array, Interleave.BIP, (2, 5, SAMPLES), 700,
                               compression="gzip", shuffle=True)
    assert values.tobytes() == np.ascontiguousarray(array.transpose(TO_BSQ[Interleave.BIP])).tobytes()
    assert sha == hashlib.sha256(array.tobytes()).hexdigest()


def test_the_contiguous_cube_is_written_beside_hdf5_without_a_fill(tmp_path: Path) -> None:
    array = stored(Interleave.BIL, "<u2")
    with h5py.File(tmp_path / "x.h5", "w") as f:
        cube = write_cube(h5py, f, "cube", array, Interleave.BIL, chunks=None, filters={}, budget=700, digest=None)
        offset = cube.id.get_offset()
        plist = cube.id.get_create_plist()
        assert plist.get_alloc_time() == h5py.h5d.ALLOC_TIME_EARLY
        assert plist.fill_value_defined() != h5py.h5d.FILL_VALUE_USER_DEFINED  # nothing written at allocation
    raw = (tmp_path / "x.h5").read_bytes()[offset : offset + array.nbytes]
    assert raw == np.ascontiguousarray(array.transpose(1, 0, 2)).tobytes()


@pytest.mark.parametrize("chunks", list(CHUNKS))
def test_an_interrupted_cube_write_stops_between_slabs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       chunks: str) -> None:
    checkpoint = InterruptOnCall(3)
    monkeypatch.setattr(cube_slabs, "checkpoint", checkpoint)
    array = stored(Interleave.BIL, "<u2")
    with pytest.raises(KeyboardInterrupt), h5py.File(tmp_path / "x.h5", "w") as f:
        write_cube(h5py, f, "cube", array, Interleave.BIL, chunks=CHUNKS[chunks], filters={},
                   budget=5 * BANDS * SAMPLES * 2, digest=CubeDigest())
    assert checkpoint.calls == 3  # two slabs written, the third never read
