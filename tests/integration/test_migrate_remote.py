"""``migrate`` from and to URLs (spec/batch.md#remote-migrate): ``memory://``, ``file://`` and a moto S3 server.

Every remote run is compared with a migration of the local copy of the same tree: the same journal records (but
their time), the same output bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hsi_conform._progress import Progress
from hsi_conform.converters.migrate import iter_journal, migrate
from hsi_conform.errors import ConfigError, ExitCode, Interrupted, InUseError
from hsi_conform.validate.executor import ProcessExecutor
from tests._support import CliRunner, StopAfter
from tests.integration.test_migrate import make_tree, pair

fsspec = pytest.importorskip("fsspec")


def _records(dst: str | Path, storage_options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return sorted(({k: v for k, v in e.items() if k != "time"} for e in iter_journal(dst, storage_options)),
                  key=lambda e: (e["source"], e["status"]))


def _outputs(fs: Any, root: str) -> dict[str, str]:
    """The sha256 of every ``.hsi`` under ``root`` of a filesystem, by relative name."""
    return {p[len(root) + 1:]: hashlib.sha256(fs.cat_file(p)).hexdigest()
            for p in fs.find(root) if p.endswith(".hsi") and "/.hsi-conform/" not in p}


def _local_outputs(root: Path) -> dict[str, str]:
    return _outputs(fsspec.filesystem("file"), root.as_posix())


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The tree of test_migrate (ENVI pairs, legacy folder, container, exported pair, link), migrated locally."""
    src = make_tree(tmp_path / "src")
    assert migrate(src, tmp_path / "local").exit_code == ExitCode.OK
    return src


def test_memory_urls_give_the_records_and_bytes_of_a_local_run(tree: Path, tmp_path: Path,
                                                               memory_bucket: tuple[Any, str]) -> None:
    fs, bucket = memory_bucket
    fs.put(f"{tree}/", f"{bucket}/src", recursive=True)  # no link: an object store has none
    url = f"memory://{bucket}"
    local, expected = _records(tmp_path / "local"), _local_outputs(tmp_path / "local")
    for src, dst in ((f"{url}/src", tmp_path / "from-url"), (tree, f"{url}/to-url"), (f"{url}/src", f"{url}/both")):
        summary = migrate(src, dst)
        assert summary.lines() == migrate(tree, tmp_path / "again").lines()
        assert _records(dst) == local
        outputs = _outputs(fs, f"{bucket}/{str(dst).rsplit('/', 1)[1]}") if isinstance(dst, str) \
            else _local_outputs(dst)
        assert outputs == expected
        (tmp_path / "again" / "migrate-journal.jsonl").unlink()
    assert not fs.exists(f"{bucket}/both/.hsi-conform/lock")  # released
    assert not fs.find(f"{bucket}/both/.hsi-conform/tmp")
    assert sorted(fs.find(f"{bucket}/both/.hsi-conform/journal"))[0].endswith("/000000001.json")
    second = migrate(f"{url}/src", f"{url}/both")  # resume: every output is there, nothing is converted
    assert (second.ok, second.skipped) == (0, 5)
    assert _outputs(fs, f"{bucket}/both") == expected
    chained = migrate(f"{url}/both", tmp_path / "chained")  # a tree migrated into: its journal objects are not listed
    assert (chained.ok, chained.unrecognised) == (5, [])


def test_a_file_url_is_the_local_folder(tree: Path, tmp_path: Path) -> None:
    migrate(f"file://{tree}", f"file://{tmp_path / 'dst'}")
    assert (tmp_path / "dst" / "migrate-journal.jsonl").is_file()  # the local journal, not objects
    assert _records(tmp_path / "dst") == _records(tmp_path / "local")
    assert _local_outputs(tmp_path / "dst") == _local_outputs(tmp_path / "local")


