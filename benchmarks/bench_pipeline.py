"""The read pipeline: calibration and previews vs a numpy expression over the same memmap, and their memory.

The anchors are what a user would write with numpy on the mapped cube, written to a file and fsynced (the pipeline
publishes a fsynced container): ``((raw - B) / (W - B)).astype(float32)`` for calibration, and a reshape-mean per
level for previews. The memory rows run each stage in a child process on the cube and on a cube four times
smaller: memory must not grow with the cube.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import data
from benchmarks._harness import Row, Run, median_times, peak_anon_memory, ratio_row, warm
from hsi_conform import open as open_container
from hsi_conform.pipeline.calibrate import calibrate
from hsi_conform.pipeline.previews import write_previews

MIB = 1 << 20
LODS = (2, 4, 8)


def _tofile_durably(array: np.ndarray[Any, Any], path: Path) -> None:
    with open(path, "wb") as f:
        array.tofile(f)
        f.flush()
        os.fsync(f.fileno())


def _numpy_calibration(src: Path, out: Path) -> None:
    with open_container(src) as c:
        raw = c.cube  # BIL: lines, bands, samples
        white, black = np.asarray(c.reference("white")), np.asarray(c.reference("black"))
        _tofile_durably(((raw - black) / (white - black)).astype("<f4"), out)


def _numpy_previews(src: Path, out: Path) -> None:
    with open_container(src) as c:
        raw = c.cube
        lines, bands, samples = raw.shape
        factors = (*LODS, max(1, -(-max(lines, samples) // 256)))
        with open(out, "wb") as f:
            for k in factors:
                block = raw[: lines // k * k, :, : samples // k * k].reshape(lines // k, k, bands, samples // k, k)
                np.rint(block.mean(axis=(1, 4))).astype("<u2").tofile(f)
            f.flush()
            os.fsync(f.fileno())


def _memory(op: str, sizes: tuple[int, int]) -> tuple[int, int]:
    """Return the anonymous memory peaks of ``op`` on the cubes of the two sizes, each in a fresh process."""
    peaks = []
    for size in sizes:
        src = data.raw_container(size)
        dst = data.DATA / f"pipeline-{op}-{size}.hsi"
        argv = [sys.executable, "-m", "benchmarks._child", op, str(src), str(dst)]
        with open(os.devnull, "w") as sink:
            peak, _ = peak_anon_memory(argv, stdout=sink)
        peaks.append(peak)
        dst.unlink(missing_ok=True)
    return peaks[0], peaks[1]


def run(r: Run) -> None:
    """Add the pipeline rows to the run."""
    src = data.raw_container(r.size)
    out, anchor = data.DATA / "pipeline-out.hsi", data.DATA / "pipeline-anchor.bin"
    times = median_times({"ours": lambda: calibrate(src, out, findings=[]),
                          "numpy": lambda: _numpy_calibration(src, anchor)}, repeat=3, before=lambda: warm(src))
    ours, numpy_time = times["ours"], times["numpy"]
    r.add(ratio_row("pipeline", "calibrate to float32 reflectance", ours,
                    "numpy ((raw - B) / (W - B)).astype(f4) + tofile + fsync", numpy_time, max_ratio=1.5,
                    note="ours also hashes the inputs, renders the thumbnail and writes a validated-layout container"))
    times = median_times({"ours": lambda: write_previews(src, out, lods=LODS),
                          "numpy": lambda: _numpy_previews(src, anchor)}, repeat=3, before=lambda: warm(src))
    ours, numpy_time = times["ours"], times["numpy"]
    r.add(ratio_row("pipeline", "previews 2, 4, 8 + coarsest (block mean)", ours,
                    "numpy reshape-mean per level + tofile + fsync", numpy_time, max_ratio=1.5,
                    note="ours rounds half away from zero with exact integer sums and keeps partial edge blocks"))
    out.unlink(missing_ok=True)
    anchor.unlink(missing_ok=True)
    small = max(1 << 20, r.size // 4)
    for op in ("calibrate", "previews"):
        low, high = _memory(op, (small, r.size))
        r.add(Row("pipeline", f"{op}: anonymous memory peak, cube x4", high, "the same on a cube 4x smaller", low,
                  "<= 1.25x", high <= 1.25 * low, unit="B",
                  note=f"{small / MIB:.0f} MiB -> {r.size / MIB:.0f} MiB of raw cube"))
