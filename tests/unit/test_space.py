"""Room for outputs (hsi_conform._space): free space and the file-size limit, checked, reserved, reported."""

from __future__ import annotations

import errno
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hsi_conform._atomic import AtomicFile, atomic_each, atomic_folder, atomic_unit, publish_bytes
from hsi_conform._space import ensure_room, no_space_error, reserve
from hsi_conform.errors import ExitCode, HsiConformError, NoSpaceError, OutputUnwritableError

#: More than any filesystem has free.
HUGE = 1 << 62


@pytest.fixture
def file_size_limit() -> Iterator[int]:
    """Lower this process's soft file-size limit to 64 KiB for the test (EFBIG is then real)."""
    if sys.platform == "win32":
        pytest.skip("no RLIMIT_FSIZE")
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 10, hard))
    try:
        yield 64 << 10
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_no_space_error_is_an_os_error_with_exit_code_5() -> None:
    error = NoSpaceError("/data/out.hsi", errno.ENOSPC, 10, 5)
    assert isinstance(error, OSError) and isinstance(error, HsiConformError)
    assert (error.errno, error.filename, error.needed, error.available) == (errno.ENOSPC, "/data/out.hsi", 10, 5)
    assert error.exit_code is ExitCode.UNWRITABLE  # an output-side failure (spec/cli.md#destinations)
    again = pickle.loads(pickle.dumps(error))
    assert (again.errno, again.path, again.needed, again.available) == (errno.ENOSPC, "/data/out.hsi", 10, 5)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG, errno.EDQUOT])
def test_full_disk_errors_are_translated(code: int) -> None:
    error = no_space_error(OSError(code, os.strerror(code), "/x/.out.hsi.tmp-1-ab"), "/x/out.hsi")
    assert error is not None and error.errno == code and error.path == "/x/out.hsi"


def test_other_errors_are_not() -> None:
    assert no_space_error(OSError(errno.EACCES, "denied"), "x") is None
    assert no_space_error(ValueError("no"), "x") is None


def test_more_than_the_free_space_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NoSpaceError) as caught:
        ensure_room(tmp_path / "out.h5", HUGE)
    assert caught.value.errno == errno.ENOSPC and caught.value.needed == HUGE
    ensure_room(tmp_path / "out.h5", 1 << 20)


def test_a_destination_in_a_missing_folder_is_unwritable_not_a_builtin_error(tmp_path: Path) -> None:
    with pytest.raises(OutputUnwritableError) as caught:
        ensure_room(tmp_path / "missing" / "out.hsi", 10)
    assert caught.value.errno == errno.ENOENT


def test_more_than_the_file_size_limit_is_refused(tmp_path: Path, file_size_limit: int) -> None:
    with pytest.raises(NoSpaceError) as caught:
        ensure_room(tmp_path / "out.h5", file_size_limit + 1)
    assert caught.value.errno == errno.EFBIG and caught.value.available == file_size_limit


def test_reserve_allocates_the_space_up_front(tmp_path: Path) -> None:
    path = tmp_path / "temp"
    path.write_bytes(b"head")
    reserve(path, 1 << 20)
    assert path.stat().st_size == 1 << 20
    assert path.read_bytes()[:4] == b"head"
    if hasattr(os, "posix_fallocate"):
        assert path.stat().st_blocks * 512 >= 1 << 20  # allocated, not sparse


def test_reserve_refuses_before_allocating(tmp_path: Path) -> None:
    path = tmp_path / "temp"
    path.write_bytes(b"")
    with pytest.raises(NoSpaceError):
        reserve(path, HUGE, dest=tmp_path / "out.h5")
    assert path.stat().st_size == 0


# -- a write that fails for lack of space, through every helper of _atomic ----------------------------------------


def _writers(dest: Path, data: bytes) -> dict[str, Callable[[], object]]:
    def atomic_file() -> None:
        with AtomicFile(dest) as temp:
            temp.file.write(data)

    def each() -> None:
        with atomic_each(dest) as (temp,):
            temp.write_bytes(data)

    def folder() -> None:
        with atomic_folder(dest) as temp:
            (temp / "x").write_bytes(data)

    def unit() -> None:
        with atomic_unit(dest) as temps:
            temps.key.write_bytes(data)

    return {"publish_bytes": lambda: publish_bytes(dest, data), "AtomicFile": atomic_file, "atomic_each": each,
            "atomic_folder": folder, "atomic_unit": unit}


@pytest.mark.parametrize("writer", ["publish_bytes", "AtomicFile", "atomic_each", "atomic_folder", "atomic_unit"])
def test_a_write_past_the_file_size_limit_is_a_no_space_error_and_leaves_nothing(
        tmp_path: Path, file_size_limit: int, writer: str) -> None:
    dest = tmp_path / "out.bin"
    write = _writers(dest, b"x" * (2 * file_size_limit))[writer]
    with pytest.raises(NoSpaceError) as caught:
        write()
    assert caught.value.errno == errno.EFBIG and caught.value.path == str(dest)
    assert list(tmp_path.iterdir()) == []
