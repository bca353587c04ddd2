from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hsi_conform._atomic import (
    ASIDE_NAME,
    AtomicFile,
    atomic_each,
    atomic_folder,
    atomic_path,
    is_temp_name,
    publish_bytes,
    publish_text,
    sweep_temps,
    temp_name,
)


def temps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if is_temp_name(p.name))


@pytest.fixture
def umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# -- single files -----------------------------------------------------------------------------------------------

def test_publish_bytes_creates_and_replaces(tmp_path: Path, umask: int) -> None:
    dest = tmp_path / "out.bin"
    assert publish_bytes(dest, b"first") == dest
    assert dest.read_bytes() == b"first"
    assert dest.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    publish_bytes(dest, memoryview(b"second"))
    assert dest.read_bytes() == b"second"
    assert temps(tmp_path) == []


def test_publish_text_keeps_line_endings(tmp_path: Path) -> None:
    dest = tmp_path / "report.txt"
    publish_text(dest, "a\nb\r\nä\n")
    assert dest.read_bytes() == "a\nb\r\nä\n".encode()


def test_publish_text_that_cannot_be_encoded_writes_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "report.txt"
    dest.write_text("old", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        publish_text(dest, "ä", encoding="ascii")
    assert dest.read_text(encoding="utf-8") == "old"
    assert temps(tmp_path) == []


def test_atomic_path_publishes_what_was_written_by_name(tmp_path: Path) -> None:
    dest = tmp_path / "cube.h5"
    with atomic_path(dest) as tmp:
        assert tmp.parent == tmp_path
        assert is_temp_name(tmp.name)
        assert tmp.read_bytes() == b""  # reserved, empty
        assert not dest.exists()
        tmp.write_bytes(b"payload")
    assert dest.read_bytes() == b"payload"
    assert temps(tmp_path) == []


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_atomic_path_exception_leaves_destination_untouched(tmp_path: Path, error: type[BaseException]) -> None:
    dest = tmp_path / "out.tif"
    dest.write_bytes(b"OLD")
    with pytest.raises(error), atomic_path(dest) as tmp:
        tmp.write_bytes(b"NEW, half written")
        raise error()
    assert dest.read_bytes() == b"OLD"
    assert temps(tmp_path) == []


@pytest.mark.parametrize("error", [OSError, KeyboardInterrupt])
def test_atomic_file_exception_leaves_no_destination_and_no_temp(tmp_path: Path, error: type[BaseException]) -> None:
    dest = tmp_path / "x.hsi"
    with pytest.raises(error), AtomicFile(dest) as temp:
        temp.file.write(b"PK\x03\x04")
        raise error()
    assert not dest.exists()
    assert temps(tmp_path) == []


def test_atomic_file_publish_and_discard_are_final(tmp_path: Path) -> None:
    dest = tmp_path / "x.hsi"
    temp = AtomicFile(dest)
    temp.file.write(b"new")
    temp.sync()
    assert temp.file.closed
    temp.publish()
    temp.discard()  # after publish: nothing to remove
    assert dest.read_bytes() == b"new"
    with pytest.raises(RuntimeError):
        temp.publish()
    other = AtomicFile(dest)
    other.discard()
    other.discard()
    assert dest.read_bytes() == b"new"
    assert temps(tmp_path) == []


def test_failed_rename_removes_the_temp(tmp_path: Path) -> None:
    dest = tmp_path / "taken"
    (dest / "inside").mkdir(parents=True)  # a file cannot replace a non-empty folder
    with pytest.raises(OSError), atomic_path(dest) as tmp:
        tmp.write_bytes(b"data")
    assert (dest / "inside").is_dir()
    assert temps(tmp_path) == []


def test_missing_destination_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        publish_bytes(tmp_path / "missing" / "x.bin", b"")


# -- groups of files ----------------------------------------------------------------------------------------------

def test_atomic_each_publishes_every_file(tmp_path: Path) -> None:
    img, hdr = tmp_path / "x.img", tmp_path / "x.hdr"
    with atomic_each(img, hdr) as (tmp_img, tmp_hdr):
        tmp_img.write_bytes(b"cube")
        tmp_hdr.write_bytes(b"ENVI\n")
        assert not img.exists() and not hdr.exists()
    assert (img.read_bytes(), hdr.read_bytes()) == (b"cube", b"ENVI\n")
    assert temps(tmp_path) == []


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_atomic_each_exception_publishes_nothing(tmp_path: Path, error: type[BaseException]) -> None:
    img, hdr = tmp_path / "x.img", tmp_path / "x.hdr"
    img.write_bytes(b"old cube")
    with pytest.raises(error), atomic_each(img, hdr) as (tmp_img, tmp_hdr):
        tmp_img.write_bytes(b"new cube")
        tmp_hdr.write_bytes(b"ENVI\n")
        raise error()
    assert img.read_bytes() == b"old cube"
    assert not hdr.exists()
    assert temps(tmp_path) == []


def test_atomic_each_publishes_in_order_up_to_a_failing_rename(tmp_path: Path) -> None:
    first, blocked, last = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    (blocked / "inside").mkdir(parents=True)
    with pytest.raises(OSError), atomic_each(first, blocked, last) as paths:
        for p in paths:
            p.write_bytes(b"new")
    assert first.read_bytes() == b"new"
    assert (blocked / "inside").is_dir()
    assert not last.exists()
    assert temps(tmp_path) == []


def test_atomic_each_refuses_a_destination_twice(tmp_path: Path) -> None:
    with pytest.raises(ValueError), atomic_each(tmp_path / "a", tmp_path / "." / "a"):
        pass
    assert list(tmp_path.iterdir()) == []


# -- folders ------------------------------------------------------------------------------------------------------

def fill(folder: Path, content: str) -> None:
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    (folder / "sub" / "file.txt").write_text(content, encoding="utf-8")


@pytest.mark.parametrize("existing", ["missing", "empty", "full"])
def test_atomic_folder_publishes(tmp_path: Path, existing: str) -> None:
    dest = tmp_path / "out.d"
    if existing != "missing":
        dest.mkdir()
    if existing == "full":
        fill(dest, "old")
        (dest / "stale.txt").write_text("only in the old folder", encoding="utf-8")
    with atomic_folder(dest) as tmp:
        assert tmp.parent == tmp_path and is_temp_name(tmp.name)
        assert list(tmp.iterdir()) == []
        fill(tmp, "new")
    assert (dest / "sub" / "file.txt").read_text(encoding="utf-8") == "new"
    assert not (dest / "stale.txt").exists()
    assert temps(tmp_path) == []


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_atomic_folder_exception_keeps_the_old_folder(tmp_path: Path, error: type[BaseException]) -> None:
    dest = tmp_path / "out.d"
    fill(dest, "old")
    with pytest.raises(error), atomic_folder(dest) as tmp:
        fill(tmp, "new")
        raise error()
    assert (dest / "sub" / "file.txt").read_text(encoding="utf-8") == "old"
    assert temps(tmp_path) == []


def test_atomic_folder_onto_a_file_raises_and_keeps_it(tmp_path: Path) -> None:
    dest = tmp_path / "out.d"
    dest.write_bytes(b"a file")
    with pytest.raises(OSError), atomic_folder(dest) as tmp:
        fill(tmp, "new")
    assert dest.read_bytes() == b"a file"
    assert temps(tmp_path) == []


# -- temp names and the sweep -------------------------------------------------------------------------------------

def test_temp_names_are_recognised(tmp_path: Path) -> None:
    name = temp_name(tmp_path / "x.hsi").name
    assert name.startswith(f".x.hsi.tmp-{os.getpid()}-")
    assert is_temp_name(name)
    assert temp_name(tmp_path / "x.hsi") != temp_name(tmp_path / "x.hsi")
    # the names earlier versions used, so a sweep cleans up after them too
    assert is_temp_name(".x.hsi.tmp-1a2b3c4d") and is_temp_name(".x.hsi.tmp-4242")


@pytest.mark.parametrize("name", ["x.hsi", ".x.hsi", ".x.hsi.tmp", "x.hsi.tmp-1-ab", ".x.hsi.tmp-1-XY",
                                  ".x.hsi.tmp-", ".tmp-1-ab", ".x.hsi.tmp-1-ab.bak"])
def test_other_names_are_not_temp_names(name: str) -> None:
    assert not is_temp_name(name)


def test_sweep_removes_temps_only(tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    fill(keep, "kept")
    (tmp_path / "x.hsi").write_bytes(b"published")
    temp_file = temp_name(tmp_path / "x.hsi")
    temp_file.write_bytes(b"partial")
    temp_folder = temp_name(keep / "out.d")
    fill(temp_folder, "partial")
    link = temp_name(tmp_path / "link")
    link.symlink_to(keep, target_is_directory=True)
    removed = sweep_temps(tmp_path)
    assert sorted(removed) == sorted([temp_file, temp_folder, link])
    assert not temp_file.exists() and not temp_folder.exists() and not link.is_symlink()
    assert (keep / "sub" / "file.txt").read_text(encoding="utf-8") == "kept"  # the link was not followed
    assert (tmp_path / "x.hsi").read_bytes() == b"published"
    assert sweep_temps(tmp_path) == []


# -- a writer killed with SIGKILL ---------------------------------------------------------------------------------

_CHILD = textwrap.dedent("""
    import sys
    from hsi_conform._atomic import AtomicFile

    dest, mode = sys.argv[1], sys.argv[2]
    chunk = b"N" * (1 << 20)
    temp = AtomicFile(dest)
    temp.file.write(chunk)
    if mode == "synced":
        temp.file.write(chunk)
        temp.sync()
    print(temp.path, flush=True)
    sys.stdin.read()  # wait for the kill
    temp.publish()
""")

_LOOP = textwrap.dedent("""
    import sys
    from hsi_conform._atomic import publish_bytes

    dest, size = sys.argv[1], int(sys.argv[2])
    n = 0
    while True:
        publish_bytes(dest, (b"AB"[n % 2:n % 2 + 1]) * size)
        n += 1
        print(n, flush=True)
""")


def start(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("mode", ["writing", "synced"])
def test_sigkill_before_the_rename_keeps_the_old_file(tmp_path: Path, mode: str) -> None:
    dest = tmp_path / "x.hsi"
    dest.write_bytes(b"OLD")
    proc = start(_CHILD, str(dest), mode)
    assert proc.stdout is not None
    temp = Path(proc.stdout.readline().strip())
    kill(proc)
    assert dest.read_bytes() == b"OLD"
    assert temps(tmp_path) == [temp.name]  # left behind, and recognised
    assert sweep_temps(tmp_path) == [temp]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.hsi"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_at_any_moment_leaves_old_or_new_never_partial(tmp_path: Path) -> None:
    dest = tmp_path / "x.hsi"
    size = 4 << 20
    proc = start(_LOOP, str(dest), str(size))
    assert proc.stdout is not None
    for _ in range(3):  # killed somewhere inside its fourth publish
        assert proc.stdout.readline().strip()
    kill(proc)
    data = dest.read_bytes()
    assert len(data) == size
    assert data in (b"A" * size, b"B" * size)
    sweep_temps(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.hsi"]


def _crash_between_the_two_renames(tmp_path: Path) -> Path:
    """The state a kill leaves inside atomic_folder's replacement of a non-empty folder: old aside, new in temp."""
    dest = tmp_path / "out.d"
    aside = dest.with_name(".out.d.aside-4242-00ff")
    aside.mkdir()
    (aside / "old.txt").write_text("old", encoding="utf-8")
    new = dest.with_name(".out.d.tmp-4242-0aff")
    new.mkdir()
    (new / "new.txt").write_text("new", encoding="utf-8")
    return dest


def test_sweep_puts_an_old_folder_back_when_the_crash_left_no_destination(tmp_path: Path) -> None:
    dest = _crash_between_the_two_renames(tmp_path)
    sweep_temps(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.d"]
    assert (dest / "old.txt").read_text(encoding="utf-8") == "old"


def test_sweep_drops_the_old_folder_once_the_new_one_is_published(tmp_path: Path) -> None:
    dest = _crash_between_the_two_renames(tmp_path)
    (tmp_path / ".out.d.tmp-4242-0aff").rename(dest)
    sweep_temps(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.d"]
    assert [p.name for p in dest.iterdir()] == ["new.txt"]


def test_replacing_a_folder_moves_the_old_one_aside_under_the_aside_name(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "out.d"
    dest.mkdir()
    (dest / "old.txt").write_text("old", encoding="utf-8")
    seen: list[str] = []
    real_rename = os.rename

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append(Path(dst).name)
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", spy)
    with atomic_folder(dest) as tmp:
        (tmp / "new.txt").write_text("new", encoding="utf-8")
    assert ASIDE_NAME.fullmatch(seen[0]) and not is_temp_name(seen[0])
    assert [p.name for p in tmp_path.iterdir()] == ["out.d"]