def test_a_dataset_at_the_root_of_a_url_is_named_after_it(tmp_path: Path, memory_bucket: tuple[Any, str]) -> None:
    fs, bucket = memory_bucket
    pair(tmp_path / "run7", "scan", "<f4", 4)  # a legacy folder: the source is one dataset
    fs.put(f"{tmp_path / 'run7'}/", f"{bucket}/run7", recursive=True)
    migrate(tmp_path / "run7", tmp_path / "local")
    migrate(f"memory://{bucket}/run7", tmp_path / "remote")
    assert [e["output"] for e in iter_journal(tmp_path / "remote")] == ["run7.hsi"]
    assert _records(tmp_path / "remote") == _records(tmp_path / "local")


class _Vanish(Progress):
    """Deletes one source object when the executor takes its dataset: it was listed, it cannot be staged."""

    def __init__(self, fs: Any, key: str, dataset: str) -> None:
        super().__init__(0, enabled=False)
        self.fs, self.key, self.dataset = fs, key, dataset

    def start(self, label: str = "") -> None:
        super().start(label)
        if label == self.dataset:
            self.fs.rm_file(self.key)


def test_unreadable_objects_are_error_records_and_the_run_goes_on(tree: Path, tmp_path: Path,
                                                                  memory_bucket: tuple[Any, str]) -> None:
    fs, bucket = memory_bucket
    fs.put(f"{tree}/", f"{bucket}/src", recursive=True)
    summary = migrate(f"memory://{bucket}/src", tmp_path / "dst",
                      progress=_Vanish(fs, f"{bucket}/src/a/scene.img", "a/scene.hdr"))
    by_source = {e["source"]: e for e in iter_journal(tmp_path / "dst")}
    assert by_source["a/scene.hdr"]["status"] == "error"
    assert by_source["a/scene.hdr"]["error"].startswith("cannot read a/scene.img: ")
    assert (summary.ok, summary.failed) == (4, 1) and summary.exit_code == ExitCode.NONCONFORMANT


def test_urls_that_cannot_be_migrated_are_refused_before_anything_is_written(tmp_path: Path,
                                                                             memory_bucket: tuple[Any, str]) -> None:
    fs, bucket = memory_bucket
    (tmp_path / "src").mkdir()
    with pytest.raises(ConfigError, match="is not a folder"):
        migrate(f"memory://{bucket}/missing", f"memory://{bucket}/out")
    with pytest.raises(ConfigError, match="is not a folder"):
        migrate(tmp_path / "missing", f"memory://{bucket}/out")
    with pytest.raises(ConfigError, match="cannot be listed"):
        migrate("https://example.org/tree", tmp_path / "dst")
    with pytest.raises(ConfigError, match="lives in one process"):
        migrate(tmp_path / "src", f"memory://{bucket}/out", executor=ProcessExecutor(2))
    fs.pipe(f"{bucket}/src/x.txt", b"x")
    with pytest.raises(ConfigError, match="lies inside"):
        migrate(f"memory://{bucket}/src", f"memory://{bucket}/src/out")
    assert sorted(fs.find(bucket)) == [f"{bucket}/src/x.txt"] and not (tmp_path / "dst").exists()


def test_a_temp_key_left_by_a_crash_is_swept_and_a_dead_runs_lock_taken_over(tree: Path, tmp_path: Path,
                                                                            memory_bucket: tuple[Any, str]) -> None:
    fs, bucket = memory_bucket
    dst = f"{bucket}/dst"
    fs.pipe(f"{dst}/.hsi-conform/tmp/0123abcd.hsi", b"half an upload")
    dead = _dead_pid()
    fs.pipe(f"{dst}/.hsi-conform/lock", json.dumps({"host": socket.gethostname(), "pid": dead, "run": "old"}).encode())
    assert migrate(tree, f"memory://{dst}").ok == 5
    assert not fs.find(f"{dst}/.hsi-conform/tmp") and not fs.exists(f"{dst}/.hsi-conform/lock")
    fs.pipe(f"{dst}/.hsi-conform/lock", json.dumps({"host": "elsewhere", "pid": 7, "run": "live"}).encode())
    with pytest.raises(InUseError, match="elsewhere"):
        migrate(tree, f"memory://{dst}")
    assert fs.exists(f"{dst}/.hsi-conform/lock")  # someone else's lock is never removed


