"""Batches: validate throughput on a 2-worker Dask ``LocalCluster`` against ``-j 2`` on the same inputs.

Both run the same small containers with two worker processes (spec/batch.md#executors): ``-j 2`` starts its process
pool per batch, as the command does; the cluster is started once, before timing, as a running cluster is used
(its start is a row of its own). The target: Dask costs at most twice the time of ``-j 2``, its per-task overhead
amortised by chunks of 16 inputs (spec/batch.md#waves).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks._harness import Row, Run, median_time, ratio_row
from hsi_conform.testing.samples import write_sample_container
from hsi_conform.validate import CheckOptions, Content
from hsi_conform.validate.batch import check_many
from hsi_conform.validate.dask_executor import DaskExecutor
from hsi_conform.validate.engine import Policy

NONE = CheckOptions(content=Content.NONE)


def run(r: Run) -> None:
    """Add the batch rows to the run."""
    count = 24 if os.environ.get("BENCH_QUICK") else 600
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(write_sample_container(Path(tmp) / f"s{i}.hsi"), Policy()) for i in range(count)]
        t_pool = median_time(lambda: check_many(jobs, NONE, workers=2), repeat=3)
        t0 = time.perf_counter()
        with DaskExecutor(workers=2, processes=True) as executor:
            started = time.perf_counter() - t0
            t_dask = median_time(lambda: check_many(jobs, NONE, executor=executor), repeat=3)
    r.add(ratio_row("batch", f"validate {count} small containers on a 2-worker Dask LocalCluster", t_dask,
                    "-j 2 (a pool of 2 processes)", t_pool, max_ratio=2.0,
                    note=f"{count / t_dask:.0f} vs {count / t_pool:.0f} containers/s"))
    r.add(Row("batch", "start a 2-worker Dask LocalCluster (once per run)", started, "one -j 2 batch", t_pool))
