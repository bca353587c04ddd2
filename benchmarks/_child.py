"""Run one operation in a fresh process and print its wall time (the parent samples its anonymous memory)."""

from __future__ import annotations

import shutil
import sys
import time
import warnings


def main(argv: list[str]) -> int:
    """``python -m benchmarks._child OP SRC DST [KEY=VALUE ...]``; prints the seconds the operation took."""
    op, src, dst, *rest = argv
    options = dict(item.split("=", 1) for item in rest)
    t0 = time.perf_counter()
    if op == "convert":
        from hsi_conform.converters import convert

        convert(src, dst, **options)
    elif op == "gtiff":
        import rasterio
        import rasterio.shutil

        warnings.filterwarnings("ignore", category=rasterio.errors.NotGeoreferencedWarning)
        rasterio.shutil.copy(src, dst, driver="GTiff", **options)
    elif op == "calibrate":
        from hsi_conform.pipeline.calibrate import calibrate

        calibrate(src, dst, findings=[])
    elif op == "previews":
        from hsi_conform.pipeline.previews import write_previews

        write_previews(src, dst, lods=(2, 4, 8))
    elif op == "copytree":
        shutil.copytree(src, dst)
    elif op == "cp":
        shutil.copyfile(src, dst)
    else:
        raise SystemExit(f"unknown operation {op}")
    print(time.perf_counter() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
