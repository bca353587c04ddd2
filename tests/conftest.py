"""Fixtures shared by unit and integration tests (plain helpers are in ``tests/_support.py``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

# Before the import below, so that a failing assert inside a shared helper shows its values as in a test module.
pytest.register_assert_rewrite("tests._support")

from hsi_conform.cli.main import main  # noqa: E402
from hsi_conform.testing.samples import sample_members, write_members  # noqa: E402
from tests._paths import ROOT  # noqa: E402
from tests._support import CliResult, CliRunner, missing_entry_points, write_entry_points  # noqa: E402


def _exit_code(exc: SystemExit) -> int:
    """The process exit code a ``SystemExit`` stands for (``None`` is success, any other object is 1)."""
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


@pytest.fixture(scope="session", autouse=True)
def declared_entry_points(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Let Python find every entry point ``pyproject.toml`` declares, also those the installed metadata lacks.

    The tests then exercise the checkout's declarations (``engine="hsi"`` of xarray included) even in an editable
    install made before an entry point was added. With current metadata nothing is added: only the missing ones
    are, so nothing is registered twice.
    """
    missing = missing_entry_points(ROOT / "pyproject.toml")
    if not missing:
        yield
        return
    folder = str(write_entry_points(tmp_path_factory.mktemp("entry-points"), missing))
    sys.path.append(folder)  # appended: the real distribution's metadata still comes first
    _forget_xarray_engines()
    yield
    sys.path.remove(folder)
    _forget_xarray_engines()


def _forget_xarray_engines() -> None:
    plugins = sys.modules.get("xarray.backends.plugins")
    if plugins is not None:
        plugins.list_engines.cache_clear()  # xarray caches the engines it found


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
