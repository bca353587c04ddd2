"""Writing a container from an array vs ``cp`` of the same bytes."""

from __future__ import annotations

import os
import shutil

import numpy as np

from benchmarks import data
from benchmarks._harness import Run, median_time, ratio_row
from hsi_conform import write_container


def _copy_durably(src: os.PathLike[str], dst: os.PathLike[str]) -> None:
    shutil.copyfile(src, dst)
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run(r: Run) -> None:
    """Add the write rows to the run."""
    img, _ = data.raw_cube(r.size)
    lines, samples, bands = data.dimensions(r.size)
    cube = np.memmap(img, dtype="<u2", mode="r", shape=(lines, bands, samples))
    out = data.DATA / "write-out.hsi"
    copy = data.DATA / "write-out.img"
    ours = median_time(lambda: write_container(out, cube, interleave="bil"), repeat=3)
    cp = median_time(lambda: shutil.copyfile(img, copy), repeat=3)
    durable = median_time(lambda: _copy_durably(img, copy), repeat=3)
    r.add(ratio_row("write", "write container from a memmap", ours, "cp (copy_file_range)", cp, max_ratio=1.5))
    r.add(ratio_row("write", "write container from a memmap", ours, "cp + fsync (what atomic publish needs)",
                    durable, max_ratio=1.1, note="the container is fsynced before it is published"))
    out.unlink(missing_ok=True)
    copy.unlink(missing_ok=True)
