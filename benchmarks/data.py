"""Benchmark inputs, generated once per size into ``benchmarks/_data/`` (git-ignored) and reused."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from hsi_conform import write_container
from hsi_conform.header import build_header_text
from hsi_conform.testing.samples import wavelengths

DATA = Path(os.environ.get("BENCH_DIR", Path(__file__).resolve().parent / "_data"))


def dimensions(size: int) -> tuple[int, int, int]:
    """Return (lines, samples, bands) of a uint16 cube of about ``size`` bytes (1 GiB: 1024 x 1024 x 512)."""
    bands = 512 if size >= 256 << 20 else 64
    side = max(4, int(math.sqrt(size / (2 * bands))))
    return side, side, bands


def header_fields(lines: int, samples: int, bands: int) -> dict[str, object]:
    """Return the fields of a benchmark cube's header."""
    return {"samples": samples, "lines": lines, "bands": bands, "header offset": 0, "file type": "ENVI Standard",
            "data type": 12, "interleave": "bil", "byte order": 0, "wavelength units": "nm",
            "wavelength": wavelengths(bands)}


def raw_cube(size: int) -> tuple[Path, Path]:
    """Return ``(cube.img, cube.hdr)``: a plain ENVI pair (uint16 BIL) of about ``size`` bytes."""
    lines, samples, bands = dimensions(size)
    img = DATA / f"cube-{size}.img"
    hdr = DATA / f"cube-{size}.hdr"
    if not img.exists() or img.stat().st_size != lines * samples * bands * 2:
        DATA.mkdir(parents=True, exist_ok=True)
        tmp = img.with_suffix(".tmp")
        cube = np.memmap(tmp, dtype="<u2", mode="w+", shape=(lines, bands, samples))
        row = (np.arange(bands * samples, dtype=np.uint32) % 4096).astype("<u2").reshape(bands, samples)
        step = max(1, (64 << 20) // (bands * samples * 2))
        for start in range(0, lines, step):
            cube[start : start + step] = row + np.arange(start, min(lines, start + step), dtype="<u2")[:, None, None]
        cube.flush()
        del cube
        os.replace(tmp, img)
    hdr.write_text(build_header_text(header_fields(lines, samples, bands)), encoding="utf-8")
    return img, hdr


def container(size: int) -> Path:
    """Return a ``.hsi`` container holding the benchmark cube (written from the raw pair, streamed)."""
    img, _ = raw_cube(size)
    path = DATA / f"cube-{size}.hsi"
    if not path.exists():
        lines, samples, bands = dimensions(size)
        cube = np.memmap(img, dtype="<u2", mode="r", shape=(lines, bands, samples))
        fields = {k: v for k, v in header_fields(lines, samples, bands).items()
                  if k in ("wavelength units", "wavelength")}
        write_container(path, cube, interleave="bil", fields=fields)
    return path


def headers() -> dict[str, Path]:
    """Return the header-parsing inputs: typical (the sample's ~20 lines), 2000 bands, 80,000 lines."""
    from hsi_conform.testing.samples import sample_members

    DATA.mkdir(parents=True, exist_ok=True)
    out = {"typical 20-line": DATA / "typical.hdr", "2000-band": DATA / "bands2000.hdr",
           "80k-line": DATA / "lines80k.hdr"}
    out["typical 20-line"].write_bytes(sample_members()["data.hdr"])
    fields = header_fields(100, 100, 2000)
    fields["fwhm"] = [2.5] * 2000
    out["2000-band"].write_text(build_header_text(fields), encoding="utf-8")
    values = ",\n".join(f"{400 + i * 0.0075:.4f}" for i in range(80_000))
    base = build_header_text(header_fields(10, 10, 80_000)).split("wavelength = ", 1)[0]
    out["80k-line"].write_text(base + "wavelength = {\n" + values + "}\n", encoding="utf-8")
    return out


def raw_container(size: int) -> Path:
    """Return a raw ``.hsi`` container of the benchmark cube with one-line white and black references (float32).

    The references are what a push-broom camera records (one averaged line); the calibration rows read them.
    """
    img, _ = raw_cube(size)
    path = DATA / f"cube-{size}-raw.hsi"
    if not path.exists():
        lines, samples, bands = dimensions(size)
        cube = np.memmap(img, dtype="<u2", mode="r", shape=(lines, bands, samples))
        fields = {k: v for k, v in header_fields(lines, samples, bands).items()
                  if k in ("wavelength units", "wavelength")}
        white = np.full((1, bands, samples), 8192.0, dtype="<f4")
        black = np.full((1, bands, samples), 64.0, dtype="<f4")
        write_container(path, cube, interleave="bil", fields=fields, references={"white": white, "black": black})
    return path
