"""Faults: writers killed at seeded points, signals, full disks, locks and concurrent runs (spec/safety.md#faults).

Every command runs the real CLI (:func:`hsi_conform.cli.main.main`) in a forked child that carries an audit hook
(:func:`sys.addaudithook`). The hook counts the points where a writer can be stopped, in the main thread: each
block of a write (the ``hsi_conform.checkpoint`` event), each file opened for writing, each rename, removal and
folder creation; at the N-th point it acts: SIGKILL (the fault-injection trials), SIGTERM/SIGINT/SIGHUP, or a
pause while another run goes. A first run of each command counts its points; the trials stop it at every
publishing step (renames, removals) and at a seeded sample of the others. No sleeps, no timing.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hsi_conform._atomic import ASIDE_NAME, TEMP_NAME
from hsi_conform.cli.main import main
from hsi_conform.errors import ExitCode
from hsi_conform.testing.samples import write_sample_container

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(signal, "SIGKILL"),
                                reason="forks writers and kills them")

SEED = 11
#: Audit events where a writer can be stopped (``open`` only when it opens for writing).
STOP_POINTS = frozenset({"hsi_conform.checkpoint", "open", "os.rename", "os.remove", "os.rmdir", "os.mkdir",
                         "shutil.rmtree"})
#: The points that publish or remove: every one of them is a trial.
PUBLISHING = frozenset({"os.rename", "os.remove", "os.rmdir", "shutil.rmtree"})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT


# -- a CLI run in a forked child, stopped at its N-th point -------------------------------------------------------


@dataclass
class Hook:
    """An audit hook counting the stop points of the main thread; calls ``action`` at point ``at``.

    With ``only``, only that kind of point counts.
    """

    at: int | None = None
    action: Callable[[], None] | None = None
    only: str | None = None
    kinds: list[str] = field(default_factory=list)

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in STOP_POINTS or threading.current_thread() is not threading.main_thread():
            return
        if self.only is not None and event != self.only:
            return
        if event == "open" and not _writes(args):
            return
        self.kinds.append(event)
        if len(self.kinds) == self.at and self.action is not None:
            self.action()


def _writes(args: tuple[Any, ...]) -> bool:
    mode, flags = args[1], args[2]
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def fork_main(argv: Sequence[str | os.PathLike[str]], hook: Hook | None = None, *,
              setup: Callable[[], None] | None = None, log: Path | None = None) -> int:
    """Run the CLI in a forked child; return its exit code (negative: the signal that ended it)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 70
        try:
            if setup is not None:
                setup()
            if hook is not None:
                sys.addaudithook(hook)
            code = int(main([os.fspath(a) for a in argv]))
        except BaseException:
            traceback.print_exc()
        finally:
            if log is not None and hook is not None:
                log.write_text(json.dumps(hook.kinds), encoding="utf-8")
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def stop_points(argv: Sequence[str | os.PathLike[str]], scratch: Path) -> list[str]:
    """Run once, counting; return the kind of every stop point in order."""
    log = scratch / "points.json"
    assert fork_main(argv, Hook(), log=log) == 0
    kinds: list[str] = json.loads(log.read_text(encoding="utf-8"))
    log.unlink()
    return kinds


def trials(kinds: list[str], others: int, rng: random.Random) -> list[int]:
    """Every publishing point and a seeded sample of ``others`` of the rest (1-based)."""
    publishing = [i for i, k in enumerate(kinds, 1) if k in PUBLISHING]
    rest = [i for i, k in enumerate(kinds, 1) if k not in PUBLISHING]
    return sorted(publishing + rng.sample(rest, min(others, len(rest))))


def send(signum: int) -> Callable[[], None]:
    return lambda: os.kill(os.getpid(), signum)


# -- what is on disk ----------------------------------------------------------------------------------------------


def is_leftover(name: str) -> bool:
    """A temp, an old folder moved aside, or a lock file: nothing a finished run may leave."""
    return bool(TEMP_NAME.fullmatch(name) or ASIDE_NAME.fullmatch(name)) or (
        name.startswith(".") and name.endswith(".lock"))


def leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if is_leftover(p.name))


def state(root: Path, *, ignore: frozenset[str] = frozenset()) -> dict[str, bytes | None]:
    """Every file and folder under ``root`` a reader would see (leftovers and ``ignore`` left out)."""
    out: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(is_leftover(part) for part in rel.parts) or rel.as_posix() in ignore:
            continue
        out[rel.as_posix()] = None if path.is_dir() else path.read_bytes()
    return out