def _dead_pid() -> int:
    """A pid of this host that no process has (a run that was killed)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


# -- S3 (moto) --------------------------------------------------------------------------------------------------


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """A fresh bucket of the moto server, reached through ``AWS_ENDPOINT_URL`` with fake credentials."""
    s3fs = pytest.importorskip("s3fs")
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": s3_server,
                       "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    fs = s3fs.S3FileSystem(endpoint_url=s3_server, key="testing", secret="testing", skip_instance_cache=True)
    bucket = f"i14-{uuid.uuid4().hex[:8]}"
    fs.mkdir(bucket)
    yield fs, bucket
    fs.rm(bucket, recursive=True)


def test_s3_to_local_local_to_s3_and_s3_to_s3(tree: Path, tmp_path: Path, s3: tuple[Any, str]) -> None:
    fs, bucket = s3
    fs.put(f"{tree}/", f"{bucket}/src", recursive=True)
    local, expected = _records(tmp_path / "local"), _local_outputs(tmp_path / "local")
    assert migrate(f"s3://{bucket}/src", tmp_path / "from-s3").ok == 5
    assert _records(tmp_path / "from-s3") == local and _local_outputs(tmp_path / "from-s3") == expected
    for name, src in (("to-s3", str(tree)), ("both", f"s3://{bucket}/src")):
        assert migrate(src, f"s3://{bucket}/{name}").ok == 5
        fs.invalidate_cache()
        assert _records(f"s3://{bucket}/{name}") == local
        assert _outputs(fs, f"{bucket}/{name}") == expected
        assert not fs.exists(f"{bucket}/{name}/.hsi-conform/lock")




def test_s3_resume_after_an_interrupted_run(tree: Path, tmp_path: Path, s3: tuple[Any, str]) -> None:
    fs, bucket = s3
    dst = f"s3://{bucket}/dst"
    with pytest.raises(Interrupted):
        migrate(tree, dst, progress=StopAfter(2))
    assert len(list(iter_journal(dst))) == 2 and not fs.exists(f"{bucket}/dst/.hsi-conform/lock")
    fs.pipe(f"{bucket}/dst/.hsi-conform/tmp/feed.hsi", b"a temp key a crash left")
    summary = migrate(tree, dst)
    assert (summary.ok, summary.skipped, summary.failed) == (3, 2, 0)
    fs.invalidate_cache()
    assert not fs.find(f"{bucket}/dst/.hsi-conform/tmp")
    assert _outputs(fs, f"{bucket}/dst") == _local_outputs(tmp_path / "local")
    assert len(list(iter_journal(dst))) == 7  # two of the first run, five of the second


def test_s3_failures_are_clear_errors_never_tracebacks(cli: CliRunner, tree: Path, tmp_path: Path, s3: tuple[Any, str],
                                                       s3_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fs, bucket = s3
    fs.pipe(f"{bucket}/odd/x", b"an object")
    fs.pipe(f"{bucket}/odd/x/y.txt", b"an object under a name that is an object: no folder holds both")
    odd = cli(["migrate", f"s3://{bucket}/odd", str(tmp_path / "odd")])
    assert odd.code == ExitCode.NONCONFORMANT and "x/y.txt: cannot read x/y.txt: cannot be a file here" in odd.out
    missing = cli(["migrate", str(tree), f"s3://{bucket}-none/out"])
    assert missing.code == ExitCode.USAGE and "does not exist" in missing.err
    assert cli(["migrate", f"s3://{bucket}/none", str(tmp_path / "d")]).code == ExitCode.USAGE
    unreachable = ["--storage-option", "endpoint_url=http://127.0.0.1:9", "--storage-option",
                   'config_kwargs={"retries": {"max_attempts": 1}, "connect_timeout": 1}']
    down = cli(["migrate", f"s3://{bucket}/src", str(tmp_path / "d"), *unreachable])
    assert down.code == ExitCode.UNREADABLE and f"s3://{bucket}/src" in down.err and "Traceback" not in down.err
    up = cli(["migrate", str(tree), f"s3://{bucket}/out", *unreachable])
    assert up.code == ExitCode.UNWRITABLE and "Traceback" not in up.err
    assert not (tmp_path / "d").exists()
    fs.put(f"{tree}/", f"{bucket}/src", recursive=True)
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # the endpoint from --storage-option alone, in two worker processes
    done = cli(["migrate", "-j", "2", f"s3://{bucket}/src", f"s3://{bucket}/out",
                "--storage-option", f"endpoint_url={s3_server}"])
    assert done.code == ExitCode.OK, done.err
    assert _records(f"s3://{bucket}/out", {"endpoint_url": s3_server}) == _records(tmp_path / "local")


def test_s3_to_s3_on_a_dask_cluster(tree: Path, tmp_path: Path, s3: tuple[Any, str]) -> None:
    distributed = pytest.importorskip("distributed")
    from hsi_conform.validate.dask_executor import DaskExecutor

    fs, bucket = s3
    fs.put(f"{tree}/", f"{bucket}/src", recursive=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client, \
            DaskExecutor(client=client, chunk=1) as executor:
        summary = migrate(f"s3://{bucket}/src", f"s3://{bucket}/dst", executor=executor)
    assert summary.ok == 5
    fs.invalidate_cache()
    assert _records(f"s3://{bucket}/dst") == _records(tmp_path / "local")
    assert _outputs(fs, f"{bucket}/dst") == _local_outputs(tmp_path / "local")


def test_an_upload_is_checked_by_size_and_by_its_md5_etag(tmp_path: Path, s3: tuple[Any, str]) -> None:
    from hsi_conform.converters.migrate_remote import _check_upload

    fs, bucket = s3
    fs.pipe(f"{bucket}/x.hsi", b"the uploaded bytes")
    info = fs.info(f"{bucket}/x.hsi")
    (tmp_path / "same").write_bytes(b"the uploaded bytes")
    (tmp_path / "other").write_bytes(b"the uploaded BYTES")  # same size, other bytes
    _check_upload(info, tmp_path / "same", 18)
    with pytest.raises(OSError, match="MD5"):
        _check_upload(info, tmp_path / "other", 18)
    with pytest.raises(OSError, match="18 bytes uploaded of 19"):
        _check_upload(info, tmp_path / "same", 19)


def test_formats_told_by_their_content_are_found_from_the_heads_alone(tmp_path: Path,
                                                                      memory_bucket: tuple[Any, str]) -> None:
    """A TIFF, an HDF5 file and a container, each larger than the skeleton's head, are discovered from a URL."""
    pytest.importorskip("tifffile")
    pytest.importorskip("h5py")
    from hsi_conform.converters.hsi import HsiConverter
    from hsi_conform.converters.migrate_remote import HEAD
    from hsi_conform.converters.registry import get_converter
    from hsi_conform.testing.scene import SceneSpec, write_scene

    fs, bucket = memory_bucket
    src = tmp_path / "src"
    src.mkdir()
    dataset = HsiConverter().read(write_scene(src / "scene.hsi", SceneSpec(bands=40)))
    get_converter("tiff").write(dataset, src / "scene.tif", {})
    get_converter("hdf5").write(dataset, src / "scene.h5", {})
    assert all(p.stat().st_size > 4 * HEAD for p in src.iterdir())
    fs.put(f"{src}/", f"{bucket}/src", recursive=True)
    local = migrate(src, tmp_path / "local")
    remote = migrate(f"memory://{bucket}/src", tmp_path / "remote")
    assert remote.lines() == local.lines() and (remote.ok, remote.unrecognised) == (3, [])
    assert {e["format"] for e in iter_journal(tmp_path / "remote")} == {"hsi", "tiff", "hdf5"}
    assert _records(tmp_path / "remote") == _records(tmp_path / "local")
    assert _local_outputs(tmp_path / "remote") == _local_outputs(tmp_path / "local")
