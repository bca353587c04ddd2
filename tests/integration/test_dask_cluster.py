"""Batches on a ``LocalCluster`` of worker processes (spec/batch.md#failures): the smoke test of ``processes=True``.

A worker that dies in the middle of a task (``os._exit``, as an out-of-memory kill would) has its task run again
on another worker by the scheduler: no input is missing from the reports, and they equal those of one process; no
dataset is missing from the migrate journal, and none is there twice.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hsi_conform.converters.migrate import iter_journal, migrate
from hsi_conform.finding import Report
from hsi_conform.testing.samples import write_sample_container
from hsi_conform.validate import CheckOptions
from hsi_conform.validate.batch import check_job, check_many, lost_job
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


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    """Two worker processes, each watched by a nanny that starts a new one when it dies."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
            distributed.Client(c) as cl:
        yield cl


class _DieAtFirstTask(distributed.WorkerPlugin):
    """The first worker to start a task dies on the spot (once in all: the marker file says it happened)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def transition(self, key: object, start: str, finish: str, *args: object, **kwargs: object) -> None:
        if finish == "executing" and not os.path.exists(self.marker):
            Path(self.marker).write_text(str(os.getpid()))
            os._exit(1)


@pytest.fixture
def inputs(tmp_path: Path) -> Iterator[list[Path]]:
    paths = [write_sample_container(tmp_path / f"s{i}.hsi", bands=4 + i) for i in range(6)]
    (tmp_path / "s3.hsi").write_bytes((tmp_path / "s3.hsi").read_bytes()[:-30])  # one with findings
    yield paths


@pytest.mark.slow  # starting worker processes and a nanny's restart of the dead one: ~20 s on a busy machine
def test_a_worker_that_dies_loses_no_report(inputs: list[Path], tmp_path: Path, client: distributed.Client) -> None:
    jobs = [(p, Policy(), CheckOptions()) for p in inputs]
    marker = tmp_path / "died"
    with DaskExecutor(client=client, chunk=1) as executor:
        done = dict(executor.map_unordered(functools.partial(_dies_once, marker, "s2.hsi"), jobs))
    assert marker.exists()  # a worker did die, holding s2.hsi
    assert sorted(done) == list(range(len(jobs)))
    reports = [done[i][0] for i in range(len(jobs))]
    assert reports == check_many(jobs, CheckOptions())
    assert not reports[3].conformant and all(r.conformant for i, r in enumerate(reports) if i != 3)
    assert int(marker.read_text()) != done[2][1]  # s2.hsi was checked by another worker process
    assert {pid for _, pid in done.values()} - {os.getpid()}  # and never in this process


HDR = ("ENVI\nsamples = 64\nlines = 64\nbands = 16\nheader offset = 0\nfile type = ENVI Standard\n"
       "data type = 12\ninterleave = bil\nbyte order = 0\nwavelength units = nm\n")


@pytest.mark.slow  # shares the cluster above: the nanny's restart of the dead worker
def test_a_worker_that_dies_loses_no_journal_record(tmp_path: Path, client: distributed.Client) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(6):
        (src / f"p{i}.img").write_bytes((np.arange(64 * 64 * 16, dtype="<u2") + i).tobytes())
        (src / f"p{i}.hdr").write_text(HDR)
    marker = tmp_path / "died"
    client.register_plugin(_DieAtFirstTask(str(marker)), name="die-at-first-task")
    try:
        with DaskExecutor(client=client) as executor:
            summary = migrate(src, tmp_path / "dst", executor=executor)
    finally:
        client.unregister_worker_plugin("die-at-first-task")
    assert marker.exists()  # a worker died holding a dataset
    records = list(iter_journal(tmp_path / "dst"))
    assert sorted(r["source"] for r in records) == [f"p{i}.hdr" for i in range(6)]  # each once
    assert {r["status"] for r in records} == {"ok"} and summary.ok == 6
    assert sorted(p.name for p in (tmp_path / "dst").iterdir()) == sorted(
        [f"p{i}.hsi" for i in range(6)] + ["migrate-journal.jsonl"])


def _always_dies(victim: str, job: tuple[Path, Policy, CheckOptions]) -> Report:
    """Check one input, but a worker that takes ``victim`` always dies (as on a file that exhausts its memory)."""
    if job[0].name == victim:
        os._exit(1)
    return check_job(job)


def _allowed_failures(dask_scheduler: Any, n: int) -> int:
    before: int = dask_scheduler.allowed_failures
    dask_scheduler.allowed_failures = n
    return before


@pytest.mark.slow  # two worker deaths and restarts
def test_an_input_that_kills_every_worker_is_reported_not_lost(inputs: list[Path], client: distributed.Client) -> None:
    """spec/batch.md#failures: the scheduler gives up on the task (KilledWorker); the batch goes on without it."""
    jobs = [(p, Policy(), CheckOptions()) for p in inputs[:4]]
    before = client.run_on_scheduler(_allowed_failures, n=0)  # give up at the first death: a fast test
    try:
        with DaskExecutor(client=client, chunk=2) as executor:
            done = dict(executor.map_unordered(functools.partial(_always_dies, "s1.hsi"), jobs, on_lost=lost_job))
    finally:
        client.run_on_scheduler(_allowed_failures, n=before)
    assert sorted(done) == [0, 1, 2, 3]
    expected = check_many(jobs, CheckOptions())
    # s0, its partner in the task, is retried alone; with no failure allowed, a task the scheduler had placed on
    # the same worker when it died is lost with it (collateral, never silently): reported as not checked
    died = "could not be checked: every worker that ran it died"
    for i in (0, 2, 3):
        assert done[i] == expected[i] or (done[i].path == str(inputs[i]) and died in (done[i].input_error or ""))
    assert any(done[i] == expected[i] for i in (0, 2, 3))
    lost = done[1]
    assert lost.path == str(inputs[1]) and not lost.conformant
    assert lost.input_error is not None and "could not be checked: every worker that ran it died" in lost.input_error


