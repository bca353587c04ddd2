"""Cloud reads (issue 14 section 4): bytes and requests of remote validation and band reads over a loopback HTTP
server with Range support (``tests/_http.py``, which counts what it serves), and kerchunk references read by
xarray/zarr vs a numpy memmap of the same bytes.

Bytes and requests are counts, not times: the rows compare them with the budgets of spec/remote.md#budgets. The
refs row is a time ratio, the minimum of N runs of each in the same process.
"""

from __future__ import annotations

import http.client
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import hsi_conform
from benchmarks import data
from benchmarks._harness import Row, Run, median_times, ratio_row
from benchmarks.bench_validate import _sparse_4gib
from hsi_conform import write_container
from hsi_conform.members import DATA_SUFFIX
from tests._http import RangeServer

MIB, KIB = 1 << 20, 1 << 10
#: The requests of spec/remote.md#request-plan as tests/integration/test_remote.py bounds them: the size (HEAD), the
#: tail, one parallel batch of local headers and small members, and a few reads of what a rule asks next.
_PLAN_REQUESTS = 8


def run(r: Run) -> None:
    """Add the cloud rows to the run."""
    server = RangeServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-cloud-") as tmp:
            _validate_rows(r, server, Path(tmp))
        _band_rows(r, server)
    finally:
        server.stop()
    _refs_rows(r)


def _header_like(path: Path) -> int:
    with hsi_conform.open(path) as c:
        return sum(m.size for m in c.members if not m.name.endswith(DATA_SUFFIX))


