"""Open the ENVI pairs of a SPECIM folder and turn its references into the container's one-line references.

Decision (D4.1: "a single (possibly aggregated) line for push broom"): a one-line reference (SPECIM IQ) is copied
byte for byte; a multi-line reference (Lumo: FX10/FX17/FENIX/SWIR) becomes the mean over its lines, accumulated
in float64 slab by slab and stored as float32 (ENVI data type 4, little endian). Rounding back to the raw uint16
would throw away the noise reduction that is the point of averaging, and every public reader (iqcampy, hylite)
computes reflectance in floating point anyway. The multi-line originals stay under ``Metadata/specim/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.container.reader import CubeLayout
from hsi_conform.container.source import SourceFile, map_array, read_block
from hsi_conform.container.write import SLAB_BYTES
from hsi_conform.converters.base import Blob, EnviArray
from hsi_conform.converters.specim.folder import SpecimFiles
from hsi_conform.converters.specim.header import normalise_header
from hsi_conform.converters.specim.table import SpecimTable
from hsi_conform.errors import HsiConformError, InputUnreadableError
from hsi_conform.fields import DataType, Interleave
from hsi_conform.header import Header, parse_header


@dataclass(slots=True)
class OpenedSpecimFiles:
    """The :class:`SpecimFiles` of the folder once opened: the vendor header, its layout, the mapped array, the range.

    Not a pair of names: it holds the parsed header and a memory map of the data file, whose size was checked.
    """

    vendor: Header
    layout: CubeLayout
    array: np.ndarray[Any, Any]
    blob: Blob


def read_vendor_header(path: Path) -> Header:
    """Parse a vendor header leniently.

    Raises:
        InputUnreadableError: the file cannot be read or is not an ENVI header at all.
    """
    try:
        return parse_header(path.read_bytes())
    except OSError as exc:
        raise InputUnreadableError(str(path), exc.strerror or str(exc)) from None
    except HsiConformError as exc:
        raise InputUnreadableError(str(path), str(exc)) from None


def open_pair(pair: SpecimFiles) -> OpenedSpecimFiles:
    """Map the data of an ENVI pair after checking that its size is exactly what the header describes.

    Raises:
        InputUnreadableError: the header's layout fields are invalid, or the data file is truncated or longer
            than the header says (a corrupt or partly copied recording).
    """
    vendor = read_vendor_header(pair.header)
    try:
        layout = CubeLayout.from_header(vendor)
    except HsiConformError as exc:
        raise InputUnreadableError(str(pair.header), str(exc)) from None
    try:
        source = SourceFile.open(pair.data)
        size = source.size()
    except OSError as exc:
        raise InputUnreadableError(str(pair.data), exc.strerror or str(exc)) from None
    with source:
        expected = layout.header_offset + layout.nbytes
        if size != expected:
            what = "truncated" if size < expected else "longer than its header says"
            raise InputUnreadableError(str(pair.data), f"{what}: {size} bytes, the header describes {expected} "
                                       f"({layout.lines} lines x {layout.bands} bands x {layout.samples} samples "
                                       f"x {layout.data_type.itemsize} bytes + {layout.header_offset})")
        array: np.ndarray[Any, Any] = map_array(source, layout.dtype, layout.header_offset, layout.shape)
    return OpenedSpecimFiles(vendor, layout, array, Blob(pair.data, 0, size))


def mean_over_lines(array: np.ndarray[Any, Any], interleave: Interleave, dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
    """Return the mean over the line axis as a one-line array in the same interleave (bounded memory)."""
    axis = 1 if interleave is Interleave.BSQ else 0
    lines = array.shape[axis]
    shape = list(array.shape)
    shape[axis] = 1
    total = np.zeros(shape, dtype=np.float64)
    per_line = max(1, array.nbytes // max(lines, 1))
    step = max(1, SLAB_BYTES // per_line)
    for start in range(0, lines, step):
        part = array[start : start + step] if axis == 0 else array[:, start : start + step]
        total += read_block(part).sum(axis=axis, keepdims=True, dtype=np.float64)
    mean: np.ndarray[Any, Any] = (total / lines).astype(dtype)
    return mean


def load_reference(pair: SpecimFiles, rel_name: str, table: SpecimTable) -> tuple[EnviArray, list[str]]:
    """Return the container reference of a SPECIM reference file and notes on what was done.

    Args:
        pair: the reference's header and data file.
        rel_name: the data file's path relative to the folder (named in notes and in the header comment).
        table: the SPECIM mapping table.

    Raises:
        InputUnreadableError: see :func:`open_pair`.
    """
    opened = open_pair(pair)
    if opened.layout.lines == 1:
        header, notes = normalise_header(opened.vendor, table)
        return EnviArray(header=header, array=opened.array, raw=opened.blob), [f"{rel_name}: {n}" for n in notes]
    data_type = DataType(table.reference_data_type)
    mean = mean_over_lines(opened.array, opened.layout.interleave, data_type.dtype(0))
    comment = table.reference_comment.format(lines=opened.layout.lines, file=rel_name)
    replace = {"lines": 1, "data type": int(data_type), "byte order": 0, "header offset": 0}
    header, notes = normalise_header(opened.vendor, table, replace=replace, comments=[comment])
    notes = [f"{rel_name}: {n}" for n in notes]
    notes.append(f"{rel_name}: {opened.layout.lines} lines averaged to one line ({data_type.name.lower()}); "
                 "the original is kept")
    return EnviArray(header=header, array=mean), notes