# -- the writers and their old-or-new invariants ------------------------------------------------------------------


@dataclass(frozen=True)
class Writer:
    """A command that writes into ``out/``, run first on the old sources, then on the new ones."""

    name: str
    argv: Callable[[Path, Path], list[str]]  # (sources folder, output folder) -> argv
    ignore: frozenset[str] = frozenset()

    def invariant(self, seen: dict[str, bytes | None], old: dict[str, bytes | None],
                  new: dict[str, bytes | None]) -> None:
        assert seen in (old, new), f"{self.name}: a mixed or partial output"


@dataclass(frozen=True)
class EnviWriter(Writer):
    """ENVI export: the set is old, new, or has no header (readers find nothing)."""

    def invariant(self, seen: dict[str, bytes | None], old: dict[str, bytes | None],
                  new: dict[str, bytes | None]) -> None:
        if "x.hdr" in seen:
            assert seen in (old, new), "ENVI export: a header with a mixed set"


@dataclass(frozen=True)
class MigrateWriter(Writer):
    """``migrate``: every output is old, new, or (when it had no old one) absent."""

    def invariant(self, seen: dict[str, bytes | None], old: dict[str, bytes | None],
                  new: dict[str, bytes | None]) -> None:
        for name in {*seen, *new}:
            assert seen.get(name) in (old.get(name), new.get(name)), f"migrate: {name} is neither old nor new"


def _convert(dest: str, *options: str) -> Callable[[Path, Path], list[str]]:
    return lambda src, out: ["convert", "--overwrite", str(src / "in.hsi"), str(out / dest), *options]


WRITERS = [
    Writer("hsi", _convert("x.hsi")),
    EnviWriter("envi", _convert("x.hdr")),
    EnviWriter("envi-pair-only", _convert("x.hdr", "--option", "sidecar=false")),
    Writer("hdf5", _convert("x.h5", "--option", "compression=gzip")),
    Writer("tiff", _convert("x.tif")),
    MigrateWriter("migrate", lambda src, out: ["migrate", str(src), str(out / "tree")],
                  ignore=frozenset({"tree/migrate-journal.jsonl"})),
]


