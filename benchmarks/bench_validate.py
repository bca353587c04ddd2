"""Validation: constant in cube size, CRC tier vs zlib.crc32 and zipfile.testzip, batch rate and floor, deep names."""

from __future__ import annotations

import os
import statistics
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from benchmarks import data
from benchmarks._harness import Row, Run, median_time, ratio_row, round_robin_samples
from hsi_conform.header import build_header_text
from hsi_conform.testing import zipcraft
from hsi_conform.testing.samples import sample_members, write_sample_container
from hsi_conform.validate import CheckOptions, Content, check

NONE, CRC = CheckOptions(content=Content.NONE), CheckOptions(content=Content.CRC)
#: Containers per second per core that ``--content none`` reaches on the 21 kB sample (issue 16).
BATCH_RATE = 600.0


def _floor(path: Path) -> None:
    """The least a validator of a container does: list the members and read the header (stdlib ``zipfile``)."""
    with zipfile.ZipFile(path) as archive:
        archive.namelist()
        archive.read("data.hdr")


def _sparse_4gib(directory: Path) -> Path:
    lines, samples, bands = 65_536, 16_384, 2
    header = build_header_text({**data.header_fields(lines, samples, bands), "interleave": "bsq"}).encode()
    path = directory / "sparse-4gib.hsi"
    zipcraft.write(path, [zipcraft.Entry(b"data.hdr", header),
                          zipcraft.Entry(b"data.envi", sparse=lines * samples * bands * 2, zip64=True)])
    return path


def _with_name(directory: Path, file: str, name: bytes) -> Path:
    entries = [zipcraft.Entry(n.encode(), d) for n, d in sample_members().items()] + [zipcraft.Entry(name)]
    path = directory / file
    path.write_bytes(zipcraft.build(entries))
    return path


def _names(r: Run, directory: Path) -> None:
    """One 64 KB member name of 32,000 components against a flat one of the same size (issue 19 item 5)."""
    deep = b"x/" * 32_000 + b"y"
    deep_path = _with_name(directory, "deep-name.hsi", deep)
    flat_path = _with_name(directory, "flat-name.hsi", b"x" * len(deep))
    t_deep = median_time(lambda: check(deep_path, options=NONE), repeat=3)
    t_flat = median_time(lambda: check(flat_path, options=NONE), repeat=3)
    r.add(ratio_row("validate", "a 64 KB member name of 32,000 components", t_deep, "a flat 64 KB name", t_flat,
                    max_ratio=3.0, note="linear in the bytes of the central directory"))


def _distinct_batch(directory: Path) -> Row:
    """What a real batch gets: distinct small containers (other dimensions, so other header values) checked once each.

    The anchor re-checks one of them (the median by size), as the batch row above re-checks the sample: a cache keyed
    by what repeats only when one file is re-checked would show here as a ratio below 1.
    """
    count = 8 if os.environ.get("BENCH_QUICK") else 100
    paths = [write_sample_container(directory / f"distinct-{i}.hsi", lines=8 + i % 29, samples=8 + 7 * i % 31,
                                    bands=5 + 3 * i % 23) for i in range(count)]
    middle = sorted(paths, key=lambda p: p.stat().st_size)[count // 2]
    t = median_time(lambda: [check(p, options=NONE) for p in paths], repeat=3) / count
    t_one = median_time(lambda: check(middle, options=NONE), min_time=0.2)
    return Row("validate", f"batch throughput, {count} distinct small containers", 1.0 / t,
               "the median one of them re-checked", 1.0 / t_one, unit="containers/s",
               note="informs: what a real batch gets")


def run(r: Run) -> None:
    """Add the validation rows to the run."""
    with tempfile.TemporaryDirectory() as tmp:
        _names(r, Path(tmp))
        small = write_sample_container(Path(tmp) / "small.hsi")
        big = _sparse_4gib(Path(tmp))
        samples = round_robin_samples({"small": lambda: check(small, options=NONE),
                                       "big": lambda: check(big, options=NONE), "floor": lambda: _floor(small)},
                                      min_time=0.2)
        t_small, t_big, floor = (statistics.median(samples[k]) for k in ("small", "big", "floor"))
        r.add(ratio_row("validate", "--content none, 4 GiB sparse container", t_big, "same on a 21 kB container",
                        t_small, max_ratio=2.0, note="constant in cube size"))
        # An absolute rate has no anchor sharing the VM's noisy minutes: it is the best round (min of N, as for
        # timeit), with the median round recorded beside it (benchmarks/README.md#absolute-rates).
        rate, median_rate = 1.0 / min(samples["small"]), 1.0 / t_small
        r.add(Row("validate", "batch throughput, small containers", rate, "target", BATCH_RATE,
                  f">= {BATCH_RATE:g}/s per core", rate >= BATCH_RATE, unit="containers/s",
                  note=f"best of {len(samples['small'])} rounds; median round {median_rate:.0f}/s"))
        r.add(_distinct_batch(Path(tmp)))
        r.add(ratio_row("validate", "--content none, small container", t_small,
                        "floor: zipfile namelist() + read data.hdr", floor, max_ratio=3.0,
                        note="what any reader of the container pays"))
    path = data.container(r.size)
    img, _ = data.raw_cube(r.size)
    ours = median_time(lambda: check(path, options=CRC), repeat=3)
    raw = np.memmap(img, dtype=np.uint8, mode="r")
    crc = median_time(lambda: zlib.crc32(raw), repeat=3)
    r.add(ratio_row("validate", "--content crc", ours, "zlib.crc32 over a memmap", crc, max_ratio=1.25,
                    note="target: >= 0.8x crc32 speed"))
    testzip = median_time(lambda: zipfile.ZipFile(path).testzip(), repeat=3)
    r.add(ratio_row("validate", "--content crc", ours, "zipfile testzip()", testzip))
