"""Container -> HDF5 / TIFF / ENVI vs ``rasterio.shutil.copy`` to GTiff and ``cp``; anonymous memory of each."""

from __future__ import annotations

import shutil
import statistics
import sys
from pathlib import Path

from benchmarks import data
from benchmarks._harness import Row, Run, peak_anon_memory

MIB = 1 << 20


def timed_child(op: str, src: Path, dst: Path, *options: str, repeat: int = 3) -> tuple[float, int]:
    """Return the median seconds of an operation run in a child process and its largest anonymous memory peak."""
    times, peaks = [], []
    for _ in range(repeat):
        _remove(dst)
        argv = [sys.executable, "-m", "benchmarks._child", op, str(src), str(dst), *options]
        out = Path(str(dst) + ".time")
        with open(out, "w") as f:
            peak, _ = peak_anon_memory(argv, stdout=f)
        times.append(float(out.read_text().strip().splitlines()[-1]))
        peaks.append(peak)
        out.unlink()
    _remove(dst)
    return statistics.median(times), max(peaks)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
        for sibling in (path.with_suffix(".hdr"), Path(str(path) + ".hsi.d")):
            if sibling.is_dir():
                shutil.rmtree(sibling)
            else:
                sibling.unlink(missing_ok=True)


def run(r: Run) -> None:
    """Add the conversion rows to the run."""
    src = data.container(r.size)
    img, _ = data.raw_cube(r.size)
    out = data.DATA / "convert-out"
    gb = r.size / 1e9
    cp_time, _ = timed_child("cp", img, out.with_suffix(".copy"))
    gtiff_time, gtiff_peak = timed_child("gtiff", img, out.with_suffix(".gtiff.tif"), "INTERLEAVE=BAND")
    targets = {"hdf5": (1.5, ".h5"), "tiff": (1.0, ".tif"), "envi": (None, ".img")}
    for fmt, (min_gbps, suffix) in targets.items():
        seconds, peak = timed_child("convert", src, out.with_suffix(suffix), f"to_format={fmt}")
        rate = gb / seconds
        target = f">= {min_gbps:g} GB/s" if min_gbps else ""
        r.add(Row("convert", f"container -> {fmt}", rate, "cp of the same bytes", gb / cp_time, target,
                  None if min_gbps is None else rate >= min_gbps, unit="GB/s"))
        r.add(Row("convert", f"container -> {fmt}: anonymous memory peak", peak, "target", 128 * MIB,
                  "<= 128 MiB", peak <= 128 * MIB, unit="B"))
        r.add(Row("convert", f"container -> {fmt}", rate, "rasterio.shutil.copy to GTiff", gb / gtiff_time,
                  unit="GB/s", note=f"GTiff copy peak {gtiff_peak / MIB:.0f} MiB"))
