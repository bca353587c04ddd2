"""The gdal profile's image data: planes written from storage slabs, data.envi's SHA-256 from the same reads."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hsi_conform
from hsi_conform.converters import cube_slabs, tiff_image
from hsi_conform.converters._stream import TO_BSQ
from hsi_conform.converters.tiff_image import write_planes
from hsi_conform.fields import Interleave
from tests._support import InterruptOnCall

#: (lines, bands, samples) of the cubes below, stored as each interleave stores them.
LINES, BANDS, SAMPLES = 23, 7, 11
SHAPES = {Interleave.BSQ: (BANDS, LINES, SAMPLES), Interleave.BIL: (LINES, BANDS, SAMPLES),
          Interleave.BIP: (LINES, SAMPLES, BANDS)}
OFFSET = 301  # image data need not start on any boundary


def stored(interleave: Interleave, dtype: str) -> np.ndarray[Any, Any]:
    shape = SHAPES[interleave]
    dt = np.dtype(dtype)
    raw = np.random.default_rng(5).integers(0, 256, size=int(np.prod(shape)) * dt.itemsize, dtype=np.uint8)
    return raw.view(dt).reshape(shape)


def planes_of(path: Path, like: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.fromfile(path, dtype=like.dtype, offset=OFFSET, count=like.size).reshape(BANDS, LINES, SAMPLES)


def reserved(path: Path, nbytes: int) -> Path:
    path.write_bytes(b"\xee" * OFFSET)  # what is before the image data must stay as it is
    with open(path, "r+b") as f:
        f.truncate(OFFSET + nbytes + 5)
    return path


@pytest.mark.parametrize("interleave", list(SHAPES))
@pytest.mark.parametrize("dtype", ["u1", ">i2", "<f8", "c8"])
@pytest.mark.parametrize("budget", [1, 500, 4096, 1 << 20], ids=["row", "rows", "ragged", "one-slab"])
def test_planes_are_the_cube_band_by_band_and_the_digest_its_stored_bytes(
        tmp_path: Path, interleave: Interleave, dtype: str, budget: int) -> None:
    cube = stored(interleave, dtype)
    path = reserved(tmp_path / "x.tif", cube.nbytes)
    digest = hashlib.sha256()
    write_planes(path, cube, interleave, OFFSET, budget=budget, digest=digest)
    expected = np.ascontiguousarray(cube.transpose(TO_BSQ[interleave]))
    assert planes_of(path, cube).tobytes() == expected.tobytes()
    assert path.read_bytes()[:OFFSET] == b"\xee" * OFFSET
    assert path.stat().st_size == OFFSET + cube.nbytes + 5
    assert digest.hexdigest() == hashlib.sha256(cube.tobytes()).hexdigest()


@pytest.mark.parametrize("interleave", list(SHAPES))
def test_a_mapped_container_cube_is_read_once_by_slab(tmp_path: Path, interleave: Interleave) -> None:
    cube = stored(interleave, "<u2")
    src = hsi_conform.write_container(tmp_path / "s.hsi", cube, interleave=str(interleave))
    path = reserved(tmp_path / "x.tif", cube.nbytes)
    digest = hashlib.sha256()
    with hsi_conform.open(src) as container:
        assert isinstance(container.cube, np.memmap)
        write_planes(path, container.cube, interleave, OFFSET, budget=1000, digest=digest)
    assert planes_of(path, cube).tobytes() == np.ascontiguousarray(cube.transpose(TO_BSQ[interleave])).tobytes()
    assert digest.hexdigest() == hashlib.sha256(cube.tobytes()).hexdigest()


def test_a_band_strip_larger_than_the_strip_buffer_is_written_whole(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tiff_image, "STRIP_BUFFER", 64)  # every strip of 3 lines x 11 samples is larger
    cube = stored(Interleave.BIL, "<u2")
    path = reserved(tmp_path / "x.tif", cube.nbytes)
    write_planes(path, cube, Interleave.BIL, OFFSET, budget=3 * BANDS * SAMPLES * 2)
    assert planes_of(path, cube).tobytes() == np.ascontiguousarray(cube.transpose(1, 0, 2)).tobytes()


def test_a_strided_cube_is_copied_as_its_values(tmp_path: Path) -> None:
    whole = stored(Interleave.BIL, "<i2")
    cube = np.ascontiguousarray(whole)[:, :, ::-1]  # not C-contiguous: read through numpy
    path = reserved(tmp_path / "x.tif", cube.nbytes)
    digest = hashlib.sha256()
    write_planes(path, cube, Interleave.BIL, OFFSET, budget=700, digest=digest)
    assert planes_of(path, cube).tobytes() == np.ascontiguousarray(cube.transpose(1, 0, 2)).tobytes()
    assert digest.hexdigest() == hashlib.sha256(np.ascontiguousarray(cube).tobytes()).hexdigest()


def test_an_interrupted_write_stops_between_slabs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkpoint = InterruptOnCall(3)
    monkeypatch.setattr(cube_slabs, "checkpoint", checkpoint)
    cube = stored(Interleave.BIL, "<u2")
    path = reserved(tmp_path / "x.tif", cube.nbytes)
    with pytest.raises(KeyboardInterrupt):
        write_planes(path, cube, Interleave.BIL, OFFSET, budget=BANDS * SAMPLES * 2, digest=hashlib.sha256())
    written = planes_of(path, cube)
    assert written[:, :2].tobytes() == np.ascontiguousarray(cube[:2].transpose(1, 0, 2)).tobytes()
    assert not written[:, 2:].any()  # nothing of the third slab on


def test_the_cube_digest_is_sha256_and_crc32_of_what_it_was_fed() -> None:
    import zlib

    from hsi_conform.converters.cube_slabs import CubeDigest

    chunks = [b"", b"ENVI", bytes(range(256)) * 40, b"tail"]
    fed, inline, crc_only = CubeDigest(), CubeDigest(), CubeDigest(sha256=False)
    fed.feed(iter(chunks))
    crc_only.feed(iter(chunks))
    for chunk in chunks:
        inline.update(memoryview(chunk))
    expected = (hashlib.sha256(b"".join(chunks)).hexdigest(), zlib.crc32(b"".join(chunks)))
    assert fed.result() == inline.result() == expected
    assert crc_only.result() == ("", expected[1])


def test_the_cube_digest_reraises_what_stopped_its_thread() -> None:
    from hsi_conform.converters.cube_slabs import CubeDigest
    from hsi_conform.errors import InputUnreadableError

    def chunks() -> Any:
        yield b"abc"
        raise InputUnreadableError("cube.hsi", "truncated while read")

    digest = CubeDigest()
    digest.feed(chunks())
    with pytest.raises(InputUnreadableError):
        digest.result()
