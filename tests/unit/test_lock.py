"""Destination locks (hsi_conform._lock): one writer per destination, stale locks taken over."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hsi_conform import _lock
from hsi_conform._lock import lock, lock_path
from hsi_conform.errors import ExitCode, InUseError

posix_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


@contextmanager
def held_elsewhere(dest: Path) -> Iterator[int]:
    """Hold the lock of ``dest`` in a forked process for the block; yield its pid."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            with lock(dest):
                os.write(ready_w, b"1")
                os.read(go_r, 1)
            code = 0
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(go_r)
    try:
        assert os.read(ready_r, 1) == b"1"
        yield pid
    finally:
        os.write(go_w, b"1")
        os.close(go_w)
        os.close(ready_r)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0


def dead_pid() -> int:
    """Return the pid of a process that has ended (and been reaped)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_the_lock_file_lies_beside_the_destination_and_goes_away(tmp_path: Path) -> None:
    dest = tmp_path / "out.hsi"
    with lock(dest) as path:
        assert path == lock_path(dest) == tmp_path / ".out.hsi.lock"
        assert path.read_text(encoding="ascii").strip() == str(os.getpid())
    assert not path.exists()
    assert lock_path(tmp_path / "tree") == tmp_path / ".tree.lock"  # a folder's lock lies beside the folder


@posix_only
def test_a_second_process_is_refused_with_the_owners_pid(tmp_path: Path) -> None:
    dest = tmp_path / "out.hsi"
    with held_elsewhere(dest) as owner:
        with pytest.raises(InUseError) as caught, lock(dest):
            pass
        assert caught.value.pid == owner
        assert caught.value.exit_code is ExitCode.UNWRITABLE
        assert f"in use by pid {owner}" in str(caught.value)
    with lock(dest):  # free again once the owner is done
        pass


@posix_only
def test_the_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    dest = tmp_path / "out.hsi"
    stale = lock_path(dest)
    stale.write_text(f"{dead_pid()}\n", encoding="ascii")  # what a writer killed with SIGKILL leaves
    with lock(dest) as path:
        assert path.read_text(encoding="ascii").strip() == str(os.getpid())
    assert not stale.exists()


@posix_only
def test_a_killed_owner_releases_its_lock(tmp_path: Path) -> None:
    dest = tmp_path / "out.hsi"
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        with lock(dest):
            os.write(ready_w, b"1")
            signal.pause()
        os._exit(1)
    os.close(ready_w)
    assert os.read(ready_r, 1) == b"1"
    os.close(ready_r)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert lock_path(dest).exists()  # left behind ...
    with lock(dest):  # ... and taken over
        pass


def test_the_lock_is_reentrant_for_its_thread_only(tmp_path: Path) -> None:
    dest = tmp_path / "out.hdr"
    errors: list[BaseException] = []

    def other() -> None:
        try:
            with lock(dest):
                pass
        except InUseError as exc:
            errors.append(exc)

    with lock(dest), lock(dest):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert lock_path(dest).exists()
    assert len(errors) == 1 and isinstance(errors[0], InUseError)
    assert not lock_path(dest).exists()


def test_a_lock_file_removed_by_its_owner_meanwhile_is_not_trusted(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "out.hsi"
    real = _lock._try_lock
    calls: list[int] = []

    def owner_finishes_first(fd: int) -> bool:
        if not calls:  # the previous owner removes the file between our open and our lock
            os.unlink(lock_path(dest))
        calls.append(fd)
        return real(fd)

    monkeypatch.setattr(_lock, "_try_lock", owner_finishes_first)
    with lock(dest) as path:
        assert len(calls) == 2  # the first file was stale: locked again at the current path
        assert os.path.samestat(os.stat(path), os.fstat(calls[1]))