def _validate_rows(r: Run, server: RangeServer, tmp: Path) -> None:
    """``validate --content none`` by URL: bytes against the budget, requests against the smallest container's."""
    paths = [data.container(size) for size in sorted({max(1 << 14, r.size // 64), max(1 << 16, r.size // 8), r.size})]
    paths.append(_sparse_4gib(tmp))
    for path in paths:
        url = server.serve(path, f"/validate/{path.name}")
        report = hsi_conform.check(url, content="none")
        if report.input_error is not None:
            raise RuntimeError(f"{url}: {report.input_error}")
        stats = server.stats(url)
        size = path.stat().st_size
        budget = MIB + _header_like(path)
        label = f"remote validate --content none, {_size(size)} container"
        r.add(Row("cloud", f"{label}: bytes fetched", stats.bytes, "budget: 1 MiB + header-like members", budget,
                  "<= 1x", stats.bytes <= budget, unit="B", note=f"{stats.bytes / size:.2%} of the file"))
        requests = stats.requests + stats.heads
        r.add(Row("cloud", f"{label}: requests", requests, "the request plan's bound (HEAD, tail, header batch)",
                  _PLAN_REQUESTS, "<= 1x (constant in size)", requests <= _PLAN_REQUESTS, unit="requests"))


def _interleaved_container(size: int, interleave: str) -> Path:
    """Return a bsq or bip container of the benchmark cube of ``size`` bytes (the bil one is ``data.container``)."""
    path = data.DATA / f"cube-{size}-{interleave}.hsi"
    if not path.exists():
        img, _ = data.raw_cube(size)
        lines, samples, bands = data.dimensions(size)
        bil = np.memmap(img, dtype="<u2", mode="r", shape=(lines, bands, samples))
        fields = {k: v for k, v in data.header_fields(lines, samples, bands).items()
                  if k in ("wavelength units", "wavelength")}
        order = (1, 0, 2) if interleave == "bsq" else (0, 2, 1)
        write_container(path, np.ascontiguousarray(bil.transpose(order)), interleave=interleave, fields=fields)
    return path


def _band_rows(r: Run, server: RangeServer) -> None:
    """One band by URL: bytes fetched against the budget of spec/remote.md#budgets, and time against plain GETs."""
    bsq = [_interleaved_container(size, "bsq") for size in sorted({max(1 << 16, r.size // 64),
                                                                   max(1 << 18, r.size // 8)})]
    # (container, interleave, whether to time it against plain GETs: the largest bsq band and the bil band)
    cases = [(path, "bsq", path == bsq[-1]) for path in bsq]
    cases += [(data.container(r.size), "bil", True),
              (_interleaved_container(max(1 << 18, r.size // 8), "bip"), "bip", False)]
    for path, interleave, timed in cases:
        url = server.serve(path, f"/band/{path.name}")
        with hsi_conform.open(url) as c:
            band = c.layout.bands // 2
            server.reset(url)
            values = c.read_band(band)
            stats = server.stats(url)
            _band_bytes_row(r, c, interleave, values.nbytes, stats.bytes, stats.requests)
            if timed:
                _band_time_row(r, c, url, interleave, band)


def _band_bytes_row(r: Run, c: hsi_conform.Container, interleave: str, nbytes: int, fetched: int,
                    requests: int) -> None:
    name = f"remote band read ({interleave}, {_size(nbytes)} band): bytes fetched"
    note = f"{requests} requests"
    if interleave == "bip":  # a run per pixel, a spectrum apart: merged to <= 512 requests, about the cube
        span = (c.layout.lines * c.layout.samples - 1) * c.layout.bands * 2 + 2
        r.add(Row("cloud", name, fetched, "the band's span (first to last byte)", span, "<= 1x, <= 512 requests",
                  fetched <= span and requests <= 512, unit="B", note=note))
        return
    r.add(Row("cloud", name, fetched, "the band's bytes", nbytes, "<= 1.1x + 256 KiB",
              fetched <= 1.1 * nbytes + 256 * KIB, unit="B", note=note))


def _band_runs(c: hsi_conform.Container, band: int) -> list[tuple[int, int]]:
    """The byte ranges of one band in the file: one for bsq, one per line for bil."""
    layout, offset = c.layout, c.info("data.envi").offset
    line = layout.samples * 2
    if layout.interleave.value == "bsq":
        return [(offset + band * layout.lines * line, offset + (band + 1) * layout.lines * line)]
    starts = [offset + (i * layout.bands + band) * line for i in range(layout.lines)]
    return [(a, a + line) for a in starts]


def _band_time_row(r: Run, c: hsi_conform.Container, url: str, interleave: str, band: int) -> None:
    """Issue 16: a remote band read takes at most 2x plain ranged GETs of the same bytes from the same server."""
    runs = _band_runs(c, band)
    host, port = url.split("/")[2].split(":")
    path = "/" + url.split("/", 3)[3]
    local = threading.local()

    def get(run: tuple[int, int]) -> int:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(host, int(port))
        conn.request("GET", path, headers={"Range": f"bytes={run[0]}-{run[1] - 1}"})
        return len(conn.getresponse().read())

    # Round-robin medians (the harness's median_times): the two sides share the VM's noisy minutes alike. A bsq band
    # is a few milliseconds, so 31 rounds; a bil band (1,024 requests) takes seconds, so 5.
    rounds = 31 if len(runs) == 1 else 5
    with ThreadPoolExecutor(max_workers=16) as pool:
        def plain() -> int:
            return sum(pool.map(get, runs)) if len(runs) > 1 else get(runs[0])

        assert plain() == c.layout.lines * c.layout.samples * 2
        times = median_times({"ours": lambda: c.read_band(band), "plain": plain}, repeat=rounds, warmup=2)
    same = ("one plain ranged GET of the band's one range (http.client)" if len(runs) == 1 else
            f"one plain ranged GET per line run ({len(runs)}; http.client, 16 keep-alive connections)")
    r.add(ratio_row("cloud", f"remote band read ({interleave}, {_size(c.layout.lines * c.layout.samples * 2)} band) "
                    "over loopback HTTP: time", times["ours"], same, times["plain"], max_ratio=2.0,
                    note=f"medians of {rounds} interleaved rounds"))


def _refs_rows(r: Run) -> None:
    """The whole cube through kerchunk references + xarray/zarr vs a numpy memmap of the raw bytes (min of N)."""
    try:
        import xarray as xr

        from hsi_conform.refs import references
    except ImportError:
        return
    path = data.container(r.size)
    with hsi_conform.open(path) as c:
        info, layout = c.info("data.envi"), c.layout
    raw = np.memmap(path, dtype=layout.dtype, mode="r", offset=info.offset, shape=layout.shape)
    with tempfile.TemporaryDirectory(prefix="bench-refs-") as tmp:
        refs = Path(tmp) / "refs.json"
        made = _min_time(lambda: refs.write_text(json.dumps(references(path))))

        def through_refs() -> None:
            with xr.open_dataset("reference://", engine="zarr", mask_and_scale=False, backend_kwargs={
                    "consolidated": False, "storage_options": {"fo": str(refs), "remote_protocol": "file"}}) as ds:
                ds["cube"].values.sum(dtype=np.uint64)

        ours = _min_time(through_refs)
        memmap = _min_time(lambda: np.array(raw).sum(dtype=np.uint64))
    r.add(ratio_row("cloud", "refs + xarray/zarr read of the whole cube (open + read + sum)", ours,
                    "numpy memmap read of the same bytes", memmap, max_ratio=2.0,
                    note=f"writing the references took {made * 1e3:.3g} ms"))


def _min_time(fn: Callable[[], object], repeat: int = 3) -> float:
    """Return the fastest of ``repeat`` runs after one warm-up (``BENCH_QUICK``: one run)."""
    if os.environ.get("BENCH_QUICK"):
        repeat = 1
    else:
        fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"
