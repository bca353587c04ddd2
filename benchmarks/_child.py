"""Run one operation in a fresh process and print its wall time (the parent samples its anonymous memory).

The libraries an operation uses are imported before the clock starts, for ours and the peers alike: the rows
compare moving bytes, not Python start-up. That includes what hsi-conform sets up once per process, whichever
conversion runs first (:func:`_set_up`): a ``migrate`` of many folders pays it once (README, "Round 2c").
"""

from __future__ import annotations

import contextlib
import importlib
import shutil
import sys
import time
import warnings
from typing import Any


def _set_up() -> None:
    """Load what hsi-conform loads once per process: every converter plugin and the header grammar's scanner.

    Measured on this VM: 0.3-0.6 s in a fresh process (importing the converter modules, which detecting a source
    does, 0.25-0.33 s; the grammar's LALR tables, which the scanner takes its terminals from, 0.03-0.09 s), against
    0.1-0.2 s for the copy of a 256 MiB cube.
    """
    from hsi_conform.converters.registry import get_converter, registered
    from hsi_conform.errors import HsiConformError
    from hsi_conform.header.grammar import scanner

    for name in registered():
        with contextlib.suppress(HsiConformError):  # a converter whose extra is not installed
            get_converter(name)
    scanner()


def _cube(src: str, lines: str, samples: str, bands: str) -> Any:
    """Map the benchmark's raw BIL cube and return it as (band, line, sample), the order HDF5 and TIFF store."""
    import numpy as np

    shape = (int(lines), int(bands), int(samples))
    return np.memmap(src, dtype="<u2", mode="r", shape=shape).transpose(1, 0, 2)


def main(argv: list[str]) -> int:
    """``python -m benchmarks._child OP SRC DST [KEY=VALUE ...]``; prints the seconds the operation took."""
    op, src, dst, *rest = argv
    options = dict(item.split("=", 1) for item in rest)
    for lib in ("numpy", "numpy.ma", "PIL.Image", "h5py", "tifffile"):  # optional ones absent: not warmed up
        with contextlib.suppress(ImportError):
            importlib.import_module(lib)
    from benchmarks._harness import copy_durably, copytree_durably, fsync_path
    from hsi_conform.converters import convert
    from hsi_conform.pipeline.calibrate import calibrate
    from hsi_conform.pipeline.previews import write_previews

    _set_up()
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
