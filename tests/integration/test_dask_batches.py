"""``validate`` and ``migrate`` on Dask (spec/batch.md): the command line against a running scheduler.

The scheduler and its two workers are a ``LocalCluster(processes=False)`` of this process, reached by its TCP
address as a real cluster would be (``--scheduler``); the command's client is its own. The worker-process smoke test
is tests/integration/test_dask_cluster.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hsi_conform.converters.migrate import iter_journal, migrate
from hsi_conform.errors import ExitCode, Interrupted
from hsi_conform.testing.samples import write_sample_container
from tests._http import RangeServer
from tests._support import CliRunner, StopAfter

distributed = pytest.importorskip("distributed")

from hsi_conform.validate.dask_executor import DaskExecutor  # noqa: E402

HDR = ("ENVI\nsamples = 5\nlines = 4\nbands = 3\nheader offset = 0\nfile type = ENVI Standard\n"
       "data type = 12\ninterleave = bil\nbyte order = 0\nwavelength units = nm\nwavelength = {400, 500, 600}\n")


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.Client]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                dashboard_address=None) as c, \
            distributed.Client(c) as client:
        yield client


@pytest.fixture
def address(cluster: distributed.Client) -> str:
    return str(cluster.scheduler.address)


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Five containers (one cut short, one without its wavelengths' units), a missing name, in the working folder."""
    monkeypatch.chdir(tmp_path)
    for i in range(4):
        write_sample_container(tmp_path / f"s{i}.hsi", bands=3 + i)
    (tmp_path / "cut.hsi").write_bytes((tmp_path / "s1.hsi").read_bytes()[:-40])
    return ["s0.hsi", "cut.hsi", "s1.hsi", "missing.hsi", "s2.hsi", "s3.hsi"]


def _files(out: str) -> list[dict[str, Any]]:
    return list(json.loads(out)["files"])


def test_validate_on_a_scheduler_equals_one_process(cli: CliRunner, inputs: list[str], address: str) -> None:
    one = cli(["validate", "--format", "json", "--content", "crc", *inputs])
    dask = cli(["validate", "--scheduler", address, "--format", "json", "--content", "crc", *inputs])
    assert one.code == dask.code == ExitCode.UNREADABLE
    assert [f["path"] for f in _files(dask.out)] == inputs  # input order, whatever order they finished in
    assert dask.out == one.out
    text = cli(["validate", "--executor", "dask", "--scheduler", address, *inputs])
    assert text.out == cli(["validate", *inputs]).out  # the summary table too


def test_the_configuration_chooses_dask(cli: CliRunner, inputs: list[str], address: str, tmp_path: Path) -> None:
    (tmp_path / "hsi-conform.toml").write_text(f'executor = "dask"\nscheduler = "{address}"\n')
    done = cli(["validate", "--format", "json", *inputs])
    assert [f["path"] for f in _files(done.out)] == inputs
    (tmp_path / "hsi-conform.toml").write_text('executor = "spark"\n')
    bad = cli(["validate", *inputs])
    assert bad.code == ExitCode.USAGE and "'executor' must be one of processes, dask" in bad.err


def test_scheduler_without_dask_is_a_usage_error(cli: CliRunner, inputs: list[str]) -> None:
    done = cli(["validate", "--executor", "processes", "--scheduler", "tcp://127.0.0.1:8786", *inputs])
    assert done.code == ExitCode.USAGE and "--scheduler needs --executor dask" in done.err


def test_workers_read_urls(cli: CliRunner, inputs: list[str], address: str, http_server: RangeServer) -> None:
    urls = [http_server.serve(Path(name)) for name in inputs if name != "missing.hsi"]
    urls.insert(2, urls[0].rsplit("/", 1)[0] + "/not-served.hsi")
    one = cli(["validate", "--format", "json", *urls])
    dask = cli(["validate", "--scheduler", address, "--format", "json", *urls])
    assert dask.out == one.out and dask.code == one.code == ExitCode.UNREADABLE
    assert [f["path"] for f in _files(dask.out)] == urls


def _tree(root: Path, pairs: int) -> Path:
    for i in range(pairs):
        folder = root / f"d{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"p{i}.img").write_bytes((np.arange(60, dtype="<u2") + i).tobytes())
        (folder / f"p{i}.hdr").write_text(HDR)
    (root / "c").mkdir()
    write_sample_container(root / "c" / "sample.hsi")
    (root / "c" / "broken.hsi").write_bytes(b"PK\x03\x04 not a container")
    return root


def _records(dst: Path) -> list[dict[str, Any]]:
    return sorted(({k: v for k, v in e.items() if k != "time"} for e in iter_journal(dst)),
                  key=lambda e: (e["source"], e["status"]))


def test_migrate_on_dask_journals_what_one_process_does(tmp_path: Path, cluster: distributed.Client) -> None:
    src = _tree(tmp_path / "src", 7)
    one = migrate(src, tmp_path / "one")
    with DaskExecutor(client=cluster, chunk=1) as executor:
        dask = migrate(src, tmp_path / "dask", executor=executor)
    assert dask.lines() == one.lines()
    assert (dask.ok, dask.failed) == (8, 1)
    assert _records(tmp_path / "dask") == _records(tmp_path / "one")
    assert sorted(p.name for p in (tmp_path / "dask").rglob("*.hsi")) == \
        sorted(p.name for p in (tmp_path / "one").rglob("*.hsi"))




def test_migrate_resumes_on_dask(tmp_path: Path, cluster: distributed.Client) -> None:
    src, dst = _tree(tmp_path / "src", 9), tmp_path / "dst"
    with DaskExecutor(client=cluster, chunk=1, window=2) as executor, pytest.raises(Interrupted):
        migrate(src, dst, executor=executor, progress=StopAfter(3))
    first = list(iter_journal(dst))
    assert len(first) == 3  # one record per finished dataset, written as it finished
    with DaskExecutor(client=cluster, chunk=2) as executor:
        summary = migrate(src, dst, executor=executor)
    done = {e["source"] for e in first if e["status"] == "ok"}
    assert summary.skipped == len(done) and summary.ok + summary.skipped == 10 and summary.failed == 1
    records = list(iter_journal(dst))[3:]
    assert {e["source"] for e in records if e["status"] == "skipped"} == done
    assert len(records) == 11  # every dataset of the tree, once, in the second run


def test_migrate_command_on_a_scheduler(cli: CliRunner, tmp_path: Path, address: str) -> None:
    src = _tree(tmp_path / "src", 4)
    done = cli(["migrate", "--scheduler", address, str(src), str(tmp_path / "dst")])
    assert done.code == ExitCode.NONCONFORMANT  # broken.hsi failed
    assert "migrated: 5 ok, 0 skipped (already done), 1 failed" in done.out
    assert len(list(iter_journal(tmp_path / "dst"))) == 6
