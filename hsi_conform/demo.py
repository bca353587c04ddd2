"""``hsi-conform demo``: write the synthetic sample scene, open it zero-copy and validate it."""

from __future__ import annotations

from pathlib import Path

import hsi_conform
from hsi_conform.engine import exit_code
from hsi_conform.report import render
from hsi_conform.testing.scene import write_scene
from hsi_conform.validate import CheckOptions, Content, check


def run_demo(directory: Path) -> int:
    """Run the demo in ``directory`` and return the validation exit code (0 when the sample conforms)."""
    path = write_scene(directory / "sample.hsi")
    print(f"wrote {path} ({path.stat().st_size} bytes)")
    with hsi_conform.open(path) as container:
        layout = container.layout
        cube = container.cube
        waves = container.header.value("wavelength")
        print(f"members: {', '.join(container.names)}")
        print(f"cube: {layout.lines} lines x {layout.samples} samples x {layout.bands} bands, "
              f"{layout.interleave.value}, {cube.dtype}, memmap at byte {container.info('data.envi').offset}")
        print(f"wavelengths: {waves[0]:g} .. {waves[-1]:g} nm; spectrum of pixel (0, 0): "
              f"{[int(v) for v in cube[0, :, 0]]}")
    report = check(path, options=CheckOptions(content=Content.FULL))
    print(render("text", [report]))
    return exit_code([report])
