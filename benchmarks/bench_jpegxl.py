"""Lossless JPEG-XL cubes (spec/jpegxl.md): compressed size and encode/decode time vs gzip (zlib) and zstd.

Two cubes: the one real hyperspectral cube of the third-party set (a SPECIM FENIX radiance frame from hylite's test
data, ``fixtures/third-party/hylite-fenix-radiometric``: float32, quantised here to uint16 over its range, as a
camera's raw counts are) and the synthetic scene of ``hsi_conform.testing.scene`` (soil, leaf and panel spectra with
noise) at the run's size, capped at 32 MiB (the codec runs at tens of MB/s). gzip and zstd compress the same bytes
(the cube as ``data.envi`` would hold it uncompressed); every codec's output is decoded and compared once.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import imagecodecs
import numpy as np

from benchmarks._harness import Row, Run, median_time, ratio_row
from hsi_conform.container.jpegxl import JpegXlArray, decoded_copy, encode_cube
from hsi_conform.container.layout import CubeLayout
from hsi_conform.corpus.golden import FIXTURES
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.testing.scene import SceneSpec, scene_arrays

_FENIX = FIXTURES / "third-party" / "hylite-fenix-radiometric" / "Radiometric_8x2_1x1.dat"
_CAP = 32 << 20


def fenix_cube() -> np.ndarray[Any, Any]:
    """The FENIX frame (1 line x 363 bands x 384 samples, BIL) as uint16 counts over its range."""
    radiance = np.fromfile(_FENIX, dtype="<f4").reshape(1, 363, 384)
    finite = np.nan_to_num(radiance, nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(finite.min()), float(finite.max())
    return np.round((finite - low) / (high - low or 1.0) * 65535).astype("<u2")


def scene_cube(size: int) -> np.ndarray[Any, Any]:
    """The synthetic scene (BIL uint16) of about ``min(size, 32 MiB)`` bytes."""
    bands = 128
    side = max(8, int((min(size, _CAP) / (2 * bands)) ** 0.5))
    cube: np.ndarray[Any, Any] = scene_arrays(SceneSpec(lines=side, samples=side, bands=bands, minimal=True))["cube"]
    return cube


def _layout(cube: np.ndarray[Any, Any]) -> CubeLayout:
    lines, bands, samples = cube.shape
    return CubeLayout(lines=lines, samples=samples, bands=bands, data_type=DataType.UINT16,
                      byte_order=ByteOrder.LITTLE, interleave=Interleave.BIL, header_offset=0)


def _rows(r: Run, name: str, cube: np.ndarray[Any, Any]) -> None:
    raw = cube.tobytes()
    mb = len(raw) / 1e6
    encoded = encode_cube(cube, Interleave.BIL)
    stream = b"".join(encoded.chunks())
    encoded.close()
    gz, zs = zlib.compress(raw, 6), imagecodecs.zstd_encode(raw, level=3)

    def decode() -> np.ndarray[Any, Any]:
        return decoded_copy(JpegXlArray(lambda o, n: stream[o : o + n], encoded.index, _layout(cube), name))

    assert decode().tobytes() == raw and zlib.decompress(gz) == raw and imagecodecs.zstd_decode(zs) == raw
    sizes = f"{mb:.1f} MB raw; ratio jpegxl {len(raw) / len(stream):.2f}, gzip {len(raw) / len(gz):.2f}, " \
            f"zstd {len(raw) / len(zs):.2f}"
    for anchor, size, target in (("gzip -6 (zlib)", len(gz), 1.0), ("zstd -3", len(zs), None)):
        row = ratio_row("jpegxl", f"{name}: compressed size", len(stream) / 1e3, anchor, size / 1e3,
                        max_ratio=target, note=sizes)
        r.add(Row(row.group, row.name, row.ours, row.anchor_name, row.anchor, row.target, row.met, "kB", row.note))
    _timed(r, name, "encode", mb, lambda: encode_cube(cube, Interleave.BIL).close(),
           (("gzip -6 (zlib)", lambda: zlib.compress(raw, 6)), ("zstd -3", lambda: imagecodecs.zstd_encode(raw, 3))))
    _timed(r, name, "decode", mb, decode,
           (("gzip (zlib)", lambda: zlib.decompress(gz)), ("zstd", lambda: imagecodecs.zstd_decode(zs))))


def _timed(r: Run, name: str, what: str, mb: float, ours: Callable[[], object],
           anchors: tuple[tuple[str, Callable[[], object]], ...]) -> None:
    seconds = median_time(ours, repeat=3)
    for anchor_name, anchor in anchors:
        other = median_time(anchor, repeat=3)
        r.add(ratio_row("jpegxl", f"{name}: {what}", seconds, anchor_name, other,
                        note=f"jpegxl {mb / seconds:.1f} MB/s, {anchor_name} {mb / other:.1f} MB/s"))


def run(r: Run) -> None:
    """Add the JPEG-XL rows to the run."""
    _rows(r, "FENIX frame (real, 0.3 MB)", fenix_cube())
    _rows(r, "synthetic scene", scene_cube(r.size))
