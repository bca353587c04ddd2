"""Writing a container from an array vs ``cp`` of the same bytes."""

from __future__ import annotations

import shutil

import numpy as np

from benchmarks import data
from benchmarks._harness import Run, copy_durably, median_times, ratio_row, warm
from hsi_conform import write_container


def run(r: Run) -> None:
    """Add the write rows to the run."""
    img, _ = data.raw_cube(r.size)
    lines, samples, bands = data.dimensions(r.size)
    cube = np.memmap(img, dtype="<u2", mode="r", shape=(lines, bands, samples))
    out = data.DATA / "write-out.hsi"
    copy = data.DATA / "write-out.img"
    measured = median_times({  # in turn, so that a noisy minute weighs on the row and its anchors alike
        "ours": lambda: write_container(out, cube, interleave="bil"),
        "cp": lambda: shutil.copyfile(img, copy),
        "cp + fsync": lambda: copy_durably(img, copy),
    }, repeat=5, before=lambda: warm(img))  # each side reads the source from the page cache
    ours, cp, durable = measured["ours"], measured["cp"], measured["cp + fsync"]
    r.add(ratio_row("write", "write container from a memmap", ours, "cp (copy_file_range)", cp, max_ratio=1.5))
    r.add(ratio_row("write", "write container from a memmap", ours, "cp + fsync (what atomic publish needs)",
                    durable, max_ratio=1.1, note="the container is fsynced before it is published"))
    out.unlink(missing_ok=True)
    copy.unlink(missing_ok=True)
