"""A deterministic synthetic scene with realistic spectra and every optional member of a container.

``hsi-conform sample`` writes it. The scene is soil (background) with a leaf and a white plastic panel; raw
counts follow ``black + reflectance * (white - black)`` plus seeded noise, so the white and black references
calibrate it. Exploration data follows spec/consistency.md: a classification file, one binary mask per class
and ``bounding boxes.csv``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.container.reader import as_interleave
from hsi_conform.container.thumbnail import thumbnail_for
from hsi_conform.container.write import cube_header_fields, iter_slabs
from hsi_conform.container.zipwrite import ContainerWriter
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.header import build_header_text, parse_header
from hsi_conform.members import (
    BLACK,
    BOUNDING_BOXES,
    BOUNDING_BOXES_FILE,
    CUBE_DATA,
    CUBE_HEADER,
    DATA_SUFFIX,
    EXPLORATION_DIR,
    HEADER_SUFFIX,
    METADATA_DIR,
    PREVIEW,
    THUMBNAIL,
    WHITE,
    envi_names,
    reference_stem,
)
from hsi_conform.testing.samples import wavelengths

CLASSES = ("background", "leaf", "panel")
LOOKUP = (0, 0, 0, 40, 160, 40, 230, 230, 230)
FULL_SCALE = 4095.0  # a 12-bit sensor stored as 16 bits
_BLOCK_BYTES = 1 << 20  # float64 working memory per block of lines of the cube (a few such arrays at once)


@dataclass(frozen=True, slots=True, kw_only=True)
class SceneSpec:
    """The shape and encoding of a synthetic scene, and which optional members it has.

    Attributes:
        lines, samples, bands: dimensions of the cube.
        data_type, interleave, byte_order: how the cube, references and preview are stored.
        minimal: only ``data.hdr`` and ``data.envi``.
        thumbnail: a ``thumbnail.jpg`` rendered from the cube (spec/previews.md#thumbnail); not in a minimal scene.
        procedures: the ``read procedures`` of ``data.hdr`` (spec/procedures.md); the default mirrors the samples,
            as a push-broom camera scanning right to left needs; not in a minimal scene.
    """

    lines: int = 64
    samples: int = 48
    bands: int = 32
    data_type: DataType = DataType.UINT16
    interleave: Interleave = Interleave.BIL
    byte_order: ByteOrder = ByteOrder.LITTLE
    minimal: bool = False
    thumbnail: bool = True
    procedures: tuple[str, ...] = ("rotate:swap-left-right",)


def reflectance(waves: np.ndarray[Any, Any]) -> dict[str, np.ndarray[Any, Any]]:
    """Return the reflectance spectrum (0-1) of each class at the given wavelengths (nm)."""
    soil = 0.08 + 0.22 * (waves - 400) / 600
    green = 0.10 * np.exp(-(((waves - 550) / 35) ** 2))
    red_edge = 0.45 / (1 + np.exp(-(waves - 715) / 12))
    leaf = 0.04 + green + red_edge
    panel = 0.85 - 0.2 * np.exp(-(((waves - 930) / 25) ** 2))
    return {"background": soil, "leaf": leaf, "panel": panel}


def label_image(lines: int, samples: int) -> np.ndarray[Any, Any]:
    """Return the class index of every pixel (0 background, 1 leaf, 2 panel)."""
    y, x = np.mgrid[0:lines, 0:samples]
    labels = np.zeros((lines, samples), dtype=np.uint8)
    leaf = ((y - lines * 0.6) / (lines * 0.25)) ** 2 + ((x - samples * 0.35) / (samples * 0.2)) ** 2 <= 1
    labels[leaf] = 1
    labels[int(lines * 0.1) : int(lines * 0.35), int(samples * 0.6) : int(samples * 0.9)] = 2
    return labels


def _references(waves: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    black = 90 + 0.02 * (waves - 400)
    response = 0.55 + 0.45 * np.exp(-(((waves - 650) / 260) ** 2))
    return black, black + 3800 * response


def _encode(values: np.ndarray[Any, Any], spec: SceneSpec) -> np.ndarray[Any, Any]:
    dtype = spec.data_type.dtype(int(spec.byte_order))
    if dtype.kind in "ui":
        scale = 1 / 16 if dtype.itemsize == 1 else 1.0
        info = np.iinfo(dtype)  # type: ignore[type-var]
        values = np.clip(np.rint(values * scale), max(info.min, 0), info.max)
    out: np.ndarray[Any, Any] = values.astype(dtype)
    return out


def scene_arrays(spec: SceneSpec) -> dict[str, np.ndarray[Any, Any]]:
    """Return the cube, references, preview and labels of a scene, arrays in the spec's interleave.

    The cube is computed a block of lines at a time straight into its stored data type, so the memory needed is
    the cube itself plus its quarter-size preview, whatever the shape (the float64 scene of the whole cube took
    16-20 times the cube).
    """
    waves = np.asarray(wavelengths(spec.bands))
    labels = label_image(spec.lines, spec.samples)
    spectra = np.stack([reflectance(waves)[c] for c in CLASSES])  # (classes, bands)
    black, white = _references(waves)
    rng = np.random.default_rng(20250630)
    cube = np.empty(spec.interleave.shape(spec.lines, spec.samples, spec.bands),
                    dtype=spec.data_type.dtype(int(spec.byte_order)))
    bip = as_interleave(cube, spec.interleave, Interleave.BIP)  # a view: (lines, samples, bands)
    for rows, cols in _blocks(spec.lines, spec.samples, max(1, _BLOCK_BYTES // (spec.bands * 8))):
        # Normal draws come in C order, so block after block draws the numbers one draw of the whole cube did.
        refl = spectra[labels[rows, cols]]  # (lines, samples, bands) of the block
        counts = black + refl * (white - black) + rng.normal(0, 6, refl.shape)
        bip[rows, cols] = _encode(np.clip(counts, 0, FULL_SCALE), spec)

    def stored(array_bip: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return np.ascontiguousarray(as_interleave(array_bip, Interleave.BIP, spec.interleave))

    return {
        "cube": cube,
        "white": stored(_reference_line(white, 2, rng, spec)),
        "black": stored(_reference_line(black, 1, rng, spec)),
        "preview": stored(bip[::2, ::2]),  # encoding is per value: the preview of the encoded cube is the same
        "labels": labels,
    }


def _reference_line(spectrum: np.ndarray[Any, Any], noise: float, rng: np.random.Generator, spec: SceneSpec
                    ) -> np.ndarray[Any, Any]:
    """Return one line of a reference (BIP, stored data type), computed a block of samples at a time."""
    line = np.empty((1, spec.samples, spec.bands), dtype=spec.data_type.dtype(int(spec.byte_order)))
    for rows, cols in _blocks(1, spec.samples, max(1, _BLOCK_BYTES // (spec.bands * 8))):
        shape = line[rows, cols].shape
        line[rows, cols] = _encode(np.broadcast_to(spectrum, shape) + rng.normal(0, noise, shape), spec)
    return line


def _blocks(lines: int, samples: int, pixels: int) -> Iterator[tuple[slice, slice]]:
    """Cover a (lines, samples) image in C order with blocks of at most ``pixels`` pixels: lines, or parts of one."""
    if pixels >= samples:
        step = pixels // samples
        for top in range(0, lines, step):
            yield slice(top, top + step), slice(None)
        return
    for line in range(lines):
        for left in range(0, samples, pixels):
            yield slice(line, line + 1), slice(left, left + pixels)


def scene_members(spec: SceneSpec = SceneSpec()) -> dict[str, bytes | np.ndarray[Any, Any]]:
    """Return every member of the scene's container, in writing order (arrays are streamed)."""
    arrays = scene_arrays(spec)
    waves = wavelengths(spec.bands)
    fwhm = [round(600 / spec.bands * 1.2, 3)] * spec.bands
    spectral: dict[str, object] = {"wavelength units": "nm", "wavelength": waves, "fwhm": fwhm}
    fields = _root_fields(spec, waves) | spectral
    il = spec.interleave
    header = _header(arrays["cube"], il, fields)
    members: dict[str, bytes | np.ndarray[Any, Any]] = {CUBE_HEADER: header, CUBE_DATA: arrays["cube"]}
    if spec.minimal:
        members[CUBE_HEADER] = _header(arrays["cube"], il, spectral)
        return members
    if spec.thumbnail:
        members[THUMBNAIL] = thumbnail_for(parse_header(header), arrays["cube"])
    members |= {
        PREVIEW + HEADER_SUFFIX: _header(arrays["preview"], il, spectral),
        PREVIEW + DATA_SUFFIX: arrays["preview"],
        reference_stem(WHITE) + HEADER_SUFFIX: _header(arrays["white"], il, spectral),
        reference_stem(WHITE) + DATA_SUFFIX: arrays["white"],
        reference_stem(BLACK) + HEADER_SUFFIX: _header(arrays["black"], il, spectral),
        reference_stem(BLACK) + DATA_SUFFIX: arrays["black"],
        METADATA_DIR + "sample-camera.txt": b"Synthetic push-broom camera (12-bit, 400-1000 nm) of hsi-conform.\n",
    }
    members |= _exploration(arrays["labels"])
    return members


def _root_fields(spec: SceneSpec, waves: list[float]) -> dict[str, object]:
    def band_near(nm: float) -> int:
        return int(np.argmin(np.abs(np.asarray(waves) - nm))) + 1  # default bands are 1-based

    return {
        "description": f"hsi-conform synthetic scene: soil, a leaf and a white panel; {spec.lines} lines, "
                       f"{spec.samples} samples, raw 12-bit counts",
        "default bands": [band_near(640), band_near(550), band_near(460)],
        "acquisition time": "2025-06-30T12:00:00Z",
        "problem": ["demo", "crop-disease"],
        "series": "hsi-conform-samples",
        "target": "synthetic-leaf",
        "target info": ["synthetic", "generated by hsi-conform"],
        "measurement": f"scene-{spec.lines}x{spec.samples}x{spec.bands}",
        "sensor type": "sample-camera.txt",
        "device": "hsi-conform synthetic push-broom camera",
        "optics": ["macro"],
        "temperature": 21.5,
        "classification file": "classification.envi",
        "classes": len(CLASSES),
        "class names": list(CLASSES),
        "class lookup": list(LOOKUP),
        "bounding boxes": BOUNDING_BOXES_FILE,
    } | ({"read procedures": list(spec.procedures)} if spec.procedures else {})


def _exploration(labels: np.ndarray[Any, Any]) -> dict[str, bytes | np.ndarray[Any, Any]]:
    plane = labels[:, None, :]  # one band, BIL
    header, data = envi_names(EXPLORATION_DIR + "classification")
    out: dict[str, bytes | np.ndarray[Any, Any]] = {
        header: _header(plane, Interleave.BIL, {
            "file type": "ENVI Classification", "classes": len(CLASSES), "class names": list(CLASSES),
            "class lookup": list(LOOKUP)}),
        data: np.ascontiguousarray(plane),
    }
    rows = ["name,left,top,width,height"]
    for index, name in enumerate(CLASSES):
        mask = (labels == index).astype(np.uint8)[:, None, :]
        header, data = envi_names(EXPLORATION_DIR + name)
        out[header] = _header(mask, Interleave.BIL, {})
        out[data] = np.ascontiguousarray(mask)
        if index:
            ys, xs = np.nonzero(labels == index)
            rows.append(f"{name},{xs.min()},{ys.min()},{xs.max() - xs.min() + 1},{ys.max() - ys.min() + 1}")
    out[BOUNDING_BOXES] = ("\n".join(rows) + "\n").encode()
    return out


def _header(array: np.ndarray[Any, Any], il: Interleave, fields: Mapping[str, object]) -> bytes:
    return build_header_text(cube_header_fields(array, il, fields)).encode()


def write_scene(path: str | os.PathLike[str], spec: SceneSpec = SceneSpec()) -> Path:
    """Write the scene's container (atomically; arrays streamed; ``.envi`` data 4096-aligned)."""
    with ContainerWriter(path) as zw:
        for name, content in scene_members(spec).items():
            if isinstance(content, np.ndarray):
                zw.add_stream(name, iter_slabs(content), content.nbytes)
            else:
                zw.add_bytes(name, content)
    return Path(path)
