"""``hsi-conform info`` and ``hsi_conform.info`` (issue 20, item 6; spec/cli-tools.md#info)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import hsi_conform
from hsi_conform.testing.samples import sample_members, write_members
from hsi_conform.testing.scene import write_scene
from tests._http import RangeServer
from tests._paths import SPEC
from tests._process import run_cli

SCHEMA = json.loads((SPEC / "info.schema.json").read_text(encoding="utf-8"))
UTM = b"map info = {UTM, 1, 1, 500000, 4000000, 2, 2, 32, North, WGS-84, units=Meters}\n"


def _json(*args: str | Path) -> dict[str, Any]:
    run = run_cli("info", "--format", "json", *args)
    assert run.returncode == 0, run.stderr
    described: dict[str, Any] = json.loads(run.stdout)
    jsonschema.validate(described, SCHEMA)  # every output is what the schema in spec/ says
    return described


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scene(tmp_path_factory.mktemp("info") / "scene.hsi")


def test_text_shows_layout_wavelengths_members_and_the_rest(scene: Path) -> None:
    run = run_cli("info", scene)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for line in ("Format: hsi", "Size: 64 lines x 48 samples x 32 bands",
                 "Data type: 12 (uint16), little endian, interleave bil",
                 "Cube member: data.envi at byte 4096 (aligned to 4096 bytes; stored, memory-mappable)",
                 "Wavelengths: 32, 400 .. 1000 nm", "Georeferencing: none", "Previews: preview 32x24x32",
                 "References: black, white", "Read procedures: rotate:swap-left-right", "Thumbnail: 48 x 64 px"):
        assert line in out, line
    assert "196608  cube data         data.envi" in out


def test_json_validates_against_the_schema_and_matches_the_container(scene: Path) -> None:
    described = _json(scene)
    with hsi_conform.open(scene) as c:
        assert described["members"] == [{"name": m.name, "size": m.size, "kind": kind}
                                        for m, kind in zip(c.members, [m["kind"] for m in described["members"]],
                                                           strict=True)]
        assert described["cube"]["offset"] == c.info("data.envi").offset
    assert described["layout"]["dtype"] == "uint16" and described["layout"]["bytes"] == 64 * 48 * 32 * 2
    assert hsi_conform.info(scene) == described  # the Python API gives the same


def test_georeferencing_is_what_gdal_reads(tmp_path: Path) -> None:
    members = sample_members()
    members["data.hdr"] += UTM
    path = write_members(tmp_path / "geo.hsi", members)
    geo = _json(path)["georeferencing"]
    assert geo["crs"]["epsg"] == 32632 and not geo["crs"]["geographic"]
    assert geo["transform"] == [500000.0, 2.0, 0.0, 4000000.0, 0.0, -2.0]
    assert "EPSG:32632" in run_cli("info", path).stdout


@pytest.mark.parametrize(("dest", "fmt"), [("export/scene.img", "envi"), ("scene.h5", "hdf5"), ("scene.tif", "tiff")])
def test_every_format_a_converter_reads(scene: Path, tmp_path: Path, dest: str, fmt: str) -> None:
    pytest.importorskip({"envi": "numpy", "hdf5": "h5py", "tiff": "tifffile"}[fmt])
    from hsi_conform.converters import convert

    convert(scene, tmp_path / dest)
    target = tmp_path / dest
    if fmt == "envi":
        target = target.with_suffix(".hdr")
    described = _json(target)
    original = hsi_conform.info(scene)
    assert described["format"] == fmt and described["cube"] is None  # not a container: no member offset
    for key in ("layout", "wavelengths", "references", "procedures", "thumbnail", "previews"):
        assert described[key] == original[key], key


def test_a_url_is_described_from_its_directory_and_headers(scene: Path, http_server: RangeServer) -> None:
    url = http_server.serve(scene, "/info/scene.hsi")
    described = _json(url)
    assert described["source"] == url and described["layout"]["bands"] == 32
    assert http_server.stats(url).bytes < 64 * 48 * 32 * 2  # never the cube


def test_unreadable_sources_are_clear_errors(tmp_path: Path) -> None:
    missing = run_cli("info", tmp_path / "nothing.hsi")
    assert missing.returncode == 3 and "nothing.hsi" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "notes.txt").write_text("not a dataset")
    unknown = run_cli("info", tmp_path / "notes.txt")
    assert unknown.returncode == 3 and "Traceback" not in unknown.stderr, unknown.stderr
    junk = tmp_path / "junk.hsi"
    junk.write_bytes(b"\0" * 100)
    broken = run_cli("info", junk)
    assert broken.returncode not in (0, 70) and "Traceback" not in broken.stderr, broken.stderr


def test_a_header_without_a_readable_layout_still_describes_the_rest(tmp_path: Path) -> None:
    members = sample_members()
    members["data.hdr"] = members["data.hdr"].replace(b"samples = 12", b"samples = twelve")
    described = _json(write_members(tmp_path / "bad.hsi", members))
    assert described["layout"] is None and described["members"]
    assert "Layout: unreadable" in run_cli("info", tmp_path / "bad.hsi").stdout


def test_from_names_the_converter(scene: Path) -> None:
    assert _json("--from", "hsi", scene)["format"] == "hsi"
    run = run_cli("info", "--from", "hdf6", scene)
    assert run.returncode == 2 and "unknown format 'hdf6'" in run.stderr and "hdf5" in run.stderr


def test_an_expanded_folder_and_a_truncated_cube(tmp_path: Path) -> None:
    from tests._support import write_tree

    members = sample_members()
    write_tree(tmp_path / "folder", members)
    described = _json(tmp_path / "folder")
    assert described["format"] == "hsi" and described["cube"]["offset"] == 0  # data.envi is a file of its own
    members["data.envi"] = members["data.envi"][:-10]
    run = run_cli("info", write_members(tmp_path / "short.hsi", members))
    assert run.returncode == 0 and "Cube member is 10 bytes shorter than the header describes" in run.stdout
