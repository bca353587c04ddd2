"""Open + one band / one spectrum / whole cube: hsi-conform vs SPy, GDAL (/vsizip/) and a plain numpy memmap.

The band's memmap anchor maps the container at the cube's offset on every call, as every reader that opens per
call must (each fresh mapping pays one minor fault per touched page); the memmap mapped once outside the loop is
reported too, as information (benchmarks/README.md#round-2-header-open-validate).
"""

from __future__ import annotations

import struct
import warnings
import zipfile

import numpy as np
import spectral.io.envi as envi

import hsi_conform
from benchmarks import data
from benchmarks._harness import Run, median_time, median_times, ratio_row, warm


def _ours_band(path: str, band: int) -> None:
    with hsi_conform.open(path) as c:
        c.read_band(band).sum()  # each library's band read: a new array (SPy's read_band reads the file too)


def _ours_spectrum(path: str, line: int, sample: int) -> None:
    with hsi_conform.open(path) as c:
        c.read_spectrum(line, sample).sum()  # as SPy's read_pixel


def _ours_all(path: str) -> None:
    with hsi_conform.open(path) as c:
        c.cube.sum(dtype=np.uint64)


def run(r: Run) -> None:
    """Add the open/read rows to the run."""
    path = str(data.container(r.size))
    img, hdr = data.raw_cube(r.size)
    lines, samples, bands = data.dimensions(r.size)
    band, line, sample = bands // 2, lines // 2, samples // 2
    raw = np.memmap(img, dtype="<u2", mode="r", shape=(lines, bands, samples))

    shape, offset = (lines, bands, samples), _cube_offset(path)

    def fresh_band() -> None:  # what any reader that opens per call pays at least: a new mapping, then the band
        np.array(np.memmap(path, dtype="<u2", mode="r", offset=offset, shape=shape)[:, band, :]).sum()

    times = median_times({"ours": lambda: _ours_band(path, band),
                          "spy": lambda: envi.open(str(hdr), str(img)).read_band(band).sum(),
                          "fresh": fresh_band, "memmap": lambda: np.array(raw[:, band, :]).sum()}, min_time=0.05)
    ours, spy, fresh, memmap = times["ours"], times["spy"], times["fresh"], times["memmap"]
    r.add(ratio_row("open", "open + one band", ours, "SPy envi.open memmap", spy, max_ratio=1.0))
    r.add(ratio_row("open", "open + one band", ours, "numpy memmap of the container at the cube's offset, mapped per "
                    "call (no header, no ZIP)", fresh, max_ratio=5.0))
    r.add(ratio_row("open", "open + one band", ours, "numpy memmap mapped once, outside the loop (warm page tables)",
                    memmap, note="informs: no reader that opens per call keeps the mapping of the previous call"))

    times = median_times({"ours": lambda: _ours_spectrum(path, line, sample),
                          "spy": lambda: envi.open(str(hdr), str(img)).read_pixel(line, sample).sum()}, min_time=0.05)
    ours, spy = times["ours"], times["spy"]
    r.add(ratio_row("open", "open + one spectrum", ours, "SPy envi.open memmap", spy, max_ratio=1.0))
    gdal = _gdal(path, band, line, sample)
    if gdal is not None:
        r.add(ratio_row("open", "open + one band", median_time(lambda: _ours_band(path, band)),
                        "GDAL /vsizip/", gdal[0], note="informs: issue 16 sets 0.05x GDAL for the spectrum only"))
        r.add(ratio_row("open", "open + one spectrum", median_time(lambda: _ours_spectrum(path, line, sample)),
                        "GDAL /vsizip/", gdal[1], max_ratio=0.05))

    def fresh_all() -> None:  # as fresh_band: the same bytes of the same file, mapped (and faulted in) anew per call
        np.memmap(path, dtype="<u2", mode="r", offset=offset, shape=shape).sum(dtype=np.uint64)

    # Round-robin as the other rows: the sum of 1 GiB is memory-bound, and a noisy minute on one side decided it.
    times = median_times({"ours": lambda: _ours_all(path), "fresh": fresh_all,
                          "memmap": lambda: raw.sum(dtype=np.uint64)}, repeat=5, before=lambda: warm(path, img))
    ours, fresh, memmap = times["ours"], times["fresh"], times["memmap"]
    r.add(ratio_row("open", "open + sum of whole cube", ours, "numpy memmap of the container at the cube's offset, "
                    "mapped per call (no header, no ZIP)", fresh, max_ratio=1.2))
    r.add(ratio_row("open", "open + sum of whole cube", ours, "numpy memmap of the raw file mapped once, outside the "
                    "loop (warm page tables)", memmap,
                    note="informs: no reader that opens per call keeps the mapping of the previous call"))


def _cube_offset(path: str) -> int:
    """Return where ``data.envi``'s bytes start: its local header's offset and lengths, read with stdlib zipfile."""
    with zipfile.ZipFile(path) as z, open(path, "rb") as f:
        f.seek(z.getinfo("data.envi").header_offset)
        name_length, extra_length = struct.unpack("<26xHH", f.read(30))
        return z.getinfo("data.envi").header_offset + 30 + name_length + extra_length


def _gdal(path: str, band: int, line: int, sample: int) -> tuple[float, float] | None:
    try:
        import rasterio
    except ImportError:
        return None
    warnings.filterwarnings("ignore", category=rasterio.errors.NotGeoreferencedWarning)
    url = f"/vsizip/{{{path}}}/data.envi"

    def band_read() -> None:
        with rasterio.open(url) as d:
            d.read(band + 1).sum()

    def spectrum_read() -> None:
        with rasterio.open(url) as d:
            d.read(window=((line, line + 1), (sample, sample + 1))).sum()

    return median_time(band_read, repeat=3), median_time(spectrum_read, repeat=3)
