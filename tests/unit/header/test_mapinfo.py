from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hsi_conform.errors import FieldValueError
from hsi_conform.header import build_header_text, parse_header
from hsi_conform.header.mapinfo import MapInfo, parse_map_info

UTM = ("UTM", "2.5", "3.5", "500000", "5000000", "2", "3", "32", "North", "WGS-84", "units=Meters")


def test_items_are_read_by_position_and_by_key() -> None:
    info = parse_map_info(UTM)
    assert info == MapInfo(projection="UTM", reference_pixel=(2.5, 3.5), tie_point=(500000.0, 5000000.0),
                           pixel_size=(2.0, 3.0), units="Meters", rotation=0.0, extra=("32", "North", "WGS-84"))


def test_the_transform_puts_the_reference_pixel_at_its_map_position() -> None:
    info = parse_map_info(UTM)
    gt = info.geotransform
    assert gt == (500000 - 1.5 * 2, 2.0, 0.0, 5000000 + 2.5 * 3, 0.0, -3.0)
    # file coordinates are 1-based corners: (2.5, 3.5) is the centre of column 1, row 2 (0-based)
    xs, ys = info.x_centres(4), info.y_centres(5)
    assert xs is not None and ys is not None
    assert xs[1] == 500000 and ys[2] == 5000000
    assert np.allclose(np.diff(xs), 2) and np.allclose(np.diff(ys), -3)


def test_a_rotated_grid_has_no_transform() -> None:
    info = parse_map_info((*UTM[:7], "rotation=30.0"))
    assert info.rotation == 30.0
    assert info.geotransform is None and info.x_centres(3) is None and info.y_centres(3) is None
    assert parse_map_info((*UTM[:7], "rotation=360")).geotransform is not None


@pytest.mark.parametrize(("items", "item"), [
    (UTM[:6], None),                                   # too few items
    (("UTM", "1", "1", "x", "0", "1", "1"), 3),        # not a number
    (("UTM", "1", "1", "0", "0", "0", "1"), 5),        # zero pixel size
    (("UTM", "1", "1", "0", "0", "1", "1", "rotation=north"), 7),
    (("UTM", "1", "1", "1e999", "0", "1", "1"), 3),    # overflows a double
])
def test_malformed_items_are_refused_with_their_position(items: tuple[str, ...], item: int | None) -> None:
    with pytest.raises(FieldValueError) as caught:
        parse_map_info(items)
    assert caught.value.field == "map info" and caught.value.item == item


def test_the_transform_is_gdals(tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    items = list(UTM)
    header = build_header_text({"samples": 4, "lines": 5, "bands": 1, "header offset": 0,
                                "file type": "ENVI Standard", "data type": 1, "interleave": "bsq",
                                "byte order": 0, "map info": items})
    (tmp_path / "geo.hdr").write_text(header)
    (tmp_path / "geo.img").write_bytes(bytes(20))
    info = parse_map_info(parse_header(header.encode()).value("map info"))
    with rasterio.open(tmp_path / "geo.img") as src:
        assert src.transform.to_gdal() == pytest.approx(info.geotransform)
        xs, ys = info.x_centres(4), info.y_centres(5)
        assert xs is not None and ys is not None
        assert src.xy(2, 3) == pytest.approx((xs[3], ys[2]))  # rasterio gives pixel centres by default
