"""``metadata --to stac``: Items valid under the STAC schemas, bands in micrometres, GDAL's georeferencing."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import fsspec
import pytest
import rasterio
from pyproj import Transformer

from hsi_conform.container.opening import open_container
from hsi_conform.crosswalk import crosswalk
from hsi_conform.errors import DatasetError, MissingDependencyError
from hsi_conform.metadata import export_metadata, metadata_document
from hsi_conform.testing.samples import sample_members, write_members
from tests.unit.metadata._stac_schemas import errors

UTM = b"map info = {UTM, 1, 1, 500000, 4100000, 2, 2, 33, North, WGS-84, units=Meters}\n"
GEOGRAPHIC = b"map info = {Geographic Lat/Lon, 1, 1, 13.0, 52.0, 0.001, 0.001, WGS-84}\n"


def container(tmp_path: Path, *, extra: bytes = b"", replace: tuple[bytes, bytes] | None = None) -> Path:
    members = sample_members()
    header = members["data.hdr"] + extra
    if replace is not None:
        header = header.replace(*replace)
    members["data.hdr"] = header
    return write_members(tmp_path / "scene.hsi", members)


def item_of(path: Path) -> dict:
    with open_container(path) as c:
        return metadata_document(c, "stac")


def test_the_sample_item_is_valid_stac_with_bands_in_micrometres(tmp_path: Path) -> None:
    item = item_of(container(tmp_path))
    assert errors(item) == []
    bands = item["properties"]["eo:bands"]
    assert len(bands) == 10
    assert bands[0] == {"name": "band 1", "center_wavelength": 0.4, "full_width_half_max": 0.005}
    assert item["properties"]["datetime"] == "2025-06-30T12:00:00Z"
    assert item["geometry"] is None and "bbox" not in item
    assert item["id"] == "sample-0001"


def test_the_schemas_catch_what_an_item_may_not_hold(tmp_path: Path) -> None:
    item = item_of(container(tmp_path, extra=UTM))
    for mutate in (lambda i: i["properties"].__setitem__("proj:epsg", 32633),  # gone in projection v2
                   lambda i: i["properties"]["eo:bands"][0].__setitem__("center_wavelength", "0.4"),
                   lambda i: i.pop("bbox"),
                   lambda i: i["properties"].__setitem__("datetime", "2025-06-30T12:00:00+02:00"),
                   lambda i: i["properties"].__setitem__("proj:shape", [16])):
        broken = copy.deepcopy(item)
        mutate(broken)
        assert errors(broken), broken


def test_member_assets_open_with_fsspec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = container(tmp_path)
    out = tmp_path / "stac" / "item.json"
    out.parent.mkdir()
    item = json.loads(export_metadata(path, "stac", out))
    assert json.loads(out.read_text(encoding="utf-8")) == item
    assert item["assets"]["container"]["href"] == "../scene.hsi"
    monkeypatch.chdir(out.parent)  # relative hrefs are relative to the Item's folder
    with open_container(path) as c:
        assert set(item["assets"]) == {"container", *c.names}
        for name in c.names:
            with fsspec.open(item["assets"][name]["href"]) as f:
                assert f.read() == c.read_bytes(name)
    assert item["assets"]["data.envi"]["roles"] == ["data"]
    assert item["assets"]["Reference/white.envi"]["roles"] == ["calibration"]


def test_projection_and_footprint_are_what_gdal_reads(tmp_path: Path) -> None:
    path = container(tmp_path, extra=UTM)
    item = item_of(path)
    assert errors(item) == []
    props = item["properties"]
    with rasterio.open(f"/vsizip/{{{path}}}/data.envi") as ds:
        assert props["proj:code"] == f"EPSG:{ds.crs.to_epsg()}" == "EPSG:32633"
        assert props["proj:transform"] == list(ds.transform)[:6]
        assert props["proj:shape"] == [ds.height, ds.width]
        assert props["proj:bbox"] == list(ds.bounds)
        to_wgs84 = Transformer.from_crs(ds.crs.to_wkt(), "EPSG:4326", always_xy=True)
        corners = [to_wgs84.transform(*(ds.transform @ xy)) for xy in ((0, 0), (ds.width, 0),
                                                                        (ds.width, ds.height), (0, ds.height))]
    ring = item["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1]
    counter_clockwise = [corners[0], *corners[:0:-1]]  # RFC 7946: exterior rings counter-clockwise
    assert [v for c in ring[:4] for v in c] == pytest.approx([v for c in counter_clockwise for v in c])
    assert item["bbox"] == pytest.approx([min(c[0] for c in corners), min(c[1] for c in corners),
                                          max(c[0] for c in corners), max(c[1] for c in corners)])


def test_a_wgs84_image_needs_no_transformation(tmp_path: Path) -> None:
    item = item_of(container(tmp_path, extra=GEOGRAPHIC))
    assert errors(item) == []
    assert item["properties"]["proj:code"] == "EPSG:4326"
    assert item["bbox"] == pytest.approx([13.0, 52.0 - 16 * 0.001, 13.0 + 12 * 0.001, 52.0])


@pytest.mark.parametrize(("written", "expected"), [
    (b"2025-06-30T14:00:00+02:00", {"datetime": "2025-06-30T12:00:00Z"}),
    (b"2025-06-30T12:00:00", {"datetime": None, "start_datetime": "2025-06-29T22:00:00Z",
                              "end_datetime": "2025-07-01T00:00:00Z"}),
    (b"2025-06-30", {"datetime": None, "start_datetime": "2025-06-29T10:00:00Z",
                     "end_datetime": "2025-07-01T12:00:00Z"}),
])
def test_times_become_utc_or_the_interval_they_can_mean(tmp_path: Path, written: bytes, expected: dict) -> None:
    item = item_of(container(tmp_path, replace=(b"2025-06-30T12:00:00Z", written)))
    assert errors(item) == []
    assert {k: item["properties"].get(k) for k in expected} == expected


def test_no_acquisition_time_is_no_item(tmp_path: Path) -> None:
    path = container(tmp_path, replace=(b"acquisition time = 2025-06-30T12:00:00Z\n", b""))
    with pytest.raises(DatasetError, match="acquisition time"):
        item_of(path)


def test_every_exported_property_is_a_stac_name_of_the_crosswalk(tmp_path: Path) -> None:
    names = " ".join(r.stac for r in crosswalk().rows)
    item = item_of(container(tmp_path, extra=UTM + b"pixel size = {2, 2, units=Meters}\n"))
    exported = set(item["properties"]) - {"start_datetime", "end_datetime"}
    assert item["properties"]["gsd"] == 2.0
    assert {p for p in exported if p not in names} == set()


def test_without_pyproj_a_projected_footprint_names_the_extra(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    path = container(tmp_path, extra=UTM)
    monkeypatch.setitem(sys.modules, "pyproj", None)  # what an installation without the extra raises: ImportError
    with pytest.raises(MissingDependencyError, match=r"hsi-conform\[stac\]"):
        item_of(path)
    (tmp_path / "wgs84").mkdir()
    item = item_of(container(tmp_path / "wgs84", extra=GEOGRAPHIC))  # EPSG:4326 needs no pyproj
    assert errors(item) == []


def test_pystac_reads_the_bands_the_projection_and_the_assets(tmp_path: Path) -> None:
    import pystac
    from pystac.extensions.eo import EOExtension
    from pystac.extensions.projection import ProjectionExtension

    item = pystac.Item.from_dict(item_of(container(tmp_path, extra=UTM)))
    bands = EOExtension.ext(item).bands
    assert bands is not None and [b.center_wavelength for b in bands][:2] == [0.4, 0.466667]
    projection = ProjectionExtension.ext(item)
    assert (projection.epsg, projection.shape) == (32633, [16, 12])
    assert projection.transform == [2.0, 0.0, 500000.0, 0.0, -2.0, 4100000.0]
    assert sorted(item.get_assets(role="calibration")) == ["Reference/black.envi", "Reference/black.hdr",
                                                           "Reference/white.envi", "Reference/white.hdr"]
    assert item.datetime is not None and item.datetime.isoformat() == "2025-06-30T12:00:00+00:00"


def test_an_expanded_folder_has_its_files_as_assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "scene"
    for name, data in sample_members().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    item = item_of(folder)
    assert errors(item) == []
    assert item["assets"]["container"]["href"] == "scene" and "type" not in item["assets"]["container"]
    monkeypatch.chdir(tmp_path)
    for name, data in sample_members().items():
        assert Path(item["assets"][name]["href"]).read_bytes() == data
