"""Batches on a ``LocalCluster`` of worker processes (spec/batch.md#dask): the smoke test of ``processes=True``.

A worker that dies in the middle of a task (``os._exit``, as an out-of-memory kill would) has its task run again
on another worker by the scheduler; no input is missing from the reports, and they equal those of one process.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hsi_conform.finding import Report
from hsi_conform.testing.samples import write_sample_container
from hsi_conform.validate import CheckOptions
from hsi_conform.validate.batch import check_job, check_many
from hsi_conform.validate.engine import Policy

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

from hsi_conform.validate.dask_executor import DaskExecutor  # noqa: E402

# The workers are other processes: this module's functions travel by value, whatever the workers' sys.path.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _dies_once(marker: Path, victim: str, job: tuple[Path, Policy, CheckOptions]) -> tuple[Report, int]:
    """Check one input, but the first worker to take ``victim`` dies instead (the marker says it happened)."""
    if job[0].name == victim and not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)
    return check_job(job), os.getpid()


@pytest.fixture
def inputs(tmp_path: Path) -> Iterator[list[Path]]:
    paths = [write_sample_container(tmp_path / f"s{i}.hsi", bands=4 + i) for i in range(6)]
    (tmp_path / "s3.hsi").write_bytes((tmp_path / "s3.hsi").read_bytes()[:-30])  # one with findings
    yield paths


@pytest.mark.slow  # starting worker processes and a nanny's restart of the dead one: ~20 s on a busy machine
def test_a_worker_that_dies_loses_no_dataset(inputs: list[Path], tmp_path: Path) -> None:
    jobs = [(p, Policy(), CheckOptions()) for p in inputs]
    marker = tmp_path / "died"
    with DaskExecutor(workers=2, processes=True, chunk=1) as executor:
        done = dict(executor.map_unordered(functools.partial(_dies_once, marker, "s2.hsi"), jobs))
    assert marker.exists()  # a worker did die, holding s2.hsi
    assert sorted(done) == list(range(len(jobs)))
    reports = [done[i][0] for i in range(len(jobs))]
    assert reports == check_many(jobs, CheckOptions())
    assert not reports[3].conformant and all(r.conformant for i, r in enumerate(reports) if i != 3)
    assert int(marker.read_text()) != done[2][1]  # s2.hsi was checked by another worker process
    assert {pid for _, pid in done.values()} - {os.getpid()}  # and never in this process
