"""``metadata --from`` writes a new container with the document in Metadata/; the IEEE 4001 and CF documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hsi_conform.container.opening import open_container
from hsi_conform.errors import DatasetError, OutputIsInputError
from hsi_conform.members import IMPORTED_METADATA
from hsi_conform.metadata import document_kind, export_metadata, import_metadata
from hsi_conform.testing.samples import sample_members, write_members
from tests._support import member_digests


@pytest.fixture
def scene(tmp_path: Path) -> Path:
    members = sample_members()
    members["data.hdr"] += b"reflectance scale factor = 10000\ndata ignore value = 0\n"
    return write_members(tmp_path / "scene.hsi", members)


@pytest.mark.parametrize("kind", ["stac", "ieee4001", "cf"])
def test_an_exported_document_imports_as_its_kind(scene: Path, tmp_path: Path, kind: str) -> None:
    doc = tmp_path / f"{kind}.json"
    export_metadata(scene, kind, doc)
    assert document_kind(json.loads(doc.read_bytes())) == kind
    before = member_digests(scene)
    dest, member = import_metadata(scene, doc, tmp_path / "dst.hsi")
    assert member == IMPORTED_METADATA[kind]
    assert member_digests(scene) == before  # the source is never touched
    after = member_digests(dest)
    assert {n: d for n, d in after.items() if n != member} == before
    with open_container(dest) as c:
        assert c.read_bytes(member) == doc.read_bytes()


@pytest.mark.parametrize("content", [b"\xa4 not json", b"[1, 2]", b'{"type": "Feature"}'])
def test_a_document_of_no_known_kind_is_refused_and_nothing_written(scene: Path, tmp_path: Path,
                                                                    content: bytes) -> None:
    doc = tmp_path / "doc.json"
    doc.write_bytes(content)
    with pytest.raises(DatasetError, match=r"JSON|neither"):
        import_metadata(scene, doc, tmp_path / "dst.hsi")
    assert not (tmp_path / "dst.hsi").exists()


def test_the_import_never_writes_in_place(scene: Path, tmp_path: Path) -> None:
    doc = tmp_path / "cf.json"
    export_metadata(scene, "cf", doc)
    with pytest.raises(OutputIsInputError):
        import_metadata(scene, doc, scene)
    with pytest.raises(OutputIsInputError):
        export_metadata(scene, "cf", scene)


def test_the_ieee4001_document_lists_what_the_container_states(scene: Path) -> None:
    doc = json.loads(export_metadata(scene, "ieee4001"))
    assert doc["format"] == "hsi-conform/ieee4001-metadata"
    found = {e["characteristic"]: e for e in doc["metadata"]}
    assert found["band centre wavelength"]["unit"] == "nm"
    assert found["camera model"]["value"] == "sample-camera.txt"
    assert found["camera model"]["provisional"] is True
    assert found["radiometric calibration state"]["from"] in ("data.hdr: reflectance scale factor",
                                                              "Reference/white.hdr, Reference/black.hdr")
    assert "camera serial number" not in found  # nothing states it


def test_the_cf_attributes_of_a_scaled_cube(scene: Path) -> None:
    cf = json.loads(export_metadata(scene, "cf"))
    assert cf["global"]["Conventions"].startswith("CF-")
    assert cf["global"]["time_coverage_start"] == "2025-06-30T12:00:00Z"
    assert cf["variables"]["wavelength"] == {"long_name": "centre wavelength",
                                             "standard_name": "radiation_wavelength", "units": "nm"}
    assert cf["variables"]["cube"] == {"_FillValue": 0, "reflectance_scale_factor": 10000.0,
                                       "default_bands": [10, 5, 1], "acquisition_time": "2025-06-30T12:00:00Z"}


def test_the_cf_attributes_are_those_of_the_hdf5_export(scene: Path, tmp_path: Path) -> None:
    import h5py

    from hsi_conform.converters.registry import convert

    cf = json.loads(export_metadata(scene, "cf"))
    convert(scene, tmp_path / "scene.h5")
    with h5py.File(tmp_path / "scene.h5", "r") as h5:
        assert h5.attrs["Conventions"] == cf["global"]["Conventions"]
        group = h5["envi/data"]
        for name, attrs in cf["variables"].items():
            stored = group[name].attrs
            for key, expected in attrs.items():
                got = stored[key]
                got = got.tolist() if hasattr(got, "tolist") else got
                assert (got.decode() if isinstance(got, bytes) else got) == expected, (name, key)


def test_vendor_keys_give_the_characteristics_without_a_field(tmp_path: Path) -> None:
    members = sample_members()
    members["data.hdr"] += b"tint = 12.5\nsensorid = 200123\nbinning = 2\n"
    doc = json.loads(export_metadata(write_members(tmp_path / "specim.hsi", members), "ieee4001"))
    found = {e["characteristic"]: e for e in doc["metadata"]}
    assert found["integration time"] == {"characteristic": "integration time", "provisional": True,
                                         "value": "12.5", "from": "data.hdr: tint"}  # vendor keys stay text
    assert found["camera serial number"]["value"] == "200123"
    assert found["binning"]["value"] == "2"
