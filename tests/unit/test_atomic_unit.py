"""Units published key last, renames that a signal cannot cut, and leftovers swept per destination (_atomic)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from hsi_conform import _signals
from hsi_conform._atomic import (
    ASIDE_NAME,
    AtomicFile,
    atomic_each,
    atomic_unit,
    is_temp_name,
    publish_bytes,
    sweep_beside,
    temp_name,
)
from hsi_conform.errors import Interrupted

posix_signals = pytest.mark.skipif(not hasattr(signal, "SIGHUP") or not hasattr(os, "fork"),
                                   reason="POSIX signals and fork")


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``folder`` by relative path (folders map to None)."""
    return {p.relative_to(folder).as_posix(): None if p.is_dir() else p.read_bytes()
            for p in sorted(folder.rglob("*"))}


def old_unit(folder: Path) -> dict[str, bytes | None]:
    (folder / "x.img").write_bytes(b"old data")
    (folder / "x.hsi.d").mkdir()
    (folder / "x.hsi.d" / "old.txt").write_bytes(b"old member")
    (folder / "x.hdr").write_bytes(b"old header")
    return snapshot(folder)


def write_new(temps: tuple[Path, tuple[Path, ...], tuple[Path, ...]]) -> None:
    key, files, folders = temps
    files[0].write_bytes(b"new data")
    (folders[0] / "new.txt").write_bytes(b"new member")
    key.write_bytes(b"new header")


NEW = {"x.hdr": b"new header", "x.hsi.d": None, "x.hsi.d/new.txt": b"new member", "x.img": b"new data"}


def publish(folder: Path) -> None:
    with atomic_unit(folder / "x.hdr", files=[folder / "x.img"], folders=[folder / "x.hsi.d"]) as temps:
        write_new(temps)


def record_renames(monkeypatch: pytest.MonkeyPatch, hook: Callable[[str, str], None] | None = None) -> list[str]:
    """Record, in order, which destination each rename, replace or unlink touches."""
    seen: list[str] = []
    for name in ("rename", "replace", "unlink"):
        real = getattr(os, name)

        def spy(*args: object, _real: Callable[..., None] = real, _name: str = name, **kwargs: object) -> None:
            if not kwargs:  # rmtree's unlinks inside a folder (dir_fd=...) are not steps of the unit
                target = Path(str(args[-1] if _name != "unlink" else args[0])).name
                seen.append(f"{_name} {target}")
                if hook is not None:
                    hook(_name, target)
            _real(*args, **kwargs)

        monkeypatch.setattr(os, name, spy)
    return seen


def test_a_unit_replaces_the_old_one_whole(tmp_path: Path) -> None:
    old_unit(tmp_path)
    publish(tmp_path)
    assert snapshot(tmp_path) == NEW


def test_the_key_goes_first_and_comes_back_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old_unit(tmp_path)
    seen = record_renames(monkeypatch)
    publish(tmp_path)
    steps = [s for s in seen if not ASIDE_NAME.fullmatch(s.split()[1]) and not is_temp_name(s.split()[1])]
    assert steps[0] == "unlink x.hdr"  # readers find no unit from here on ...
    assert steps[-1] == "replace x.hdr"  # ... until every other part is in place
    # the folder: a replace that fails on the non-empty old folder, then a rename after moving that aside
    assert set(steps[1:-1]) == {"replace x.img", "replace x.hsi.d", "rename x.hsi.d"}


def test_an_error_inside_the_block_publishes_nothing(tmp_path: Path) -> None:
    before = old_unit(tmp_path)
    with pytest.raises(RuntimeError), atomic_unit(tmp_path / "x.hdr", files=[tmp_path / "x.img"],
                                                  folders=[tmp_path / "x.hsi.d"]) as temps:
        write_new(temps)
        raise RuntimeError("writer failed")
    assert snapshot(tmp_path) == before


def test_a_failure_while_publishing_leaves_the_key_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old_unit(tmp_path)

    def fail_on_data(name: str, target: str) -> None:
        if name == "replace" and target == "x.img":
            raise OSError("I/O error")

    record_renames(monkeypatch, fail_on_data)
    with pytest.raises(OSError, match="I/O error"):
        publish(tmp_path)
    files = snapshot(tmp_path)
    assert "x.hdr" not in files and files["x.img"] == b"old data"
    assert not [n for n in files if is_temp_name(n.split("/")[0])]


