"""Header values as the metadata exports need them: typed, in micrometres, in UTC, on the map in WGS 84.

Each function reads one fact from a header and returns None when the header does not state it (absent or invalid:
the validator reports invalid values, an export leaves them out). Decisions: spec/metadata-crosswalk.md.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from hsi_conform.errors import HsiConformError, MissingDependencyError
from hsi_conform.fields import wavelength_udunits
from hsi_conform.header import Header
from hsi_conform.header.georef import Crs, Georeferencing

__all__ = ["UtcTime", "band_list", "crs_code", "footprint", "micrometres_per_unit", "utc_time", "value"]

#: Micrometres per wavelength unit, by its UDUNITS spelling (:data:`hsi_conform.fields.WAVELENGTH_UNITS`).
_MICROMETRES = {"um": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6, "angstrom": 1e-4}
_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})(?:T(?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?")
# The most any zone is off UTC: offsets run from -12:00 to +14:00.
_BEHIND, _AHEAD = dt.timedelta(hours=12), dt.timedelta(hours=14)


def value(header: Header, key: str) -> Any:
    """Return a field's typed value; None when absent or invalid."""
    try:
        return header.value(key)
    except HsiConformError:
        return None


def band_list(header: Header, key: str, bands: int | None) -> list[float] | None:
    """Return a per-band number list; None when absent, invalid or not one value per band."""
    items = value(header, key)
    if not isinstance(items, list | tuple) or bands is None or len(items) != bands:
        return None
    try:
        return [float(v) for v in items]
    except (TypeError, ValueError):
        return None


def micrometres_per_unit(header: Header) -> float | None:
    """Return the micrometres of one ``wavelength units``; None when the unit is absent or not a length."""
    unit = value(header, "wavelength units")
    udunits = wavelength_udunits(unit) if isinstance(unit, str) else None
    return _MICROMETRES.get(udunits or "")


class UtcTime:
    """When an image was taken, in UTC: an instant, or the interval a time without a zone can mean.

    Attributes:
        instant: the UTC instant when the time has a zone (``Z`` or an offset), else None.
        start, end: the earliest and latest UTC instants it can mean (equal to ``instant`` when there is one): a
            local time lies within -14 h and +12 h of the same clock time in UTC, a date covers its whole day in
            any zone (spec/metadata-crosswalk.md#datetime).
    """

    def __init__(self, instant: dt.datetime | None, start: dt.datetime, end: dt.datetime) -> None:
        self.instant, self.start, self.end = instant, start, end


def utc_time(header: Header) -> UtcTime | None:
    """Return the ``acquisition time`` in UTC; None when absent or not one of the forms this reads."""
    text = value(header, "acquisition time")
    match = _TIME.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    try:
        day = dt.date.fromisoformat(match["date"])
        if match["time"] is None:
            midnight = dt.datetime.combine(day, dt.time(), dt.UTC)
            return UtcTime(None, midnight - _AHEAD, midnight + dt.timedelta(days=1) + _BEHIND)
        clock = dt.time.fromisoformat(match["time"])
    except ValueError:
        return None
    micro = int((match["fraction"] or "0")[:6].ljust(6, "0"))
    local = dt.datetime.combine(day, clock.replace(microsecond=micro))
    zone = match["zone"]
    if zone is None:
        utc = local.replace(tzinfo=dt.UTC)
        return UtcTime(None, utc - _AHEAD, utc + _BEHIND)
    offset = dt.timedelta() if zone == "Z" else _offset(zone)
    instant = (local - offset).replace(tzinfo=dt.UTC)
    return UtcTime(instant, instant, instant)


def _offset(zone: str) -> dt.timedelta:
    digits = zone[1:].replace(":", "")
    delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    return -delta if zone[0] == "-" else delta


def footprint(geo: Georeferencing, lines: int, samples: int) -> list[tuple[float, float]] | None:
    """Return the image's four corners as WGS 84 (longitude, latitude), clockwise from the upper left.

    None without a transform or a CRS. A CRS other than WGS 84 (EPSG:4326) is transformed with pyproj.

    Raises:
        MissingDependencyError: the CRS needs pyproj and it is not installed (the ``stac`` extra).
    """
    if geo.transform is None or geo.crs is None:
        return None
    a, b, c, d, e, f = geo.transform
    corners = [(a + b * x + c * y, d + e * x + f * y) for x, y in ((0, 0), (samples, 0), (samples, lines),
                                                                   (0, lines))]
    if geo.crs.epsg == 4326:
        return corners  # the transform's x is the longitude (GDAL's traditional GIS order)
    try:
        from pyproj import CRS, Transformer
    except ImportError:
        raise MissingDependencyError("a STAC geometry in a CRS other than WGS 84", ("pyproj",), "stac") from None
    source = CRS.from_epsg(geo.crs.epsg) if geo.crs.epsg is not None else CRS.from_wkt(geo.crs.wkt)
    to_wgs84 = Transformer.from_crs(source, CRS.from_epsg(4326), always_xy=True)
    return [tuple(float(v) for v in to_wgs84.transform(x, y)) for x, y in corners]  # type: ignore[misc]


def crs_code(crs: Crs) -> tuple[int | None, str | None]:
    """Return the EPSG code of a CRS and, when it has none, its WKT 2 (2019) text.

    The header's own EPSG code first; otherwise pyproj identifies the WKT 1 text as GDAL does (an ESRI
    ``NAD_1927_UTM_Zone_11N`` is EPSG:26711) or converts it to WKT 2. Without pyproj: ``(None, None)``.
    """
    if crs.epsg is not None:
        return crs.epsg, None
    try:
        from pyproj import CRS
        from pyproj.exceptions import CRSError
    except ImportError:
        return None, None
    try:
        parsed = CRS.from_wkt(crs.wkt)
    except CRSError:
        return None, None
    code = parsed.to_epsg()
    return (code, None) if code is not None else (None, str(parsed.to_wkt(version="WKT2_2019")))
