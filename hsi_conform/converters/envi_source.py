"""The data file of an imported ENVI header: chosen by its size, and gzip data decompressed (spec/envi-mapping.md).

* **Pairing** (spec/envi-mapping.md#pairing). Of the candidate files beside a header (``x``, ``x.img``, ``x.dat``,
  ...: the table's order), the data file is the one whose size equals ``header offset + lines·samples·bands·
  itemsize``; the order only breaks ties. When none is exact, the candidate with the fewest bytes after the cube
  is taken, provided it has no more of them than the cube has bytes (GDAL's test files carry one stray byte; an
  unrelated file beside the header, such as an ERDAS ``.img`` 25 times the cube, is never taken). A header whose
  layout cannot be read pairs with the first candidate, so that the import can say what is wrong with it.
* **``file compression = 1``** (gzip, spec/envi-mapping.md#compression): the size of the data file says nothing,
  so the first candidate that starts with the gzip magic is the data. It is decompressed while streaming into a
  scratch file (never read whole), which must hold at least the cube and at most as many bytes again; the cube
  is mapped from the scratch file, which lives as long as the dataset.
"""

from __future__ import annotations

import gzip
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.container.reader import CubeLayout
from hsi_conform.converters._stream import Scratch
from hsi_conform.converters.base import Blob
from hsi_conform.errors import FieldValueError, HsiConformError, InputUnreadableError
from hsi_conform.fields import DataType
from hsi_conform.header import Header

__all__ = ["GZIP_MAGIC", "Decompressed", "Expected", "choose_data", "decompress", "expected_data",
           "gzip_compressed", "no_data_file"]

#: The first two bytes of every gzip stream (RFC 1952).
GZIP_MAGIC = b"\x1f\x8b"
#: ``file compression`` values: ENVI writes 1 for gzip data, 0 (or nothing) for raw data.
_COMPRESSION = {"0": False, "1": True}
#: Bytes decompressed per read: gzip holds a few times this in memory, whatever the size of the data.
_GUNZIP_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Expected:
    """What a header says about its data file.

    Attributes:
        size: ``header offset`` + the cube's bytes: the size of the data file (decompressed, when compressed).
        cube: the cube's bytes (``lines·samples·bands·itemsize``).
        compressed: ``file compression = 1``: the file holds gzip data.
    """

    size: int
    cube: int
    compressed: bool = False

    def fits(self, size: int) -> bool:
        """Whether a file of ``size`` bytes can be this header's data (exact, or a few bytes after the cube)."""
        return self.size <= size <= self.size + self.cube


def gzip_compressed(header: Header) -> bool:
    """Return whether the header's ``file compression`` says gzip (1); missing or 0: raw data.

    Raises:
        ValueError: a value other than 0 or 1 (ENVI defines no other).
    """
    entry = header.get("file compression")
    if entry is None:
        return False
    value = entry.value_raw.strip()
    if value not in _COMPRESSION:
        raise ValueError(f"[file compression] {value!r} is not 0 (raw) or 1 (gzip)")
    return _COMPRESSION[value]


def expected_data(header: Header) -> Expected | None:
    """Return what the header says about its data file, or None when its layout fields do not describe a cube."""
    try:
        dims = [header.value(key) for key in ("lines", "samples", "bands")]
        data_type = header.value("data type")
        offset = header.value("header offset") or 0
        compressed = gzip_compressed(header)
    except (HsiConformError, ValueError):
        return None
    if data_type is None or any(d is None or d <= 0 for d in dims) or offset < 0:
        return None
    cube = math.prod(dims) * DataType(data_type).itemsize
    return Expected(size=offset + cube, cube=cube, compressed=compressed)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def _starts_with_gzip(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    except OSError:
        return False


def choose_data(candidates: Sequence[Path], expected: Expected | None) -> Path | None:
    """Return the data file among the candidates (in pairing order), or None when none fits the header."""
    if not candidates:
        return None
    if expected is None:
        return candidates[0]  # the import reports the layout
    if expected.compressed:
        return next((c for c in candidates if _starts_with_gzip(c)), None)
    sizes = [(_size(c) - expected.size, index) for index, c in enumerate(candidates)]
    fitting = [(extra, index) for extra, index in sizes if expected.fits(expected.size + extra)]
    return candidates[min(fitting)[1]] if fitting else None


def no_data_file(header: Path, candidates: Sequence[Path], expected: Expected | None) -> str:
    """Say why no candidate is the header's data file, naming each candidate and its size."""
    found = ", ".join(f"{c.name} ({_size(c)} bytes)" for c in candidates) or "none"
    if expected is not None and expected.compressed:
        return f"file compression = 1 but no data file beside {header.name} is gzip data (candidates: {found})"
    need = "" if expected is None else f" of {expected.size} bytes (header offset + lines·samples·bands·itemsize)"
    return f"no data file{need} beside {header.name}; candidates: {found}"


@dataclass(frozen=True, slots=True)
class Decompressed:
    """gzip data decompressed into a scratch file.

    Attributes:
        cube: the cube, mapped read-only from the scratch file.
        raw: the whole decompressed stream when it is more than the cube (an embedded header, trailing bytes).
        size: bytes decompressed.
        scratch: the scratch file; bind it to the dataset that maps it.
    """

    cube: np.ndarray[Any, Any]
    raw: Blob | None
    size: int
    scratch: Scratch


def decompress(data: Path, header: Header) -> Decompressed:
    """Decompress gzip data into a scratch file, streaming, and map the header's cube from it.

    Raises:
        InputUnreadableError: invalid layout fields, not gzip data, a damaged stream, fewer bytes than the header
            describes, or more than that and the cube again (a header that does not describe this file).
    """
    try:
        layout = CubeLayout.from_header(header)
    except FieldValueError as exc:
        raise InputUnreadableError(str(data), f"header layout is invalid: {exc}") from exc
    need = layout.header_offset + layout.nbytes
    limit = need + layout.nbytes
    scratch = Scratch()
    path = scratch.new(0)
    try:
        size = _gunzip(data, path, limit)
        if size < need:
            raise InputUnreadableError(str(data), f"the gzip data decompress to {size} bytes, the header "
                                                  f"describes {need}")
        cube = np.memmap(path, dtype=layout.dtype, mode="r", offset=layout.header_offset, shape=layout.shape)
    except BaseException:
        path.unlink(missing_ok=True)  # nothing maps it yet
        raise
    raw = None if size == layout.nbytes else Blob(path, 0, size)
    return Decompressed(cube=cube, raw=raw, size=size, scratch=scratch)


def _gunzip(data: Path, dest: Path, limit: int) -> int:
    """Decompress ``data`` into ``dest`` chunk by chunk; return the bytes written (refusing more than ``limit``)."""
    written = 0
    try:
        with gzip.open(data, "rb") as src, open(dest, "wb") as out:
            while chunk := src.read(min(_GUNZIP_CHUNK, limit + 1 - written)):
                written += len(chunk)
                if written > limit:
                    raise InputUnreadableError(str(data), f"the gzip data decompress to more than {limit} bytes, "
                                                          "twice the cube the header describes")
                out.write(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputUnreadableError(str(data), f"damaged gzip data: {exc}") from exc
    return written
