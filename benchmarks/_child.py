"""Run one operation in a fresh process and print its wall time (the parent samples its anonymous memory).

The libraries an operation uses are imported before the clock starts, for ours and the peers alike: the rows
compare moving bytes, not Python start-up.
"""

from __future__ import annotations

import contextlib
import importlib
import shutil
import sys
import time
import warnings
from typing import Any


def _cube(src: str, lines: str, samples: str, bands: str) -> Any:
    """Map the benchmark's raw BIL cube and return it as (band, line, sample), the order HDF5 and TIFF store."""
    import numpy as np

    shape = (int(lines), int(bands), int(samples))
    return np.memmap(src, dtype="<u2", mode="r", shape=shape).transpose(1, 0, 2)


def main(argv: list[str]) -> int:
    """``python -m benchmarks._child OP SRC DST [KEY=VALUE ...]``; prints the seconds the operation took."""
    op, src, dst, *rest = argv
    options = dict(item.split("=", 1) for item in rest)
    for lib in ("numpy", "h5py", "tifffile"):  # optional extras: absent ones are simply not warmed up
        with contextlib.suppress(ImportError):
            importlib.import_module(lib)
    from benchmarks._harness import copy_durably, copytree_durably, fsync_path
    from hsi_conform.converters import convert
    from hsi_conform.pipeline.calibrate import calibrate
    from hsi_conform.pipeline.previews import write_previews

    t0 = time.perf_counter()
    if op == "convert":
        convert(src, dst, **options)
    elif op == "gtiff":
        import rasterio
        import rasterio.shutil

        warnings.filterwarnings("ignore", category=rasterio.errors.NotGeoreferencedWarning)
        rasterio.shutil.copy(src, dst, driver="GTiff", **options)
    elif op == "h5py":  # the peer of the HDF5 export: the same (band, y, x) array, contiguous, then fsynced
        import h5py

        cube = _cube(src, options["lines"], options["samples"], options["bands"])
        with h5py.File(dst, "w") as f:
            f.create_dataset("cube", data=cube)
        fsync_path(dst)
    elif op == "tifffile":  # the peer of the TIFF export: the same array, one planar-separate IFD, then fsynced
        import tifffile

        cube = _cube(src, options["lines"], options["samples"], options["bands"])
        tifffile.imwrite(dst, cube, planarconfig="separate", photometric="minisblack")
        fsync_path(dst)
    elif op == "calibrate":
        calibrate(src, dst, findings=[])
    elif op == "previews":
        write_previews(src, dst, lods=(2, 4, 8))
    elif op == "copytree":
        shutil.copytree(src, dst)
    elif op == "copytree-fsync":  # the durable anchor of the SPECIM import
        copytree_durably(src, dst)
    elif op == "cp":
        shutil.copyfile(src, dst)
    elif op == "cp-fsync":  # the durable anchor of the ENVI export
        copy_durably(src, dst)
    else:
        raise SystemExit(f"unknown operation {op}")
    print(time.perf_counter() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