@pytest.mark.slow  # worker processes (the module's cluster) and a moto server
def test_migrate_s3_on_worker_processes_with_the_runs_storage_options(tmp_path: Path, client: distributed.Client,
                                                                     s3_server: str) -> None:
    """spec/batch.md#remote-migrate: the storage options travel with each task; the workers have no AWS settings."""
    s3fs = pytest.importorskip("s3fs")
    options = {"endpoint_url": s3_server, "key": "testing", "secret": "testing"}
    fs = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    bucket = f"i14-procs-{os.getpid()}"
    fs.mkdir(bucket)
    src = tmp_path / "src"
    for i in range(3):
        (src / f"d{i}").mkdir(parents=True)
        write_sample_container(src / f"d{i}" / f"s{i}.hsi", bands=3 + i)
    fs.put(f"{src}/", f"{bucket}/src", recursive=True)
    try:
        with DaskExecutor(client=client, chunk=1) as executor:
            summary = migrate(f"s3://{bucket}/src", f"s3://{bucket}/dst", executor=executor, storage_options=options)
        assert summary.ok == 3, summary.lines()
        migrate(src, tmp_path / "local")
        fs.invalidate_cache()
        remote = sorted(({k: v for k, v in e.items() if k != "time"}
                         for e in iter_journal(f"s3://{bucket}/dst", options)), key=lambda e: e["source"])
        local = sorted(({k: v for k, v in e.items() if k != "time"}
                        for e in iter_journal(tmp_path / "local")), key=lambda e: e["source"])
        assert remote == local
        for e in local:
            assert fs.cat_file(f"{bucket}/dst/{e['output']}") == (tmp_path / "local" / e["output"]).read_bytes()
    finally:
        fs.rm(bucket, recursive=True)
