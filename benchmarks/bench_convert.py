"""Container -> HDF5 / TIFF / ENVI vs ``rasterio.shutil.copy`` to GTiff and ``cp``; anonymous memory of each."""

from __future__ import annotations

import shutil
import statistics
import sys
from collections.abc import Mapping
from pathlib import Path

from benchmarks import data
from benchmarks._harness import Row, Run, peak_anon_memory, warm

MIB = 1 << 20


def timed_child(op: str, src: Path, dst: Path, *options: str, repeat: int = 3) -> tuple[float, int]:
    """Return the median seconds of an operation run in a child process and its largest anonymous memory peak."""
    return timed_children({op: (op, src, dst, options)}, repeat=repeat)[op]


def timed_children(cases: Mapping[str, tuple[str, Path, Path, tuple[str, ...]]], *, repeat: int = 3
                   ) -> dict[str, tuple[float, int]]:
    """Return, per case, the median seconds of its operation run in a child process and its largest memory peak.

    ``cases`` maps a name to ``(op, src, dst, options)`` (see ``benchmarks/_child.py``). The cases run in turn,
    one of each per round, so that a row and its anchors share the VM's noisy minutes alike; each reads its source
    from the page cache (:func:`~benchmarks._harness.warm`, off the clock).
    """
    times: dict[str, list[float]] = {name: [] for name in cases}
    peaks: dict[str, list[int]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, (op, src, dst, options) in cases.items():
            _remove(dst)
            warm(src)
            argv = [sys.executable, "-m", "benchmarks._child", op, str(src), str(dst), *options]
            out = Path(str(dst) + ".time")
            with open(out, "w") as f:
                peak, _ = peak_anon_memory(argv, stdout=f)
            times[name].append(float(out.read_text().strip().splitlines()[-1]))
            peaks[name].append(peak)
            out.unlink()
            _remove(dst)
    return {name: (statistics.median(times[name]), max(peaks[name])) for name in cases}


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
    """Add the conversion rows to the run.

    Each export is compared with the peer that writes the same bytes: HDF5 with h5py writing the same
    (band, y, x) array contiguous, TIFF with ``tifffile.imwrite`` of it (one planar-separate IFD), both fsynced as
    our atomic publish is; ENVI (a copy of ``data.envi``) with ``cp`` and with ``cp`` + fsync (see
    :func:`_envi_rows`). The default HDF5 layout (chunked) is shown beside its contiguous form.
    """
    src = data.container(r.size)
    img, _ = data.raw_cube(r.size)
    lines, samples, bands = data.dimensions(r.size)
    dims = (f"lines={lines}", f"samples={samples}", f"bands={bands}")
    out = data.DATA / "convert-out"
    gb = r.size / 1e9
    cp_time, _ = timed_child("cp", img, out.with_suffix(".copy"))
    gtiff_time, gtiff_peak = timed_child("gtiff", img, out.with_suffix(".gtiff.tif"), "INTERLEAVE=BAND")
    h5py_time, _ = timed_child("h5py", img, out.with_suffix(".peer.h5"), *dims)
    tifffile_time, _ = timed_child("tifffile", img, out.with_suffix(".peer.tif"), *dims)
    cases = {  # row name: (suffix, options, peer name, peer seconds, minimum rate ratio to the peer)
        "hdf5 (chunks=none: contiguous)": (".h5", ("chunks=none",), "h5py contiguous + fsync", h5py_time, 0.8),
        "hdf5 (default: chunked)": (".h5", (), "h5py contiguous + fsync", h5py_time, None),
        "tiff": (".tif", (), "tifffile.imwrite + fsync", tifffile_time, 0.8),
    }
    for name, (suffix, options, peer, peer_time, min_ratio) in cases.items():
        fmt = name.split()[0]
        seconds, peak = timed_child("convert", src, out.with_suffix(suffix), f"to_format={fmt}", *options)
        rate, peer_rate = gb / seconds, gb / peer_time
        target = f">= {min_ratio:g}x {peer}" if min_ratio else ""
        r.add(Row("convert", f"container -> {name}", rate, peer, peer_rate, target,
                  None if min_ratio is None else rate >= min_ratio * peer_rate, unit="GB/s"))
        r.add(Row("convert", f"container -> {name}: anonymous memory peak", peak, "target", 128 * MIB,
                  "<= 128 MiB", peak <= 128 * MIB, unit="B"))
        r.add(Row("convert", f"container -> {name}", rate, "cp of the same bytes", gb / cp_time, unit="GB/s"))
        r.add(Row("convert", f"container -> {name}", rate, "rasterio.shutil.copy to GTiff", gb / gtiff_time,
                  unit="GB/s", note=f"GTiff copy peak {gtiff_peak / MIB:.0f} MiB"))
    _envi_rows(r, src, img, out, gtiff_time, gtiff_peak)


def _envi_rows(r: Run, src: Path, img: Path, out: Path, gtiff_time: float, gtiff_peak: int) -> None:
    """Add the ENVI export's rows: against ``cp`` and against ``cp`` + fsync, measured in turn with the export.

    The export publishes durably (fsync before the rename), so it is also compared with a copy fsynced the same
    way (README, "Durable anchors"); both targets are reported.
    """
    gb = r.size / 1e9
    measured = timed_children({
        "ours": ("convert", src, out.with_suffix(".img"), ("to_format=envi",)),
        "cp": ("cp", img, out.with_suffix(".copy"), ()),
        "cp + fsync": ("cp-fsync", img, out.with_suffix(".copy"), ()),
    })
    seconds, peak = measured["ours"]
    rate = gb / seconds
    for anchor, peer in (("cp", "cp of the same bytes"), ("cp + fsync", "cp + fsync of the same bytes")):
        peer_rate = gb / measured[anchor][0]
        r.add(Row("convert", "container -> envi", rate, peer, peer_rate, ">= 0.7x " + peer,
                  rate >= 0.7 * peer_rate, unit="GB/s",
                  note="the export is fsynced before it is published" if anchor != "cp" else ""))
    r.add(Row("convert", "container -> envi: anonymous memory peak", peak, "target", 128 * MIB, "<= 128 MiB",
              peak <= 128 * MIB, unit="B"))
    r.add(Row("convert", "container -> envi", rate, "rasterio.shutil.copy to GTiff", gb / gtiff_time, unit="GB/s",
              note=f"GTiff copy peak {gtiff_peak / MIB:.0f} MiB"))
