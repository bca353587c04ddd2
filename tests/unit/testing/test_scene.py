from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.finding import Severity
from hsi_conform.testing.scene import CLASSES, SceneSpec, label_image, reflectance, write_scene
from hsi_conform.validate import CheckOptions, Content


@pytest.mark.parametrize("data_type", list(DataType))
def test_every_data_type_writes_a_conformant_scene(tmp_path: Path, data_type: DataType) -> None:
    spec = SceneSpec(lines=12, samples=10, bands=6, data_type=data_type, interleave=Interleave.BSQ,
                     byte_order=ByteOrder.BIG)
    report = hsi_conform.check(write_scene(tmp_path / "s.hsi", spec), options=CheckOptions(content=Content.FULL))
    assert [f.rule for f in report.findings if f.severity >= Severity.WARNING] == []


def test_full_scene_has_every_optional_member_and_calibrates(tmp_path: Path) -> None:
    path = write_scene(tmp_path / "s.hsi")
    with hsi_conform.open(path) as c:
        for name in ("thumbnail.jpg", "preview.envi", "Reference/white.envi", "Reference/black.envi",
                     "Exploration/classification.envi", "Exploration/bounding boxes.csv", "Metadata/sample-camera.txt",
                     *(f"Exploration/{n}.envi" for n in CLASSES)):
            assert name in c, name
        white, black = c.reference("white").astype(float), c.reference("black").astype(float)
        refl = (c.bil().astype(float) - black) / (white - black)  # (lines, bands, samples)
        labels = label_image(64, 48)
        waves = np.asarray(c.header.value("wavelength"))
        leaf = refl[labels == 1].mean(axis=0) if refl.ndim == 2 else refl.transpose(0, 2, 1)[labels == 1].mean(axis=0)
        assert np.allclose(leaf, reflectance(waves)["leaf"], atol=0.03)  # the red edge survives calibration
    report = hsi_conform.check(path, options=CheckOptions(content=Content.FULL))
    assert report.findings == ()


def test_minimal_scene_has_only_the_mandatory_members(tmp_path: Path) -> None:
    with hsi_conform.open(write_scene(tmp_path / "m.hsi", SceneSpec(minimal=True))) as c:
        assert c.names == ("data.hdr", "data.envi")