def sources(folder: Path, version: int) -> Path:
    """Write version 1 or 2 of the sources: ``in.hsi`` (and, for migrate, a second dataset that stays the same)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_sample_container(folder / "in.hsi", lines=12 + 4 * version, samples=10, bands=6)
    write_sample_container(folder / "same.hsi", lines=8, samples=8, bands=4)
    return folder


@dataclass
class Scenario:
    writer: Writer
    root: Path
    old: dict[str, bytes | None]
    new: dict[str, bytes | None]
    kinds: list[str]

    def trial_folder(self, name: str) -> tuple[Path, Path]:
        """A fresh output folder holding the old output, and the new sources."""
        out = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root)) / "out"
        shutil.copytree(self.root / "old-out", out, symlinks=True)
        return self.root / "v2", out


@pytest.fixture(scope="module", params=WRITERS, ids=lambda w: w.name)
def scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    writer: Writer = request.param
    root = tmp_path_factory.mktemp(writer.name)
    v1, v2 = sources(root / "v1", 1), sources(root / "v2", 2)
    old_out, new_out = root / "old-out", root / "new-out"
    old_out.mkdir()
    new_out.mkdir()
    assert fork_main(writer.argv(v1, old_out)) == 0
    new_sources_into_old = root / "count-out"
    shutil.copytree(old_out, new_sources_into_old)
    kinds = stop_points(writer.argv(v2, new_sources_into_old), root)
    assert fork_main(writer.argv(v2, new_out)) == 0
    return Scenario(writer, root, state(old_out, ignore=writer.ignore), state(new_out, ignore=writer.ignore), kinds)


def run_trials(scenario: Scenario, points: list[int]) -> None:
    writer = scenario.writer
    for at in points:
        src, out = scenario.trial_folder(f"kill-{at}")
        code = fork_main(writer.argv(src, out), Hook(at, send(signal.SIGKILL)))
        assert code == -signal.SIGKILL, f"{writer.name}: not killed at point {at}"
        writer.invariant(state(out, ignore=writer.ignore), scenario.old, scenario.new)
        # The next run cleans up what the killed one left and finishes the job.
        assert fork_main(writer.argv(src, out)) == 0
        assert state(out, ignore=writer.ignore) == scenario.new
        assert leftovers(out) == [], f"{writer.name}: left behind after a kill at point {at} and a rerun"


def test_sigkill_at_seeded_points_leaves_old_or_new(scenario: Scenario) -> None:
    rng = random.Random(f"{SEED}-{scenario.writer.name}")
    points = trials(scenario.kinds, 3, rng)
    run_trials(scenario, sorted(rng.sample(points, min(5, len(points)))))


@pytest.mark.slow
def test_sigkill_at_every_point_leaves_old_or_new(scenario: Scenario) -> None:
    run_trials(scenario, list(range(1, len(scenario.kinds) + 1)))


# -- signals: temps removed, exit 128 + N -------------------------------------------------------------------------

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP] if hasattr(signal, "SIGHUP") else []


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_stops_a_writer_cleanly(scenario: Scenario, signum: int) -> None:
    rng = random.Random(f"{SEED}-{scenario.writer.name}-{signum}")
    for at in rng.sample(range(1, len(scenario.kinds) + 1), 1):
        src, out = scenario.trial_folder(f"sig-{signum}-{at}")
        code = fork_main(scenario.writer.argv(src, out), Hook(at, send(signum)))
        assert code == 128 + signum, f"{scenario.writer.name}: exit {code} for a signal at point {at}"
        assert leftovers(out) == []
        # Stopped before publishing, or (a signal during the renames waits for them) after: never between.
        assert state(out, ignore=scenario.writer.ignore) in (scenario.old, scenario.new)


def _commands(folder: Path) -> dict[str, list[str]]:
    src = write_sample_container(folder / "in.hsi")
    return {"sample": ["sample", "--overwrite", str(folder / "out" / "s.hsi"), "--lines", "8", "--samples", "8",
                       "--bands", "4"],
            "validate -o": ["validate", "--format", "json", "-o", str(folder / "out" / "r.json"), str(src)]}


@pytest.mark.parametrize("command", ["sample", "validate -o"])
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_sample_and_validate_output_stop_cleanly(tmp_path: Path, command: str, signum: int) -> None:
    argv = _commands(tmp_path)[command]
    (tmp_path / "out").mkdir()
    kinds = stop_points(argv, tmp_path)
    done = state(tmp_path / "out")
    rng = random.Random(f"{SEED}-{command}-{signum}")
    for at in sorted(rng.sample(range(1, len(kinds) + 1), min(3, len(kinds)))):
        shutil.rmtree(tmp_path / "out")
        (tmp_path / "out").mkdir()
        assert fork_main(argv, Hook(at, send(signum))) == 128 + signum
        assert leftovers(tmp_path / "out") == []
        assert state(tmp_path / "out") in ({}, done)


def test_an_interruption_swallowed_inside_a_library_still_stops_the_hdf5_writer(tmp_path: Path) -> None:
    """Issue 19 item 6: h5py runs weakref callbacks on every write, and Ctrl-C landing in one was lost."""
    src = write_sample_container(tmp_path / "in.hsi", lines=64, samples=32, bands=16)
    dest = tmp_path / "out" / "gz.h5"
    dest.parent.mkdir()

    class Victim:
        pass

    def ctrl_c_inside_a_weakref_callback() -> None:
        victim = Victim()
        weakref.finalize(victim, os.kill, os.getpid(), signal.SIGINT)
        del victim  # the handler runs inside the callback: its exception is reported as ignored, and lost

    def at_the_temp(event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or not isinstance(args[0], str | bytes | os.PathLike) or fired:
            return
        if TEMP_NAME.fullmatch(Path(os.fsdecode(args[0])).name):
            fired.append(True)
            ctrl_c_inside_a_weakref_callback()

    fired: list[bool] = []
    code = fork_main(["convert", "--option", "compression=gzip", src, dest], at_the_temp)  # type: ignore[arg-type]
    assert code == ExitCode.INTERRUPTED
    assert state(dest.parent) == {} and leftovers(dest.parent) == []


@pytest.mark.parametrize("signum", SIGNALS[1:], ids=lambda s: signal.Signals(s).name)
def test_reading_a_compressed_hdf5_leaves_nothing_in_the_temp_folder(tmp_path: Path, signum: int) -> None:
    src = write_sample_container(tmp_path / "in.hsi", lines=64, samples=32, bands=16)
    h5 = tmp_path / "gz.h5"
    assert fork_main(["convert", "--option", "compression=gzip", src, h5]) == 0
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()

    def use_tmpdir() -> None:
        tempfile.tempdir = str(tmpdir)

    argv = ["convert", "--overwrite", h5, tmp_path / "back.hsi"]
    assert fork_main(argv, setup=use_tmpdir) == 0
    assert list(tmpdir.iterdir()) == []
    # Stopped while the cube is decoded into its scratch file: the scratch file goes too.
    decoding = "hsi_conform.checkpoint"
    assert fork_main(argv, Hook(1, send(signum), only=decoding), setup=use_tmpdir) == 128 + signum
    assert list(tmpdir.iterdir()) == []
    # Killed outright while it exists: the next read removes it.
    assert fork_main(argv, Hook(1, send(signal.SIGKILL), only=decoding), setup=use_tmpdir) == -signal.SIGKILL
    assert [p.name for p in tmpdir.iterdir()] and all(TEMP_NAME.fullmatch(p.name) for p in tmpdir.iterdir())
    assert fork_main(argv, setup=use_tmpdir) == 0
    assert list(tmpdir.iterdir()) == []


# -- locks: a second writer of one destination is refused ---------------------------------------------------------


@contextmanager
def paused(argv: Sequence[str | os.PathLike[str]], event: str = "hsi_conform.checkpoint") -> Iterator[Paused]:
    """Run the CLI in a forked child that pauses at its first ``event`` (holding its locks) until resumed.

    A child still paused when the block ends (a failed assertion) is killed, never left behind.
    """
    ready_r, ready_w = os.pipe()
    resume_r, resume_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 70
        try:
            os.close(ready_r)
            os.close(resume_w)  # so that the parent ending, however it ends, ends the pause

            def pause_once(name: str, args: tuple[Any, ...]) -> None:
                if name == event and (name != "open" or _writes(args)) and not paused_at:
                    paused_at.append(name)
                    os.write(ready_w, b"ready")
                    os.read(resume_r, 2)

            paused_at: list[str] = []
            sys.addaudithook(pause_once)
            code = int(main([os.fspath(a) for a in argv]))
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(resume_r)
    run = Paused(pid, resume_w)
    try:
        assert os.read(ready_r, 5) == b"ready", "the run ended before it reached the pause"
        yield run
    finally:
        os.close(ready_r)
        run.stop()


@dataclass
class Paused:
    """A run paused by :func:`paused`."""

    pid: int
    resume_w: int
    code: int | None = None

    def resume(self) -> int:
        """Let the run go on; return its exit code."""
        os.write(self.resume_w, b"go")
        return self.stop()

    def stop(self) -> int:
        if self.code is None:
            os.close(self.resume_w)
            _, status = os.waitpid(self.pid, 0)
            self.code = os.waitstatus_to_exitcode(status)
        return self.code


@pytest.mark.parametrize(("first", "second"), [("x.hsi", "x.hsi"), ("x.hdr", "x.hdr"), ("x.hdr", "x.img")])
def test_a_second_convert_to_the_same_destination_is_refused(tmp_path: Path, cli: Any, first: str,
                                                             second: str) -> None:
    src = write_sample_container(tmp_path / "in.hsi")
    out = tmp_path / "out"
    out.mkdir()
    with paused(["convert", src, out / first]) as running:
        result = cli(["convert", src, out / second])
        assert result.code == ExitCode.UNWRITABLE
        assert f"in use by pid {running.pid}" in result.err
        assert state(out) == {}  # the refused run wrote nothing
        assert running.resume() == 0
    assert first in state(out) and leftovers(out) == []


def test_a_second_migrate_into_the_same_tree_is_refused(tmp_path: Path, cli: Any) -> None:
    src = sources(tmp_path / "src", 1)
    with paused(["migrate", src, tmp_path / "tree"]) as running:
        result = cli(["migrate", src, tmp_path / "tree"])
        assert result.code == ExitCode.UNWRITABLE
        assert f"in use by pid {running.pid}" in result.err
        assert running.resume() == 0
    assert sorted(state(tmp_path / "tree")) == ["in.hsi", "migrate-journal.jsonl", "same.hsi"]
    assert leftovers(tmp_path) == []


def test_the_lock_of_a_killed_convert_is_taken_over(tmp_path: Path, cli: Any) -> None:
    src = write_sample_container(tmp_path / "in.hsi")
    out = tmp_path / "out"
    out.mkdir()
    with paused(["convert", src, out / "x.hsi"]) as running:  # holding the lock
        os.kill(running.pid, signal.SIGKILL)
        assert running.stop() == -signal.SIGKILL
    assert (out / ".x.hsi.lock").exists()
    assert cli(["convert", src, out / "x.hsi"]).code == ExitCode.OK
    assert leftovers(out) == []


# -- validate -o: two runs at once ----------------------------------------------------------------------------------


def test_two_validate_runs_writing_one_report_do_not_collide(tmp_path: Path, cli: Any) -> None:
    first = write_sample_container(tmp_path / "first.hsi")
    second = write_sample_container(tmp_path / "second.hsi", lines=20)
    report = tmp_path / "out" / "report.json"
    report.parent.mkdir()
    # The first run stops with its report written to its temp, about to rename it; the second runs meanwhile.
    with paused(["validate", "--format", "json", "-o", report, first], event="os.rename") as running:
        assert cli(["validate", "--format", "json", "-o", report, second]).code == ExitCode.OK
        assert json.loads(report.read_text(encoding="utf-8"))["files"][0]["path"].endswith("second.hsi")
        assert running.resume() == ExitCode.OK
    assert json.loads(report.read_text(encoding="utf-8"))["files"][0]["path"].endswith("first.hsi")
    assert leftovers(report.parent) == []


# -- full disks and file-size limits --------------------------------------------------------------------------------

#: Every writer of a big source, and the destination it writes.
BIG_WRITERS = {
    "hsi": ["convert", "{src}", "{out}/x.hsi"],
    "envi": ["convert", "{src}", "{out}/x.hdr"],
    "hdf5": ["convert", "{src}", "{out}/x.h5"],
    "hdf5-gzip": ["convert", "--option", "compression=gzip", "{src}", "{out}/x.h5"],
    "tiff": ["convert", "{src}", "{out}/x.tif"],
    "specim": ["convert", "--to", "specim", "{src}", "{out}/x"],
    "sample": ["sample", "{out}/s.hsi", "--lines", "128", "--samples", "64", "--bands", "64"],
    "migrate": ["migrate", "{srcdir}", "{out}/tree"],
}


def big_argv(name: str, src: Path, out: Path) -> list[str]:
    return [a.format(src=src, srcdir=src.parent, out=out) for a in BIG_WRITERS[name]]


@pytest.fixture(scope="module")
def big_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A container of about 1.6 MB (more than the small filesystem and the file-size limit below)."""
    return write_sample_container(tmp_path_factory.mktemp("big") / "big.hsi", lines=128, samples=64, bands=96)


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB filesystem (tmpfs; needs root, else the test is skipped)."""
    mount = tmp_path / "fs"
    mount.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def run_cli(argv: list[str], preexec: Callable[[], None] | None = None) -> int:
    """Run ``python -m hsi_conform`` (a whole process: h5py crashed in its teardown after a failed write)."""
    done = subprocess.run([sys.executable, "-m", "hsi_conform", *argv], capture_output=True, check=False,
                          preexec_fn=preexec)
    return done.returncode


@pytest.mark.parametrize("writer", list(BIG_WRITERS))
def test_a_full_disk_exits_5_and_leaves_nothing(big_source: Path, small_filesystem: Path, writer: str) -> None:
    assert run_cli(big_argv(writer, big_source, small_filesystem)) == ExitCode.UNWRITABLE
    assert leftovers(small_filesystem) == []
    assert [p.name for p in small_filesystem.rglob("*") if p.is_file()] == []


def _limit_file_size() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


@pytest.mark.parametrize("writer", list(BIG_WRITERS))
def test_a_file_too_large_exits_5_and_leaves_nothing(big_source: Path, tmp_path: Path, writer: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert run_cli(big_argv(writer, big_source, out), _limit_file_size) == ExitCode.UNWRITABLE
    assert leftovers(out) == []
    assert [p.name for p in out.rglob("*") if p.is_file() and p.stat().st_size] == []


def test_no_space_is_an_os_error_with_the_destination(big_source: Path, small_filesystem: Path) -> None:
    from hsi_conform.converters import convert
    from hsi_conform.errors import NoSpaceError

    with pytest.raises(NoSpaceError) as caught:
        convert(big_source, small_filesystem / "x.hsi")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(small_filesystem / "x.hsi")
