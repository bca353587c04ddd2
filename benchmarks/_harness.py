"""Measurement harness: medians after a warm-up, anchors measured in the same run, ratios and targets.

Every benchmark row compares hsi-conform with an anchor (a peer library or a machine limit) measured by the
same harness in the same process and run, because this machine is noisy: only ratios are comparable.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Row:
    """One benchmark result.

    Attributes:
        group: the benchmark family (``header``, ``open``, ``validate``, ...).
        name: what was measured.
        ours: hsi-conform's median (seconds, or the unit below).
        anchor_name: what it is compared with.
        anchor: the anchor's median in the same run.
        target: the goal as text, e.g. ``<= 1.0x`` (ratio ours / anchor) or ``>= 1.5 GB/s``.
        met: whether the target is met (None when the row only informs).
        unit: ``s`` unless stated.
        note: anything needed to read the row.
    """

    group: str
    name: str
    ours: float
    anchor_name: str
    anchor: float
    target: str = ""
    met: bool | None = None
    unit: str = "s"
    note: str = ""

    @property
    def ratio(self) -> float:
        """ours / anchor."""
        return self.ours / self.anchor if self.anchor else float("inf")


@dataclass
class Run:
    """Rows of one run plus the machine they ran on."""

    size: int
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> None:
        """Record a row and print it."""
        self.rows.append(row)
        verdict = "" if row.met is None else (" met" if row.met else " NOT met")
        print(f"[{row.group}] {row.name}: {fmt(row.ours, row.unit)} vs {row.anchor_name} {fmt(row.anchor, row.unit)}"
              f" = {row.ratio:.3g}x {row.target}{verdict}", flush=True)


def median_time(fn: Callable[[], object], *, repeat: int = 5, warmup: int = 1, min_time: float = 0.0) -> float:
    """Return the median wall time of ``fn`` over ``repeat`` runs after ``warmup`` runs.

    Short functions are looped until one sample lasts at least ``min_time`` seconds; the sample is divided back.
    ``BENCH_QUICK=1`` (the smoke test) measures once, without warm-up.
    """
    if os.environ.get("BENCH_QUICK"):
        repeat, warmup, min_time = 1, 0, 0.0
    for _ in range(warmup):
        fn()
    loops = 1
    if min_time:
        t0 = time.perf_counter()
        fn()
        once = max(time.perf_counter() - t0, 1e-7)
        loops = max(1, int(min_time / once))
    samples = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter() - t0) / loops)
    return statistics.median(samples)


def median_times(fns: Mapping[str, Callable[[], object]], *, repeat: int = 5, warmup: int = 1,
                 min_time: float = 0.0, before: Callable[[], object] | None = None) -> dict[str, float]:
    """Return the median wall time of each function, measured round-robin: one sample of each per round.

    A row and its anchors measured in turn share the VM's noisy minutes alike; measured one after the other, a burst
    of load on one side decides the row. Short functions are looped until one sample lasts at least ``min_time``
    seconds, each with its own loop count (``BENCH_QUICK=1``: once, no warm-up). ``before`` runs before every
    sample, off the clock (:func:`warm`).
    """
    return {name: statistics.median(times) for name, times in
            round_robin_samples(fns, repeat=repeat, warmup=warmup, min_time=min_time, before=before).items()}


def round_robin_samples(fns: Mapping[str, Callable[[], object]], *, repeat: int = 5, warmup: int = 1,
                        min_time: float = 0.0, before: Callable[[], object] | None = None) -> dict[str, list[float]]:
    """Return every sample (seconds per call) of each function, measured round-robin as :func:`median_times` does."""
    if os.environ.get("BENCH_QUICK"):
        repeat, warmup, min_time = 1, 0, 0.0
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    loops = {name: _loops(fn, min_time) for name, fn in fns.items()}
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            if before is not None:
                before()
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(loops[name]):
                fn()
            samples[name].append((time.perf_counter() - t0) / loops[name])
    return samples


def warm(*paths: str | os.PathLike[str]) -> None:
    """Read files (every file under a folder) so that the next timed sample finds them in the page cache.

    This VM's kernel pages out memory it sees as cold (a DAMON ``pageout`` scheme over physical memory), page cache
    included: a source read by one sample may be gone by the next, and in a round-robin the side timed first after
    a pause read it from disk while its anchors, right behind, found it cached (benchmarks/README.md#warm-sources).
    Every sample of a row that reads a large source is therefore preceded by this read, off the clock.
    """
    buffer = bytearray(16 << 20)
    for path in paths:
        root = Path(path)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for file in files:
            with open(file, "rb", buffering=0) as f:
                while f.readinto(buffer):
                    pass


def _loops(fn: Callable[[], object], min_time: float) -> int:
    """How many calls of ``fn`` make one sample of at least ``min_time`` seconds."""
    if not min_time:
        return 1
    t0 = time.perf_counter()
    fn()
    return max(1, int(min_time / max(time.perf_counter() - t0, 1e-7)))


def ratio_row(group: str, name: str, ours: float, anchor_name: str, anchor: float, *, max_ratio: float | None = None,
              min_ratio: float | None = None, note: str = "") -> Row:
    """Build a row whose target is a bound on ``ours / anchor``."""
    ratio = ours / anchor if anchor else float("inf")
    if max_ratio is not None:
        return Row(group, name, ours, anchor_name, anchor, f"<= {max_ratio:g}x", ratio <= max_ratio, note=note)
    if min_ratio is not None:
        return Row(group, name, ours, anchor_name, anchor, f">= {min_ratio:g}x", ratio >= min_ratio, note=note)
    return Row(group, name, ours, anchor_name, anchor, note=note)


def peak_anon_memory(argv: list[str], *, env: dict[str, str] | None = None, interval: float = 0.005,
                     stdout: Any = None) -> tuple[int, float]:
    """Run a command and return ``(peak RssAnon in bytes, wall seconds)``, sampled from /proc.

    Anonymous memory is what matters: memmapped file pages count in RSS but are not allocations.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=stdout)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        status = Path(f"/proc/{proc.pid}/status")
        while not stop.is_set():
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("RssAnon:"):
                        peak = max(peak, int(line.split()[1]) * 1024)
            except (OSError, ValueError):
                pass
            time.sleep(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    code = proc.wait()
    stop.set()
    thread.join()
    if code != 0:
        raise RuntimeError(f"{argv} exited with {code}")
    return peak, time.perf_counter() - t0


def fsync_path(path: str | os.PathLike[str]) -> None:
    """Fsync a file or a folder by path (what our atomic publish does to the temp file and its folder)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_durably(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """``cp`` + fsync: copy a file (``shutil.copyfile``: the kernel copies) and fsync the copy.

    The durable anchor of a row whose output is fsynced before it is published (README, "Durable anchors").
    """
    shutil.copyfile(src, dst)
    fsync_path(dst)


def copytree_durably(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Copy a folder (``shutil.copytree``), then fsync every copied file and every folder, innermost first.

    The durable anchor of the SPECIM import (README, "Durable anchors"): all files are copied before the first
    fsync, as our writer copies every member before its one fsync.
    """
    shutil.copytree(src, dst)
    for root, _, files in os.walk(dst, topdown=False):
        for name in files:
            fsync_path(os.path.join(root, name))
        fsync_path(root)


def fmt(value: float, unit: str) -> str:
    """Format a measurement for humans."""
    if unit == "s":
        for scale, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "us")):
            if value >= scale:
                return f"{value / scale:.3g} {suffix}"
        return f"{value * 1e9:.3g} ns"
    if unit == "B":
        return f"{value / 2**20:.1f} MiB"
    return f"{value:.3g} {unit}"