def test_drop_removes_a_part_the_new_unit_does_not_have(tmp_path: Path) -> None:
    old_unit(tmp_path)
    with atomic_unit(tmp_path / "x.hdr", files=[tmp_path / "x.img"], drop=[tmp_path / "x.hsi.d"]) as temps:
        temps.files[0].write_bytes(b"pair only")
        temps.key.write_bytes(b"new header")
    assert snapshot(tmp_path) == {"x.hdr": b"new header", "x.img": b"pair only"}


def test_the_same_destination_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError), atomic_unit(tmp_path / "x.hdr", files=[tmp_path / "x.hdr"]):
        pass


# -- signals during publishing ------------------------------------------------------------------------------------


@posix_signals
def test_a_signal_during_the_renames_waits_until_the_unit_is_whole(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    old_unit(tmp_path)

    def signal_on_data(name: str, target: str) -> None:
        if name == "replace" and target == "x.img":
            os.kill(os.getpid(), signal.SIGTERM)

    record_renames(monkeypatch, signal_on_data)
    with _signals.handlers(), pytest.raises(Interrupted):
        publish(tmp_path)
    assert snapshot(tmp_path) == NEW


@posix_signals
def test_a_signal_before_the_renames_publishes_nothing(tmp_path: Path) -> None:
    before = old_unit(tmp_path)
    unit = atomic_unit(tmp_path / "x.hdr", files=[tmp_path / "x.img"], folders=[tmp_path / "x.hsi.d"])
    with _signals.handlers(), pytest.raises(Interrupted), unit as temps:
        write_new(temps)
        with _signals.shielded():  # arrives while the data is written; raised at the next checkpoint
            os.kill(os.getpid(), signal.SIGINT)
    assert snapshot(tmp_path) == before


@posix_signals
@pytest.mark.parametrize("writer", ["publish_bytes", "atomic_each"])
def test_single_files_are_not_published_after_a_signal(tmp_path: Path, writer: str) -> None:
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    with _signals.handlers(), pytest.raises(Interrupted):
        with _signals.shielded():
            os.kill(os.getpid(), signal.SIGHUP)
        if writer == "publish_bytes":
            publish_bytes(dest, b"new")
        else:
            with atomic_each(dest) as (temp,):
                temp.write_bytes(b"new")
    assert snapshot(tmp_path) == {"out.bin": b"old"}


# -- leftovers of writers that no longer run ----------------------------------------------------------------------


def dead_pid() -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_sweep_beside_removes_only_dead_writers_leftovers_of_its_destinations(tmp_path: Path) -> None:
    dead = dead_pid()
    mine = AtomicFile(tmp_path / "out.hsi")  # a live writer's temp (this process)
    leftovers = [tmp_path / f".out.hsi.tmp-{dead}-00aa", tmp_path / ".out.hsi.tmp-00bb"]  # the second: no pid
    for path in leftovers:
        path.write_bytes(b"partial")
    other = tmp_path / f".other.hsi.tmp-{dead}-00cc"
    other.write_bytes(b"another destination's")
    folder = tmp_path / f".x.hsi.d.tmp-{dead}-00dd"
    (folder / "sub").mkdir(parents=True)
    removed = sweep_beside(tmp_path / "out.hsi", tmp_path / "x.hsi.d")
    assert sorted(removed) == sorted([*leftovers, folder])
    assert mine.path.exists() and other.exists()
    mine.discard()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_sweep_beside_puts_back_an_old_folder_a_dead_writer_moved_aside(tmp_path: Path) -> None:
    aside = tmp_path / f".x.hsi.d.aside-{dead_pid()}-00ee"
    aside.mkdir()
    (aside / "old.txt").write_bytes(b"old")
    assert sweep_beside(tmp_path / "x.hsi.d") == []
    assert snapshot(tmp_path) == {"x.hsi.d": None, "x.hsi.d/old.txt": b"old"}


def test_a_temp_name_carries_the_writers_pid(tmp_path: Path) -> None:
    assert temp_name(tmp_path / "out.hsi").name.startswith(f".out.hsi.tmp-{os.getpid()}-")
