from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.finding import Severity
from hsi_conform.testing import scene
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


MEMORY_SCRIPT = r"""
import sys, threading, time
from hsi_conform.cli.main import main
import hsi_conform.testing.scene  # imported before the baseline

def anon():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0

out, lines, samples, bands, interleave = sys.argv[1:6]
base = anon(); peak = [base]; done = []
def watch():
    while not done:
        peak[0] = max(peak[0], anon()); time.sleep(0.002)
thread = threading.Thread(target=watch); thread.start()
code = main(["sample", out, "--lines", lines, "--samples", samples, "--bands", bands, "--interleave", interleave])
done.append(1); thread.join()
print(code, peak[0] - base)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
@pytest.mark.parametrize(("lines", "samples", "bands", "interleave"), [(512, 256, 128, "bsq"), (8, 4096, 512, "bil")])
def test_sample_needs_at_most_twice_the_cube(tmp_path: Path, lines: int, samples: int, bands: int,
                                              interleave: str) -> None:
    # The scene used to be computed in float64 for the whole cube at once: 16-20 times the cube (issue 11 item 8).
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path / "s.hsi"), str(lines), str(samples),
                          str(bands), interleave], capture_output=True, text=True, check=True)
    code, peak = map(int, out.stdout.split()[-2:])
    cube = lines * samples * bands * 2  # 32 MiB of uint16
    assert code == 0
    assert peak <= 2 * cube, f"{peak / cube:.1f} x the cube"
    with hsi_conform.open(tmp_path / "s.hsi") as c:
        assert c.cube.shape == Interleave(interleave).shape(lines, samples, bands)


def test_the_scene_does_not_depend_on_how_it_is_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = SceneSpec(lines=9, samples=7, bands=5, interleave=Interleave.BSQ)
    whole = scene.scene_arrays(spec)
    for block in (40, 400, 4000):  # parts of a line, some lines, all at once
        monkeypatch.setattr(scene, "_BLOCK_BYTES", block)
        blocked = scene.scene_arrays(spec)
        assert all(np.array_equal(whole[k], blocked[k]) for k in whole)
