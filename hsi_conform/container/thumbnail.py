"""Render ``thumbnail.jpg``: a quicklook of the cube that shows the data (spec/previews.md#thumbnail).

D4.1 leaves the thumbnail's resolution and band-to-colour transfer open; hsi-conform follows the quicklook
convention of ENVI and SNAP: RGB from ``default bands`` when the header has them, else the bands nearest
640/550/460 nm, else the last, middle and first band (one band: grey); a 2-98 percentile stretch per channel that
ignores NaN and infinities; the longest side at most :data:`MAX_SIDE` pixels. The JPEG is encoded by Pillow
(baseline, 4:2:0).

Only the displayed bands are read, and of them only the pixels of the subsampling grid, so a thumbnail of a cube
larger than memory reads a few megabytes.
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Iterable, Sequence
from numbers import Integral
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from hsi_conform.container._file_name import NameIndex
from hsi_conform.container.reader import CubeLayout
from hsi_conform.container.source import read_block
from hsi_conform.errors import DatasetError, HsiConformError, InvalidArgumentError
from hsi_conform.fields import Interleave, wavelength_udunits
from hsi_conform.header import Header
from hsi_conform.members import THUMBNAIL
from hsi_conform.remote import RemoteArray

if TYPE_CHECKING:
    from hsi_conform.container.zipwrite import ContainerWriter, WrittenMember

__all__ = ["MAX_SIDE", "RGB_NM", "display_bands", "image_view", "render_thumbnail", "thumbnail_fits",
           "thumbnail_for", "wavelengths_nm", "written_thumbnail"]

#: Longest side of a thumbnail, in pixels.
MAX_SIDE = 256
#: The red, green and blue wavelengths (nm) whose nearest bands make the colour quicklook.
RGB_NM = (640.0, 550.0, 460.0)
#: Percentiles of the stretch: values below the first are black, above the second white.
STRETCH = (2.0, 98.0)
#: JPEG quality of the thumbnail.
QUALITY = 90
# Nanometres per unit, by the UDUNITS spelling of `wavelength units` (fields.wavelength_udunits).
_NM_PER_UNIT = {"nm": 1.0, "um": 1e3, "mm": 1e6, "cm": 1e7, "m": 1e9, "angstrom": 0.1}


def wavelengths_nm(header: Header, bands: int) -> list[float] | None:
    """Return the header's band centres in nanometres, or None when they are absent, invalid or not lengths.

    ``wavelength units`` missing means nanometres when every value lies in 100-100000 (the D4.1 default), and
    micrometres when every value lies in 0.1-100; a wavenumber, frequency or index unit gives None.
    """
    try:
        values = header.value("wavelength")
        units = header.value("wavelength units")
    except HsiConformError:
        return None
    if not isinstance(values, list | tuple) or len(values) != bands:
        return None
    nm = [float(v) for v in values]
    if units is None:
        scale = 1.0 if all(100 <= v <= 1e5 for v in nm) else 1e3 if all(0.1 <= v <= 100 for v in nm) else None
    else:
        scale = _NM_PER_UNIT.get(wavelength_udunits(str(units)) or "")
    return None if scale is None else [v * scale for v in nm]


def display_bands(bands: int, *, default_bands: Sequence[int] | None = None,
                  wavelengths: Sequence[float] | None = None) -> tuple[int, ...]:
    """Return the 0-based bands shown as red, green and blue (three) or grey (one).

    Args:
        bands: the cube's band count (at least 1).
        default_bands: the header's 1-based ``default bands`` (used when there are one or three, all in range).
        wavelengths: band centres in nanometres (used when some lie at or below 640 nm and some at or above
            460 nm, so that the visible range is covered in part at least).

    Raises:
        InvalidArgumentError: ``bands`` is less than 1.
    """
    if bands < 1:
        raise InvalidArgumentError(f"a cube with {bands} bands has nothing to show")
    if default_bands is not None and _valid_default(default_bands, bands):
        return tuple(int(b) - 1 for b in default_bands)
    if bands == 1:
        return (0,)
    if wavelengths is not None and len(wavelengths) == bands:
        centres = np.asarray(wavelengths, dtype=np.float64)
        # NaN fails both comparisons, so a NaN centre means no colour from wavelengths.
        if centres.min() <= RGB_NM[0] and centres.max() >= RGB_NM[2]:
            return tuple(int(np.argmin(np.abs(centres - nm))) for nm in RGB_NM)
    return (bands - 1, bands // 2, 0)


def _valid_default(default_bands: Sequence[object], bands: int) -> bool:
    return len(default_bands) in (1, 3) and all(
        isinstance(b, Integral) and not isinstance(b, bool) and 1 <= int(b) <= bands for b in default_bands)


@overload
def image_view(cube: np.ndarray[Any, Any], interleave: Interleave) -> np.ndarray[Any, Any]: ...
@overload
def image_view(cube: RemoteArray, interleave: Interleave) -> RemoteArray: ...
@overload
def image_view(cube: np.ndarray[Any, Any] | RemoteArray, interleave: Interleave
               ) -> np.ndarray[Any, Any] | RemoteArray: ...
def image_view(cube: np.ndarray[Any, Any] | RemoteArray, interleave: Interleave
               ) -> np.ndarray[Any, Any] | RemoteArray:
    """Return ``cube`` (in the storage order of ``interleave``) as a (lines, samples, bands) view, without copying.

    A :class:`~hsi_conform.remote.RemoteArray` gives a lazy view too: nothing is read until it is indexed.
    """
    if interleave is Interleave.BSQ:
        return cube.transpose(1, 2, 0)
    if interleave is Interleave.BIL:
        return cube.transpose(0, 2, 1)
    return cube


def render_thumbnail(image: np.ndarray[Any, Any], bands: Sequence[int], *, max_side: int = MAX_SIDE) -> bytes:
    """Return the JPEG bytes of ``image`` (lines, samples, bands) shown through ``bands`` (one or three).

    The image is subsampled on a regular grid (every ``n``-th line and sample from the first) to at most
    ``max_side`` pixels on its longest side; each channel is stretched between its 2nd and 98th percentile (NaN
    and infinities ignored, and shown black). Complex values show their magnitude. Any byte order and ENVI data
    type is read; only the shown bands' grid pixels are copied into memory.

    Raises:
        DatasetError: the image has no pixel, or ``bands`` are not one or three of its bands.
        InvalidArgumentError: ``max_side`` is less than 1.
    """
    from PIL import Image  # a core dependency; imported here so that importing the reader stays light

    if max_side < 1:
        raise InvalidArgumentError(f"a thumbnail side of {max_side} pixels")
    lines, samples, count = image.shape
    if lines * samples * count == 0:
        raise DatasetError(f"an image of {lines}x{samples}x{count} has no pixel to show")
    if len(bands) not in (1, 3) or not all(0 <= b < count for b in bands):
        raise DatasetError(f"bands {list(bands)} are not one or three of the image's {count} bands")
    step = max(1, math.ceil(max(lines, samples) / max_side))
    channels = [_stretch(read_block(image[::step, ::step, b])) for b in bands]
    pixels = channels[0] if len(channels) == 1 else np.dstack(channels)
    out = io.BytesIO()
    # Pillow infers L or RGB from the array; fixed settings give the same bytes for the same pixels.
    Image.fromarray(pixels).save(out, format="JPEG", quality=QUALITY, subsampling="4:2:0", optimize=False,
                                 progressive=False)
    return out.getvalue()


def thumbnail_for(header: Header, cube: np.ndarray[Any, Any]) -> bytes:
    """Return the thumbnail of a cube stored as ``header`` describes (``cube`` in its storage order).

    Raises:
        HsiConformError: the header's ``interleave`` is missing or invalid.
        DatasetError: the cube has no pixel.
    """
    interleave = header.value("interleave")
    if not isinstance(interleave, Interleave):
        raise HsiConformError("the header has no valid interleave")
    image = image_view(cube, interleave)
    bands = image.shape[2]
    if image.size == 0:
        raise DatasetError(f"a cube of shape {cube.shape} has no pixel to show")
    try:
        default = header.value("default bands")
    except HsiConformError:
        default = None
    chosen = display_bands(bands, default_bands=default, wavelengths=wavelengths_nm(header, bands))
    return render_thumbnail(image, chosen)


def written_thumbnail(zw: ContainerWriter, written: WrittenMember, header: Header) -> bytes:
    """Return the thumbnail of a cube member ``written`` by ``zw`` as ``header`` describes it.

    The member is mapped from the writer's temp file (:meth:`ContainerWriter.written_array`), so the thumbnail
    shows the bytes as written, whatever array or computed cube they came from (spec/previews.md#thumbnail).

    Raises:
        FieldValueError: a layout field of ``header`` is missing or invalid.
        DatasetError: the member is shorter than ``header`` says, or the cube has no pixel.
    """
    layout = CubeLayout.from_header(header)
    cube_bytes = dataclasses.replace(written, data_offset=written.data_offset + layout.header_offset,
                                     size=written.size - layout.header_offset)
    return thumbnail_for(header, zw.written_array(cube_bytes, layout.dtype, layout.shape))


def thumbnail_fits(names: Iterable[str]) -> bool:
    """Return whether ``thumbnail.jpg`` can join members named ``names``: none is it or collides with it.

    A writer asks before it renders one: ``Thumbnail.JPG`` (a case collision) or a folder ``thumbnail.jpg/`` among
    the members would make the container unwritable (spec/container.md#names).
    """
    index = NameIndex()
    for name in names:
        index.add(name)
    return not index.check(THUMBNAIL)


def _stretch(channel: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Return ``channel`` stretched to 0-255 between its percentiles; what is not finite is 0."""
    values = np.abs(channel) if channel.dtype.kind == "c" else channel
    values = values.astype(np.float64)
    finite = np.isfinite(values)
    out = np.zeros(values.shape, dtype=np.uint8)
    if not finite.any():
        return out
    # Halved, differences of finite float64 values cannot overflow (the percentiles interpolate differences too).
    half = values[finite] * 0.5
    low, high = np.percentile(half, STRETCH)
    if high > low:
        with np.errstate(over="ignore"):  # a subnormal span: the quotient saturates, the clip makes it white
            scaled = (half - low) / (high - low) * 255.0
        out[finite] = np.rint(np.clip(scaled, 0.0, 255.0)).astype(np.uint8)
    return out
