"""Writing a container from an array vs ``cp`` of the same bytes."""

from __future__ import annotations

import shutil

import numpy as np

from benchmarks import data
from benchmarks._harness import Run, median_time, ratio_row
from hsi_conform import write_container


def run(r: Run) -> None:
    """Add the write rows to the run."""
    img, _ = data.raw_cube(r.size)
    lines, samples, bands = data.dimensions(r.size)
    cube = np.memmap(img, dtype="<u2", mode="r", shape=(lines, bands, samples))
    out = data.DATA / "write-out.hsi"
    copy = data.DATA / "write-out.img"
    ours = median_time(lambda: write_container(out, cube, interleave="bil"), repeat=3)
    cp = median_time(lambda: shutil.copyfile(img, copy), repeat=3)
    r.add(ratio_row("write", "write container from a memmap", ours, "cp (copy_file_range)", cp, max_ratio=1.2))
    out.unlink(missing_ok=True)
    copy.unlink(missing_ok=True)
