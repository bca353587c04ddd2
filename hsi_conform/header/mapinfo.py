"""ENVI ``map info``: the tie point and pixel size that place an image on a map (spec/xarray-mapping.md#map-info).

``map info = {projection, x ref, y ref, easting, northing, x size, y size[, zone, North|South][, datum]
[, units=...][, rotation=...]}``. The reference pixel is in 1-based file coordinates, where ``(1, 1)`` is the
upper-left corner of the upper-left pixel, so the affine transform is GDAL's::

    x = easting - (x_ref - 1) * x_size + column * x_size
    y = northing + (y_ref - 1) * y_size - row * y_size

The field stays verbatim in the header (spec/fields.md#map-info); this module only reads it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hsi_conform.errors import FieldValueError
from hsi_conform.header.values import parse_float

FIELD = "map info"
#: The positional numbers after the projection name: reference pixel x, y, easting, northing, pixel size x, y.
_NUMBERS = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class MapInfo:
    """A parsed ``map info``.

    Attributes:
        projection: the projection name (``UTM``, ``Geographic Lat/Lon``, ``Arbitrary``, ...).
        reference_pixel: the (x, y) file coordinates of the tie point, 1-based (``1, 1`` is the upper-left corner).
        tie_point: the map (x, y) of the reference pixel (easting and northing, or longitude and latitude).
        pixel_size: the (x, y) size of a pixel in map units; y grows northwards, rows grow southwards.
        units: the ``units=`` item (``Meters``, ``Degrees``, ...), None when absent.
        rotation: the ``rotation=`` item in degrees (0: north up).
        extra: the other items verbatim (zone, hemisphere, datum).
    """

    projection: str
    reference_pixel: tuple[float, float]
    tie_point: tuple[float, float]
    pixel_size: tuple[float, float]
    units: str | None = None
    rotation: float = 0.0
    extra: tuple[str, ...] = ()

    @property
    def geotransform(self) -> tuple[float, float, float, float, float, float] | None:
        """GDAL's six-number affine transform of a north-up image; None when the grid is rotated."""
        if self.rotation % 360:
            return None  # rows and columns do not follow the map axes: there are no x and y axes
        (xr, yr), (east, north), (dx, dy) = self.reference_pixel, self.tie_point, self.pixel_size
        return (east - (xr - 1) * dx, dx, 0.0, north + (yr - 1) * dy, 0.0, -dy)

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """The affine transform GDAL's ENVI driver computes, rotation included (spec/georeferencing.md#transform).

        GDAL turns the grid by ``-rotation`` degrees about the tie point and shifts the origin by the reference
        pixel along the unrotated axes; a rotation of exactly 180 degrees gives an upside-down grid
        (``y size`` positive). Equal to :attr:`geotransform` when the grid is not rotated.
        """
        (xr, yr), (east, north), (dx, dy) = self.reference_pixel, self.tie_point, self.pixel_size
        if abs(self.rotation) == 180:
            return (east - (xr - 1) * dx, dx, 0.0, north + (yr - 1) * dy, 0.0, dy)
        turn = math.radians(-self.rotation)
        cos, sin = math.cos(turn), math.sin(turn)
        return (east - (xr - 1) * dx, cos * dx, -sin * dx, north + (yr - 1) * dy, -sin * dy, -cos * dy)

    def x_centres(self, samples: int) -> np.ndarray[tuple[int], np.dtype[np.float64]] | None:
        """Map x of the centre of each column; None when the grid is rotated."""
        gt = self.geotransform
        return None if gt is None else gt[0] + (np.arange(samples, dtype=np.float64) + 0.5) * gt[1]

    def y_centres(self, lines: int) -> np.ndarray[tuple[int], np.dtype[np.float64]] | None:
        """Map y of the centre of each row; None when the grid is rotated."""
        gt = self.geotransform
        return None if gt is None else gt[3] + (np.arange(lines, dtype=np.float64) + 0.5) * gt[5]


def parse_map_info(items: Sequence[str]) -> MapInfo:
    """Parse the items of a ``map info`` list (numbers as strict as every header number: finite, ASCII).

    Raises:
        FieldValueError: fewer than seven items, a position or size that is not a number, a zero pixel size, or
            a ``rotation=`` that is not a number.
    """
    if len(items) < 1 + _NUMBERS:
        raise FieldValueError(FIELD, None, f"{len(items)} items; a map info needs at least {1 + _NUMBERS}")
    numbers = [parse_float(t, field=FIELD, item=i) for i, t in enumerate(items[1 : 1 + _NUMBERS], start=1)]
    if numbers[4] == 0 or numbers[5] == 0:
        raise FieldValueError(FIELD, 5 if numbers[4] == 0 else 6, "a pixel size of 0")
    units: str | None = None
    rotation = 0.0
    extra: list[str] = []
    for index, raw in enumerate(items[1 + _NUMBERS :], start=1 + _NUMBERS):
        key, sep, value = raw.partition("=")
        name = key.strip().lower()
        if sep and name == "units":
            units = value.strip()
        elif sep and name == "rotation":
            rotation = parse_float(value, field=FIELD, item=index)
        else:
            extra.append(raw.strip())
    return MapInfo(projection=items[0].strip(), reference_pixel=(numbers[0], numbers[1]),
                   tie_point=(numbers[2], numbers[3]), pixel_size=(numbers[4], numbers[5]), units=units,
                   rotation=rotation, extra=tuple(extra))
