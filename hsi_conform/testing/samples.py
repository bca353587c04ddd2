"""Small, complete sample data: a sample container with every optional member, and JPEGs of a given size.

The sample is what ``make demo`` validates and what many tests start from. Everything is generated from
code (no binary fixtures), deterministically: its thumbnail is the one every writer renders from the cube
(:func:`~hsi_conform.container.thumbnail.thumbnail_for`), and Pillow encodes the same pixels to the same bytes.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.container.thumbnail import thumbnail_for
from hsi_conform.container.write import cube_header_fields
from hsi_conform.container.zipwrite import ContainerWriter
from hsi_conform.errors import InvalidArgumentError
from hsi_conform.header import build_header_text, parse_header
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


def jpeg_image(width: int, height: int) -> bytes:
    """Return a baseline JPEG (Pillow) of a uniform mid-grey image of the given size.

    For tests that need a JPEG of a size the cube does not give (``XRF015``), or bytes that are a JPEG and not a
    container (``ZIP001``, ``ZIP013``); a thumbnail of data is :func:`~hsi_conform.container.thumbnail.thumbnail_for`.

    Raises:
        InvalidArgumentError: a dimension outside 1..65500, the largest a JPEG encoder writes (a ``ValueError``).
    """
    from PIL import Image

    if not (0 < width <= 65500 and 0 < height <= 65500):
        raise InvalidArgumentError("JPEG dimensions are 1..65500")
    out = io.BytesIO()
    Image.new("L", (width, height), 128).save(out, format="JPEG", quality=90)
    return out.getvalue()


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
    header = build_header_text(cube_header_fields(cube, "bil", fields)).encode()
    return {
        CUBE_HEADER: header,
        CUBE_DATA: cube.tobytes(),
        THUMBNAIL: thumbnail_for(parse_header(header), cube),
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
