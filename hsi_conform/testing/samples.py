"""Small, complete sample data: a uniform JPEG encoder and a sample container with every optional member.

The sample is what ``make demo`` validates and what many tests start from. Everything is generated from
code (no binary fixtures), deterministically.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.container.write import cube_header_fields
from hsi_conform.container.zipwrite import ContainerWriter
from hsi_conform.errors import InvalidArgumentError
from hsi_conform.header import build_header_text
from hsi_conform.members import (
    BLACK,
    CUBE_DATA,
    CUBE_HEADER,
    DATA_SUFFIX,
    HEADER_SUFFIX,
    METADATA_DIR,
    PREVIEW,
    THUMBNAIL,
    WHITE,
    reference_stem,
)


def gray_jpeg(width: int, height: int) -> bytes:
    """Return a valid baseline JPEG of a uniform mid-grey image of the given size.

    Every 8x8 block has DC difference 0 and an immediate end-of-block, so the entropy-coded data is two bits
    per block; one-symbol Huffman tables make that legal. Readers (GDAL, libjpeg) decode it to grey 128.

    Raises:
        InvalidArgumentError: a dimension outside 1..65535 (a ``ValueError``).
    """
    if not (0 < width < 65536 and 0 < height < 65536):
        raise InvalidArgumentError("JPEG dimensions are 1..65535")
    blocks = -(-width // 8) * -(-height // 8)
    bits = "00" * blocks
    bits += "1" * (-len(bits) % 8)
    scan = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    dqt = b"\xff\xdb" + struct.pack(">HB", 67, 0) + bytes([1] * 64)
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + bytes([1, 0x11, 0])
    table = bytes([1] + [0] * 15) + b"\x00"
    dht = b"".join(b"\xff\xc4" + struct.pack(">HB", 20, cls) + table for cls in (0x00, 0x10))
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + bytes([1, 0x00, 0, 63, 0])
    return b"\xff\xd8" + dqt + sof + dht + sos + scan + b"\xff\xd9"


def sample_cube(lines: int = 16, samples: int = 12, bands: int = 10, dtype: str = "<u2") -> np.ndarray[Any, Any]:
    """Return a deterministic BIL cube (lines, bands, samples) with a smooth spectrum per pixel."""
    line = np.arange(lines, dtype=np.float64)[:, None, None]
    band = np.arange(bands, dtype=np.float64)[None, :, None]
    sample = np.arange(samples, dtype=np.float64)[None, None, :]
    values = 1000 + 40 * band + 7 * line + 3 * sample + 50 * np.sin(band / 2 + sample / 5)
    cube: np.ndarray[Any, Any] = values.astype(dtype)
    return cube


def wavelengths(bands: int) -> list[float]:
    """Return evenly spaced wavelengths in nanometres for ``bands`` bands (400-1000 nm)."""
    step = 600 / max(bands - 1, 1)
    return [round(400 + i * step, 3) for i in range(bands)]


def sample_members(*, lines: int = 16, samples: int = 12, bands: int = 10) -> dict[str, bytes]:
    """Return the members of the sample container (``data.hdr`` and ``data.envi`` first), as bytes."""
    cube = sample_cube(lines, samples, bands)
    waves = wavelengths(bands)
    white = np.full((1, bands, samples), 4000, dtype="<u2")
    black = np.full((1, bands, samples), 100, dtype="<u2")
    preview = np.ascontiguousarray(cube[::2, :, ::2])
    fields = {
        "description": f"hsi-conform sample: a synthetic scene, {lines} lines by {samples} samples",
        "wavelength units": "nm",
        "wavelength": waves,
        "fwhm": [5.0] * bands,
        "default bands": [bands, (bands + 1) // 2, 1] if bands >= 3 else [1],
        "acquisition time": "2025-06-30T12:00:00Z",
        "sensor type": "sample-camera.txt",
        "device": "hsi-conform synthetic camera",
        "problem": ["demo"],
        "measurement": "sample-0001",
    }
    return {
        CUBE_HEADER: build_header_text(cube_header_fields(cube, "bil", fields)).encode(),
        CUBE_DATA: cube.tobytes(),
        THUMBNAIL: gray_jpeg(samples, lines),
        PREVIEW + HEADER_SUFFIX: _envi_header(preview, waves),
        PREVIEW + DATA_SUFFIX: preview.tobytes(),
        reference_stem(WHITE) + HEADER_SUFFIX: _envi_header(white, waves),
        reference_stem(WHITE) + DATA_SUFFIX: white.tobytes(),
        reference_stem(BLACK) + HEADER_SUFFIX: _envi_header(black, waves),
        reference_stem(BLACK) + DATA_SUFFIX: black.tobytes(),
        METADATA_DIR + "sample-camera.txt": b"Synthetic push-broom camera used by the hsi-conform sample.\n",
    }


def write_members(path: str | os.PathLike[str], members: dict[str, bytes]) -> Path:
    """Write members, in order, into a container (atomically, ``.envi`` data 4096-aligned)."""
    with ContainerWriter(path) as zw:
        for name, data in members.items():
            zw.add_bytes(name, data)
    return Path(path)


def write_sample_container(path: str | os.PathLike[str], *, lines: int = 16, samples: int = 12,
                           bands: int = 10) -> Path:
    """Write a conformant sample container with references, a preview, a thumbnail and metadata."""
    return write_members(path, sample_members(lines=lines, samples=samples, bands=bands))


def _envi_header(array: np.ndarray[Any, Any], waves: list[float]) -> bytes:
    fields = {"wavelength units": "nm", "wavelength": waves}
    return build_header_text(cube_header_fields(array, "bil", fields)).encode()
