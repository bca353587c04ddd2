"""Header parsing: ``hsi_conform.parse_header`` vs SPy ``read_envi_header`` (both read the file)."""

from __future__ import annotations

from spectral.io.envi import read_envi_header

from benchmarks import data
from benchmarks._harness import Run, median_times, ratio_row
from hsi_conform import parse_header

# Targets (benchmarks/README.md#targets): <= 1.0x SPy typical, <= 0.5x on 2000 bands, <= 0.1x on 80k lines (SPy is
# quadratic).
TARGETS = {"typical 20-line": 1.0, "2000-band": 0.5, "80k-line": 0.1}


def run(r: Run) -> None:
    """Add the header rows to the run."""
    for name, path in data.headers().items():
        slow = name == "80k-line"
        repeat, min_time = (3, 0.0) if slow else (7, 0.05)
        times = median_times({"ours": lambda p=path: parse_header(p.read_bytes()),
                              "spy": lambda p=path: read_envi_header(str(p))}, repeat=repeat, min_time=min_time)
        ours, spy = times["ours"], times["spy"]
        r.add(ratio_row("header", f"parse {name} header", ours, "SPy read_envi_header", spy,
                        max_ratio=TARGETS[name]))
