"""A container as a STAC Item: core 1.0.0 with the ``eo`` 1.1.0 and ``projection`` 2.0.0 extensions.

The Item's assets are the container itself and each of its members (fsspec's chained ``zip://`` URLs), its
``eo:bands`` the wavelengths and FWHM in micrometres, its ``proj:*`` fields GDAL's reading of ``map info``
(:func:`hsi_conform.header.georef.georeferencing`), its geometry the footprint in WGS 84. Which field becomes what is
the crosswalk's ``stac`` column; the decisions (versions, hrefs, media types, times, no ``view:*``) are in
spec/metadata-crosswalk.md#stac.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from typing import Any
from urllib.parse import urlsplit

from hsi_conform.container.reader import Container
from hsi_conform.errors import DatasetError
from hsi_conform.header.georef import Georeferencing, georeferencing
from hsi_conform.members import (
    CUBE_DATA,
    CUBE_HEADER,
    EXPLORATION_DIR,
    METADATA_DIR,
    PREVIEW_PATTERN,
    REFERENCE_DIR,
    THUMBNAIL,
)
from hsi_conform.metadata.values import band_list, crs_code, footprint, micrometres_per_unit, utc_time, value

__all__ = ["EXTENSIONS", "STAC_VERSION", "container_name", "stac_item"]

STAC_VERSION = "1.0.0"
"""The STAC core version of the Items written."""
EXTENSIONS = {
    "eo": "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "proj": "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
}
"""The schema URLs of the extensions an Item may declare (only those it uses are listed in it)."""
CONTAINER_TYPE = "application/zip"
"""The media type of the container asset (an uncompressed ZIP, spec/container.md)."""
_MEMBER_TYPES = {".hdr": "text/plain", ".envi": "application/octet-stream", ".jpg": "image/jpeg",
                 ".json": "application/json", ".csv": "text/csv", ".txt": "text/plain"}


def stac_item(container: Container, href: str) -> dict[str, Any]:
    """Return the STAC Item of a container.

    Args:
        container: the open container.
        href: how the Item refers to the container (a path relative to the Item's file, or a URL).

    Raises:
        DatasetError: the header has no ``acquisition time`` a STAC Item can carry (it needs a time).
        MissingDependencyError: the footprint needs pyproj (a CRS other than WGS 84) and it is not installed.
    """
    header = container.header
    lines, samples, bands = (value(header, k) for k in ("lines", "samples", "bands"))
    item: dict[str, Any] = {"type": "Feature", "stac_version": STAC_VERSION, "stac_extensions": [],
                            "id": _item_id(container), "geometry": None, "properties": _properties(container),
                            "links": [], "assets": _assets(container, href)}
    eo = _eo_bands(container, bands)
    if eo:
        # on the cube's assets too: eo v1.1.0's schema allows Item-level bands only when an asset has them
        # (spec/metadata-crosswalk.md#stac)
        item["properties"]["eo:bands"] = eo
        for name in ("container", CUBE_DATA):
            if name in item["assets"]:
                item["assets"][name]["eo:bands"] = eo
        item["stac_extensions"].append(EXTENSIONS["eo"])
    geo = georeferencing(header) if isinstance(lines, int) and isinstance(samples, int) else None
    if geo is not None and isinstance(lines, int) and isinstance(samples, int):
        item["properties"] |= _projection(geo, lines, samples)
        item["stac_extensions"].append(EXTENSIONS["proj"])
        corners = footprint(geo, lines, samples)
        if corners is not None:
            item["geometry"] = {"type": "Polygon", "coordinates": [_ring(corners)]}
            xs, ys = [x for x, _ in corners], [y for _, y in corners]
            item["bbox"] = [min(xs), min(ys), max(xs), max(ys)]
    if not item["stac_extensions"]:
        del item["stac_extensions"]
    return item


def _ring(corners: list[tuple[float, float]]) -> list[list[float]]:
    """Return the closed exterior ring of the corners, counter-clockwise (RFC 7946's right-hand rule)."""
    twice_area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1], strict=True))
    ordered = corners if twice_area > 0 else [corners[0], *corners[:0:-1]]  # the same first corner
    return [[x, y] for x, y in (*ordered, ordered[0])]


def container_name(container: Container) -> str:
    """Return the container's file name: of its path, or of its URL's path for a remote container."""
    if container.remote:
        return posixpath.basename(urlsplit(container.url or container.location).path)
    return container.path.name


def _item_id(container: Container) -> str:
    measurement = value(container.header, "measurement")
    if isinstance(measurement, str) and measurement.strip():
        return measurement.strip()
    return posixpath.splitext(container_name(container))[0] or "container"


