"""Render ``thumbnail.jpg``: a quicklook of the cube that shows the data (spec/previews.md#thumbnail).

D4.1 leaves the thumbnail's resolution and band-to-colour transfer open; hsi-conform follows the quicklook
convention of ENVI and SNAP: RGB from ``default bands`` when the header has them, else the bands nearest
640/550/460 nm, else the first, middle and last band (one band: grey); a 2-98 percentile stretch per channel that
ignores NaN; the longest side at most :data:`MAX_SIDE` pixels. The JPEG is encoded by Pillow (baseline, 4:2:0).

Only the displayed bands are read, and of them only the pixels of the subsampling grid, so a thumbnail of a cube
larger than memory reads a few megabytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from hsi_conform.container.source import read_block
from hsi_conform.errors import HsiConformError
from hsi_conform.fields import Interleave, envi_wavelength_unit
from hsi_conform.header import Header

__all__ = ["MAX_SIDE", "RGB_NM", "display_bands", "image_view", "render_thumbnail", "thumbnail_for",
           "wavelengths_nm"]

#: Longest side of a thumbnail, in pixels.
MAX_SIDE = 256
#: The red, green and blue wavelengths (nm) whose nearest bands make the colour quicklook.
RGB_NM = (640.0, 550.0, 460.0)
#: Percentiles of the stretch: values below the first are black, above the second white.
STRETCH = (2.0, 98.0)
#: JPEG quality of the thumbnail.
QUALITY = 90
_NM_PER_UNIT = {"Nanometers": 1.0, "Micrometers": 1e3, "Millimeters": 1e6, "Centimeters": 1e7, "Meters": 1e9,
                "Angstroms": 0.1}


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
        scale = _NM_PER_UNIT.get(envi_wavelength_unit(str(units)) or "")
    return None if scale is None else [v * scale for v in nm]


def display_bands(bands: int, *, default_bands: Sequence[int] | None = None,
                  wavelengths: Sequence[float] | None = None) -> tuple[int, ...]:
    """Return the 0-based bands shown as red, green and blue (three) or grey (one).

    Args:
        bands: the cube's band count.
        default_bands: the header's 1-based ``default bands`` (one or three; used when all are in range).
        wavelengths: band centres in nanometres (used when they span the visible range).
    """
    if default_bands and len(default_bands) in (1, 3) and all(1 <= b <= bands for b in default_bands):
        return tuple(b - 1 for b in default_bands)
    if bands == 1:
        return (0,)
    if wavelengths is not None and len(wavelengths) == bands:
        centres = np.asarray(wavelengths, dtype=np.float64)
        if centres.min() <= RGB_NM[0] and centres.max() >= RGB_NM[2]:
            return tuple(int(np.argmin(np.abs(centres - nm))) for nm in RGB_NM)
    return (bands - 1, bands // 2, 0)


def image_view(cube: np.ndarray[Any, Any], interleave: Interleave) -> np.ndarray[Any, Any]:
    """Return ``cube`` (in the storage order of ``interleave``) as a (lines, samples, bands) view, without copying."""
    if interleave is Interleave.BSQ:
        return cube.transpose(1, 2, 0)
    if interleave is Interleave.BIL:
        return cube.transpose(0, 2, 1)
    return cube


def render_thumbnail(image: np.ndarray[Any, Any], bands: Sequence[int], *, max_side: int = MAX_SIDE) -> bytes:
    """Return the JPEG bytes of ``image`` (lines, samples, bands) shown through ``bands`` (one or three).

    The image is subsampled on a regular grid to at most ``max_side`` pixels on its longest side; each channel
    is stretched between its 2nd and 98th percentile (NaN and infinities ignored, shown black).
    """
    from PIL import Image  # a core dependency; imported here so that importing the reader stays light

    lines, samples = image.shape[:2]
    step = max(1, math.ceil(max(lines, samples) / max_side))
    channels = [_stretch(read_block(image[::step, ::step, b])) for b in bands]
    pixels = channels[0] if len(channels) == 1 else np.dstack(channels)
    out = io.BytesIO()
    Image.fromarray(pixels, mode="L" if len(channels) == 1 else "RGB").save(out, format="JPEG", quality=QUALITY)
    return out.getvalue()


def thumbnail_for(header: Header, cube: np.ndarray[Any, Any]) -> bytes:
    """Return the thumbnail of a cube stored as ``header`` describes (``cube`` in its storage order).

    Raises:
        HsiConformError: the header's ``interleave`` is missing or invalid.
    """
    interleave = header.value("interleave")
    if not isinstance(interleave, Interleave):
        raise HsiConformError("the header has no valid interleave")
    image = image_view(cube, interleave)
    bands = image.shape[2]
    try:
        default = header.value("default bands")
    except HsiConformError:
        default = None
    chosen = display_bands(bands, default_bands=default, wavelengths=wavelengths_nm(header, bands))
    return render_thumbnail(image, chosen)


def _stretch(channel: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    values = channel.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, dtype=np.uint8)
    low, high = np.percentile(values[finite], STRETCH)
    span = high - low if high > low else 1.0
    scaled = np.clip((values - low) / span * 255.0, 0.0, 255.0)
    scaled[~finite] = 0.0
    out: np.ndarray[Any, Any] = np.rint(scaled).astype(np.uint8)
    return out
