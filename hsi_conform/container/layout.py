"""What an ENVI header says about its data file, and views of a cube in another interleave.

Re-exported by :mod:`hsi_conform.container.reader`, where these names have always been imported from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from hsi_conform.errors import FieldValueError
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.header import Header
from hsi_conform.remote import RemoteArray

__all__ = ["CubeLayout", "as_interleave"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CubeLayout:
    """What an ENVI header says about its data file.

    Attributes:
        lines, samples, bands: dimensions.
        data_type: ENVI data type.
        byte_order: 0 little endian, 1 big endian.
        interleave: bsq, bil or bip.
        header_offset: bytes to skip at the start of the data file.
    """

    lines: int
    samples: int
    bands: int
    data_type: DataType
    byte_order: ByteOrder
    interleave: Interleave
    header_offset: int

    @property
    def shape(self) -> tuple[int, int, int]:
        """Array shape in storage order."""
        return self.interleave.shape(self.lines, self.samples, self.bands)

    @property
    def dtype(self) -> np.dtype[np.generic]:
        """Numpy dtype with explicit byte order."""
        return self.data_type.dtype(int(self.byte_order))

    @property
    def nbytes(self) -> int:
        """Bytes of cube data (exact, Python integers: numpy products overflow)."""
        return self.lines * self.samples * self.bands * self.data_type.itemsize

    @classmethod
    def from_header(cls, header: Header) -> CubeLayout:
        """Read the layout fields of a header (``header offset`` defaults to 0).

        Raises:
            FieldValueError: a layout field is missing or invalid.
        """
        values = {}
        for key in ("lines", "samples", "bands", "data type", "byte order", "interleave"):
            value = header.value(key)
            if value is None:
                raise FieldValueError(key, None, "mandatory field is missing")
            values[key] = value
        offset = header.value("header offset") or 0
        for key in ("lines", "samples", "bands"):
            if values[key] <= 0:
                raise FieldValueError(key, None, "must be a positive integer")
        if offset < 0:
            raise FieldValueError("header offset", None, "must not be negative")
        return cls(lines=values["lines"], samples=values["samples"], bands=values["bands"],
                   data_type=values["data type"], byte_order=values["byte order"],
                   interleave=values["interleave"], header_offset=offset)


_AXES = {Interleave.BSQ: "bls", Interleave.BIL: "lbs", Interleave.BIP: "lsb"}


@overload
def as_interleave(array: np.ndarray[Any, Any], stored: Interleave, wanted: Interleave) -> np.ndarray[Any, Any]: ...


@overload
def as_interleave(array: RemoteArray, stored: Interleave, wanted: Interleave) -> RemoteArray: ...


@overload
def as_interleave(array: np.ndarray[Any, Any] | RemoteArray, stored: Interleave,
                  wanted: Interleave) -> np.ndarray[Any, Any] | RemoteArray: ...


def as_interleave(array: np.ndarray[Any, Any] | RemoteArray, stored: Interleave,
                  wanted: Interleave) -> np.ndarray[Any, Any] | RemoteArray:
    """Return a view of a cube stored as ``stored`` with the axes of ``wanted`` (a transpose, never a copy)."""
    src, dst = _AXES[stored], _AXES[wanted]
    return array.transpose(tuple(src.index(axis) for axis in dst))
