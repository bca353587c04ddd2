"""A SPECIM Lumo recording, imported by the SPECIM converter: its vendor keys become IEEE 4001 characteristics."""

from __future__ import annotations

import json
from pathlib import Path

from hsi_conform.converters.registry import convert
from hsi_conform.metadata import export_metadata
from hsi_conform.testing.specim_samples import write_lumo_folder
from hsi_conform.validate import check
from tests.unit.metadata._stac_schemas import errors


def test_a_lumo_recording_states_its_camera_metadata(tmp_path: Path) -> None:
    hsi = convert(write_lumo_folder(tmp_path), tmp_path / "lumo.hsi")
    sources = {e["characteristic"]: e["from"] for e in json.loads(export_metadata(hsi, "ieee4001"))["metadata"]}
    assert sources["camera identification"] == "data.hdr: device"  # the vendor's `sensor type`, moved by the importer
    assert sources["camera serial number"] == "data.hdr: sensorid"
    assert sources["integration time"] == "data.hdr: tint"
    assert sources["frame rate"] == "data.hdr: fps"
    assert sources["radiometric calibration state"] == "Reference/white.hdr, Reference/black.hdr"
    item = json.loads(export_metadata(hsi, "stac"))
    assert errors(item) == []
    assert item["properties"]["datetime"] == "2019-01-29T14:46:16Z"  # the vendor's date and UTC start time
    assert not {f.rule for f in check(hsi).findings} & {"FLD050", "FLD051", "FLD052"}
