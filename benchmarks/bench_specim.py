"""SPECIM folder import vs copying the folder."""

from __future__ import annotations

import os
import shutil

from benchmarks import data
from benchmarks._harness import Run, ratio_row
from benchmarks.bench_convert import timed_children
from hsi_conform import parse_header


def lumo_folder(size: int) -> os.PathLike[str]:
    """Return a Lumo-style folder whose recording is the benchmark cube (references stay small)."""
    from hsi_conform.testing.specim_samples import write_lumo_folder

    lines, samples, bands = data.dimensions(size)
    parent = data.DATA / f"specim-{size}"
    root = parent / "FX10e_bench_001"
    raw = root / "capture" / "FX10e_bench_001.raw"
    if raw.exists() and raw.stat().st_size == lines * samples * bands * 2:
        return root
    shutil.rmtree(parent, ignore_errors=True)
    write_lumo_folder(parent, name="FX10e_bench_001", lines=2, samples=samples, bands=bands)
    hdr = root / "capture" / "FX10e_bench_001.hdr"
    header = parse_header(hdr.read_bytes())
    header.set("lines", lines)
    hdr.write_bytes(header.to_bytes())
    img, _ = data.raw_cube(size)
    shutil.copyfile(img, raw)
    return root


def run(r: Run) -> None:
    """Add the SPECIM import rows to the run: against copying the folder, and copying it + fsync of every file.

    The import publishes durably (fsync before the rename), so it is also compared with a copy fsynced the same
    way (README, "Durable anchors"); the three are measured in turn and both targets are reported.
    """
    folder = lumo_folder(r.size)
    measured = timed_children({
        "ours": ("convert", folder, data.DATA / "specim-import.hsi", ("to_format=hsi",)),
        "copy": ("copytree", folder, data.DATA / "specim-copy", ()),
        "copy + fsync": ("copytree-fsync", folder, data.DATA / "specim-copy", ()),
    })
    ours = measured["ours"][0]
    r.add(ratio_row("specim", "SPECIM Lumo folder -> container", ours, "copying the folder", measured["copy"][0],
                    max_ratio=1.5))
    r.add(ratio_row("specim", "SPECIM Lumo folder -> container", ours, "copying the folder + fsync of every file",
                    measured["copy + fsync"][0], max_ratio=1.5, note="the container is fsynced before it is published"))