def _properties(container: Container) -> dict[str, Any]:
    header = container.header
    when = utc_time(header)
    if when is None:
        raise DatasetError("a STAC Item needs a time: the header has no valid `acquisition time`", CUBE_HEADER)
    props: dict[str, Any] = {"datetime": None if when.instant is None else _rfc3339(when.instant)}
    if when.instant is None:
        props |= {"start_datetime": _rfc3339(when.start), "end_datetime": _rfc3339(when.end)}
    instruments = [v.strip() for k in ("device", "sensor type") if isinstance(v := value(header, k), str)
                   and v.strip()]
    if instruments:
        props["instruments"] = list(dict.fromkeys(instruments))
    description = value(header, "description")
    if isinstance(description, str) and description.strip():
        props["description"] = description.strip()
    gsd = _gsd(value(header, "pixel size"))
    if gsd is not None:
        props["gsd"] = gsd
    return props


def _rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _gsd(items: Any) -> float | None:
    """Return the one pixel size in metres (`{x, y[, units=Meters]}` with x = y > 0), else None."""
    if not isinstance(items, list | tuple) or len(items) < 2:
        return None
    units = [str(i).partition("=")[2].strip().lower() for i in items[2:] if str(i).strip().startswith("units")]
    if units and units[0] not in ("meters", "metres", "m"):
        return None
    try:
        x, y = float(items[0]), float(items[1])
    except ValueError:
        return None
    return x if x == y and x > 0 else None


def _eo_bands(container: Container, bands: Any) -> list[dict[str, Any]]:
    header = container.header
    count = bands if isinstance(bands, int) else None
    scale = micrometres_per_unit(header)
    waves = band_list(header, "wavelength", count) if scale is not None else None
    widths = band_list(header, "fwhm", count) if scale is not None else None
    names = value(header, "band names")
    names = names if isinstance(names, list | tuple) and len(names) == count else None
    if count is None or (waves is None and names is None):
        return []
    out: list[dict[str, Any]] = []
    for i in range(count):
        band: dict[str, Any] = {"name": str(names[i]) if names else f"band {i + 1}"}
        if waves is not None and scale is not None:
            band["center_wavelength"] = round(waves[i] * scale, 9)
        if widths is not None and scale is not None:
            band["full_width_half_max"] = round(widths[i] * scale, 9)
        out.append(band)
    return out


def _projection(geo: Georeferencing, lines: int, samples: int) -> dict[str, Any]:
    props: dict[str, Any] = {"proj:shape": [lines, samples]}
    code, text = crs_code(geo.crs) if geo.crs is not None else (None, None)
    props["proj:code"] = None if code is None else f"EPSG:{code}"
    if text is not None:
        props["proj:wkt2"] = text
    if geo.transform is not None:
        a, b, c, d, e, f = geo.transform
        props["proj:transform"] = [b, c, a, e, f, d]  # rasterio's order; GDAL's is (a, b, c, d, e, f)
        xs = [a + b * x + c * y for x, y in ((0, 0), (samples, 0), (samples, lines), (0, lines))]
        ys = [d + e * x + f * y for x, y in ((0, 0), (samples, 0), (samples, lines), (0, lines))]
        props["proj:bbox"] = [min(xs), min(ys), max(xs), max(ys)]
    return props


def _assets(container: Container, href: str) -> dict[str, Any]:
    assets: dict[str, Any] = {"container": {"href": href, "roles": ["data"], "title": "the .hsi container"}}
    if container.is_zip:
        assets["container"]["type"] = CONTAINER_TYPE
    for name in container.names:
        if name.endswith("/"):
            continue
        member = f"zip://{name}::{href}" if container.is_zip else f"{href.rstrip('/')}/{name}"  # a folder's file
        asset = {"href": member, "roles": _roles(name), "title": name}
        media = _MEMBER_TYPES.get(posixpath.splitext(name)[1].lower())
        if media is not None:
            asset["type"] = media
        assets[name] = asset
    return assets


def _roles(name: str) -> list[str]:
    if name == CUBE_DATA:
        return ["data"]
    if name == THUMBNAIL:
        return ["thumbnail"]
    if PREVIEW_PATTERN.fullmatch(name):
        return ["overview"]
    if name.startswith(REFERENCE_DIR):
        return ["calibration"]
    if name.startswith(EXPLORATION_DIR):
        return ["labels"]
    if name == CUBE_HEADER or name.startswith(METADATA_DIR) or name.endswith(".hdr"):
        return ["metadata"]
    return ["data"]
