"""``hsi-conform demo``: write the sample, open and validate it, read it as D4.1 means it, then break a copy.

Reading it as meant: calibrated to reflectance, its ``read procedures`` re-enacted, a thumbnail of the result.
Everything it shows stays in its folder (``./demo-output`` by default; spec/cli-tools.md#demo), and its last lines
name each file, so what the demo printed can be opened after it exits.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

import hsi_conform
from hsi_conform._atomic import publish_bytes
from hsi_conform.container.zipwrite import ContainerWriter
from hsi_conform.errors import ExitCode
from hsi_conform.finding import Report
from hsi_conform.members import CUBE_DATA, CUBE_HEADER, EXPLORATION_DIR, THUMBNAIL, envi_names
from hsi_conform.pipeline.calibrate import calibrate
from hsi_conform.pipeline.procedures import procedure_items, write_procedures
from hsi_conform.report import render
from hsi_conform.testing.scene import write_scene
from hsi_conform.validate import CheckOptions, Content, check

FULL = CheckOptions(content=Content.FULL)
#: What the demo leaves in its folder, in the order it writes them.
DEMO_FILES = ("sample.hsi", "reflectance.hsi", "view.hsi", "view-thumbnail.jpg", "broken.hsi")


def break_copy(source: Path, dest: Path) -> Path:
    """Write a copy of a container whose header has three typical mistakes and whose cube lost a line."""
    with hsi_conform.open(source) as c:
        members = {name: c.read_bytes(name) for name in c.names if not name.endswith("/")}
        line_bytes = c.layout.samples * c.layout.bands * c.layout.data_type.itemsize
    header = members[CUBE_HEADER].decode()
    header = header.replace("samples = ", "Samples = ", 1)  # keys are written in lower case
    header = header.replace("fwhm = {", "fwhm = {1.0, ", 1)  # one fwhm too many
    header = header.replace("default bands = {", "default bands = {0, ", 1)  # 1-based, and one or three
    members[CUBE_HEADER] = header.encode()
    members[CUBE_DATA] = members[CUBE_DATA][:-line_bytes]  # a truncated transfer
    with ContainerWriter(dest) as zw:
        for name, data in members.items():
            zw.add_bytes(name, data)
    return dest


def run_demo(directory: Path) -> ExitCode:
    """Run the demo in ``directory`` (created when missing, kept); ``OK`` when the sample conforms, its copy not."""
    directory.mkdir(parents=True, exist_ok=True)
    path = write_scene(directory / "sample.hsi")
    print(f"wrote {path} ({path.stat().st_size} bytes)")
    with hsi_conform.open(path) as container:
        layout = container.layout
        cube = container.cube
        waves = container.header.value("wavelength")
        print(f"members: {', '.join(container.names)}")
        print(f"cube: {layout.lines} lines x {layout.samples} samples x {layout.bands} bands, "
              f"{layout.interleave.value}, {cube.dtype}, memmap at byte {container.info(CUBE_DATA).offset}")
        print(f"wavelengths: {waves[0]:g} .. {waves[-1]:g} nm; spectrum of pixel (0, 0): "
              f"{[int(v) for v in container.bip()[0, 0]]}")
    report = check(path, options=FULL)
    print(render("text", [report]))
    viewed = read_as_meant(path, directory)
    broken = break_copy(path, directory / "broken.hsi")
    print(f"\nwrote {broken}: the same container with three header mistakes and a truncated cube")
    broken_report: Report = check(broken, options=FULL)
    print(render("text", [broken_report]))
    good = report.conformant and viewed and not broken_report.conformant
    print(f"\nkept in {directory}/ (nothing is deleted; remove the folder when done):")
    for name in DEMO_FILES:
        print(f"  {directory / name}")
    return ExitCode.OK if good else ExitCode.NONCONFORMANT


def read_as_meant(path: Path, directory: Path) -> bool:
    """Calibrate the sample, re-enact its ``read procedures``, save the thumbnail; return whether both conform.

    Prints the white panel's mean reflectance (the scene's panel reflects 0.85 across the visible range), so the
    calibration can be judged at a glance.
    """
    done = calibrate(path, directory / "reflectance.hsi", findings=[])
    with hsi_conform.open(done.path) as c:
        items = "; ".join(procedure_items(c)) or "none"
        view = write_procedures(c, directory / "view.hsi")
        panel = _panel_mean(c)
    print(f"\ncalibrated {path.name} -> {done.path.name} (float32 reflectance with Reference/white and black); "
          f"panel reflectance at 550 nm: {panel:.3f}")
    print(f"re-enacted read procedures ({items}) -> {view.name}")
    with hsi_conform.open(view) as v:
        jpeg = v.read_bytes(THUMBNAIL)
    thumbnail = directory / "view-thumbnail.jpg"
    publish_bytes(thumbnail, jpeg)
    from PIL import Image

    width, height = Image.open(io.BytesIO(jpeg)).size
    print(f"thumbnail of the calibrated view: {thumbnail} ({width} x {height} px, bands nearest 640/550/460 nm)")
    results = [check(p, options=FULL) for p in (done.path, view)]
    for result in results:
        print(render("text", [result]))
    return all(r.conformant for r in results)


def _panel_mean(c: hsi_conform.Container) -> float:
    """Return the mean reflectance of the scene's white panel at the band nearest 550 nm."""
    mask = c.open_array(envi_names(EXPLORATION_DIR + "panel")[1])[:, 0, :].astype(bool)  # BIL, one band
    waves = np.asarray(c.header.value("wavelength"))
    band = int(np.argmin(np.abs(waves - 550)))
    return float(np.nanmean(c.bsq()[band][mask]))
