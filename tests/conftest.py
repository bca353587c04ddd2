"""Fixtures shared by unit and integration tests (plain helpers are in ``tests/_support.py``)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

# Before the import below, so that a failing assert inside a shared helper shows its values as in a test module.
pytest.register_assert_rewrite("tests._support")

from hsi_conform.cli.main import main  # noqa: E402
from hsi_conform.testing.samples import sample_members, write_members  # noqa: E402
from tests._http import RangeServer  # noqa: E402
from tests._support import CliResult, CliRunner  # noqa: E402


def _exit_code(exc: SystemExit) -> int:
    """The process exit code a ``SystemExit`` stands for (``None`` is success, any other object is 1)."""
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run ``hsi-conform`` in-process: ``cli([...])`` calls ``main(argv)`` and returns code, stdout and stderr."""

    def run(argv: Sequence[str | os.PathLike[str]]) -> CliResult:
        capsys.readouterr()  # what was printed before belongs to no run: each result holds its own output only
        try:
            code = main([os.fspath(arg) for arg in argv])
        except SystemExit as exc:  # argparse exits on a usage error instead of returning
            code = _exit_code(exc)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def sample_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of the sample container (``hsi_conform.testing.samples``), written once per session."""
    path: Path = write_members(tmp_path_factory.mktemp("sample") / "sample.hsi", sample_members())
    return path.read_bytes()


@pytest.fixture
def unlistable(tmp_path: Path) -> Iterator[Path]:
    """A real folder that no one can list (not even root): ``tree/deep/`` nested until its path is too long.

    Yields ``deep``; the folders below it whose path reaches ``PATH_MAX`` (4096 bytes on Linux) cannot be opened
    by name, so the walk meets a genuine ``ENAMETOOLONG``.
    """
    deep = tmp_path / "tree" / "deep"
    deep.mkdir(parents=True)
    fd = os.open(deep, os.O_RDONLY)
    name, length = "d" * 200, len(os.fsencode(deep))
    try:
        while length < 4200:  # long even when a test names the tree by a shorter, relative path
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
            length += len(name) + 1
    finally:
        os.close(fd)
    yield deep
    shutil.rmtree(deep)  # fd-based on Linux, so it copes with the long paths


@pytest.fixture(scope="session")
def http_server() -> Iterator[RangeServer]:
    """A loopback HTTP server with Range support that counts requests and bytes per file (``tests/_http.py``)."""
    server = RangeServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A moto S3 server on a free loopback port, started once per session; yields its endpoint URL.

    Tests that use it set ``AWS_ENDPOINT_URL`` to it (and fake credentials) with ``monkeypatch``.
    """
    moto_server = pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def memory_bucket() -> Iterator[tuple[Any, str]]:
    """A fresh folder of fsspec's ``memory://`` filesystem, as ``(filesystem, "/name")``; removed after the test."""
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    bucket = f"/bucket-{uuid.uuid4().hex[:8]}"
    yield fs, bucket
    if fs.exists(bucket):
        fs.rm(bucket, recursive=True)