def machine_info() -> dict[str, Any]:
    """Return CPU, cores, memory, Python and library versions."""
    info: dict[str, Any] = {
        "host": platform.node(), "python": sys.version.split()[0], "platform": platform.platform(),
        "cores": os.cpu_count(), "cpu": _cpu_model(),
    }
    for lib in ("numpy", "lark", "spectral", "h5py", "tifffile", "rasterio"):
        try:
            module = __import__(lib)
            info[lib] = getattr(module, "__version__", "?")
        except ImportError:
            info[lib] = None
    try:
        import rasterio

        info["gdal"] = rasterio.__gdal_version__
    except ImportError:
        pass
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def save(run: Run, *, results: Path = RESULTS) -> Path:
    """Write the run as ``results/<date>-<host>.json`` and return the path."""
    results.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d")
    path = results / f"{stamp}-{platform.node() or 'host'}.json"
    payload = {"date": stamp, "size": run.size, "machine": machine_info(),
               "rows": [dict(asdict(r), ratio=r.ratio) for r in run.rows]}
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path


def markdown_table(run: Run) -> str:
    """Return the results as a markdown table (one row per measurement, with anchor, ratio and target)."""
    lines = ["| group | measurement | hsi-conform | anchor (same run) | ratio | target | met |",
             "|---|---|---|---|---|---|---|"]
    for r in run.rows:
        met = "-" if r.met is None else ("yes" if r.met else "**no**")
        note = f" ({r.note})" if r.note else ""
        lines.append(f"| {r.group} | {r.name}{note} | {fmt(r.ours, r.unit)} | {r.anchor_name}: {fmt(r.anchor, r.unit)} "
                     f"| {r.ratio:.3g}x | {r.target or '-'} | {met} |")
    return "\n".join(lines) + "\n"
