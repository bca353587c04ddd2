"""Raw containers for the calibration tests: a cube and its references given as (lines, samples, bands) arrays.

Each array is stored in the interleave asked for, with its own data type and byte order, under a header written
by the canonical writer; header fields (``tint``, ``data ignore value``, ``read procedures``) go where asked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.container.reader import as_interleave
from hsi_conform.container.write import cube_header_fields
from hsi_conform.fields import Interleave
from hsi_conform.header import build_header_text
from hsi_conform.members import BLACK, CUBE_DATA, CUBE_HEADER, WHITE, WHITE_DARK, envi_names, reference_stem
from hsi_conform.testing.samples import wavelengths, write_members

Array = np.ndarray[Any, Any]


def stored(image: Array, interleave: str) -> Array:
    """Return a (lines, samples, bands) array in the storage order of ``interleave``, C-contiguous."""
    return np.ascontiguousarray(as_interleave(image, Interleave.BIP, Interleave(interleave)))


def envi_pair(image: Array, interleave: str, fields: Mapping[str, object] | None = None) -> tuple[bytes, bytes]:
    """Return ``(header, data)`` bytes of an ENVI pair holding ``image``, with wavelengths and ``fields``."""
    array = stored(image, interleave)
    spectral: dict[str, object] = {"wavelength units": "nm", "wavelength": wavelengths(image.shape[2])}
    header = build_header_text(cube_header_fields(array, interleave, {**spectral, **(fields or {})}))
    return header.encode(), array.tobytes()


def raw_container(path: str | os.PathLike[str], cube: Array, *, white: Array | None, black: Array | None,
                  whitedark: Array | None = None, interleave: str = "bil", ref_interleave: str | None = None,
                  fields: Mapping[str, object] | None = None,
                  ref_fields: Mapping[str, Mapping[str, object]] | None = None,
                  members: Mapping[str, bytes] | None = None, header_tail: str = "") -> Path:
    """Write a container of ``cube`` and its references (None leaves one out) and return its path.

    Args:
        path: The ``.hsi`` to write.
        cube: (lines, samples, bands), any data type and byte order.
        white, black, whitedark: the references, (lines, samples, bands) each.
        interleave: the cube's interleave.
        ref_interleave: the references' interleave (default: the cube's).
        fields: further fields of ``data.hdr``.
        ref_fields: further fields of a reference header, by reference name (``{"white": {"tint": 10}}``).
        members: further members.
        header_tail: text appended to ``data.hdr`` (entries the canonical writer cannot write, e.g. nested lists).
    """
    out: dict[str, bytes] = {}
    out[CUBE_HEADER], out[CUBE_DATA] = envi_pair(cube, interleave, fields)
    out[CUBE_HEADER] += header_tail.encode()
    for name, image in ((WHITE, white), (BLACK, black), (WHITE_DARK, whitedark)):
        if image is not None:
            header, data = envi_names(reference_stem(name))
            out[header], out[data] = envi_pair(image, ref_interleave or interleave, (ref_fields or {}).get(name))
    out.update(members or {})
    return write_members(path, out)
