"""``hsi-conform demo``: write the synthetic sample, open it zero-copy, validate it, then break a copy."""

from __future__ import annotations

from pathlib import Path

import hsi_conform
from hsi_conform.container.zipwrite import ContainerWriter
from hsi_conform.errors import ExitCode
from hsi_conform.finding import Report
from hsi_conform.members import CUBE_DATA, CUBE_HEADER
from hsi_conform.report import render
from hsi_conform.testing.scene import write_scene
from hsi_conform.validate import CheckOptions, Content, check

FULL = CheckOptions(content=Content.FULL)


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
    """Run the demo in ``directory``; return ``OK`` when the sample conforms and its broken copy does not."""
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
    broken = break_copy(path, directory / "broken.hsi")
    print(f"\nwrote {broken}: the same container with three header mistakes and a truncated cube")
    broken_report: Report = check(broken, options=FULL)
    print(render("text", [broken_report]))
    return ExitCode.OK if report.conformant and not broken_report.conformant else ExitCode.NONCONFORMANT
