"""Batches keep going and say what failed (issue 11 items 15-19, issue 19 item 4).

``validate`` with inputs that cannot be read reports every other input and names the unreadable ones in every
report format; ``migrate`` journals what it could not read and converts the rest; ``--config`` that is not a
regular file is refused at once. Unreadable folders need the ``unlistable`` trick of tests/test_walk.py (these
tests may run as root, who reads everything); an unreadable file is a dangling link or a file gone meanwhile.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from hsi_conform.converters import migrate as migrate_module
from hsi_conform.converters.migrate import JOURNAL, iter_journal, migrate
from hsi_conform.errors import ExitCode
from hsi_conform.testing.samples import write_sample_container
from tests._support import CliRunner

# -- validate --------------------------------------------------------------------------------------------------


@pytest.fixture
def three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``a.hsi nope.hsi b.hsi`` in the working folder: two containers and a name that does not exist."""
    monkeypatch.chdir(tmp_path)
    write_sample_container(tmp_path / "a.hsi")
    write_sample_container(tmp_path / "b.hsi")
    return ["a.hsi", "nope.hsi", "b.hsi"]


def test_one_missing_input_keeps_every_other_report_in_json(three: list[str], cli: CliRunner) -> None:
    done = cli(["validate", "--format", "json", *three])
    assert done.code == ExitCode.UNREADABLE
    files = json.loads(done.out)["files"]
    assert [(f["path"], f.get("input_error") is not None, f["conformant"]) for f in files] == [
        ("a.hsi", False, True), ("nope.hsi", True, False), ("b.hsi", False, True)]
    assert files[0]["rules_run"] and not files[1]["rules_run"]


def test_one_missing_input_keeps_every_other_report_in_text(three: list[str], cli: CliRunner) -> None:
    done = cli(["validate", *three])
    assert done.code == ExitCode.UNREADABLE
    verdicts = [line.split(": ")[:2] for line in done.out.splitlines() if line.split(":")[0].endswith(".hsi")]
    assert [(name, verdict.split()[0]) for name, verdict in verdicts] == [
        ("a.hsi", "conformant"), ("nope.hsi", "UNREADABLE"), ("b.hsi", "conformant")]
    assert "nope.hsi" in done.err


def test_one_missing_input_is_an_error_in_sarif_and_junit(three: list[str], cli: CliRunner, tmp_path: Path) -> None:
    done = cli(["validate", "--format", "sarif", "-o", "out.sarif", "--format", "junit", "-o", "out.xml", *three])
    assert done.code == ExitCode.UNREADABLE
    run = json.loads((tmp_path / "out.sarif").read_text())["runs"][0]
    uris = [a["location"]["uri"] for a in run["artifacts"]]
    notes = [n for n in run["invocations"][0]["toolExecutionNotifications"] if n["level"] == "error"]
    assert [uris[n["locations"][0]["physicalLocation"]["artifactLocation"]["index"]] for n in notes] == ["nope.hsi"]
    suites = ET.parse(tmp_path / "out.xml").getroot().findall("testsuite")
    assert [(s.get("name"), s.get("errors")) for s in suites] == [("a.hsi", "0"), ("nope.hsi", "1"), ("b.hsi", "0")]


def test_the_worst_exit_code_wins_and_parallel_workers_agree(three: list[str], cli: CliRunner,
                                                             tmp_path: Path) -> None:
    (tmp_path / "broken.hsi").write_bytes(b"not a zip")
    serial = cli(["validate", "--format", "json", "broken.hsi", *three])
    parallel = cli(["validate", "--format", "json", "-j", "2", "broken.hsi", *three])
    assert serial.code == parallel.code == ExitCode.UNREADABLE
    assert json.loads(serial.out)["files"] == json.loads(parallel.out)["files"]
    assert cli(["validate", "broken.hsi", "a.hsi"]).code == ExitCode.NONCONFORMANT


def test_an_unreadable_file_in_a_walked_folder_is_reported_under_its_path(tmp_path: Path, cli: CliRunner,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    write_sample_container(tmp_path / "tree" / "a.hsi")
    (tmp_path / "tree" / "gone.hsi").symlink_to(tmp_path / "nowhere.hsi")  # a link to nothing: cannot be read
    write_sample_container(tmp_path / "tree" / "sub" / "z.hsi")
    done = cli(["validate", "--format", "json", "tree"])
    assert done.code == ExitCode.UNREADABLE
    files = json.loads(done.out)["files"]
    assert [(f["path"], "input_error" in f) for f in files] == [
        ("tree/a.hsi", False), ("tree/gone.hsi", True), ("tree/sub/z.hsi", False)]


# -- --config ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_a_config_that_is_not_a_regular_file_is_refused_at_once(kind: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    if kind == "fifo":
        os.mkfifo(config)
    elif kind == "folder":
        config.mkdir()
    else:
        if not Path(os.devnull).exists():
            pytest.skip("no null device")
        config = Path(os.devnull)  # reads as empty, valid TOML: refused for being a device, not for its content
    sample = write_sample_container(tmp_path / "a.hsi")
    # A child process: reading a FIFO blocks forever, so a regression must fail this test, not hang the session.
    done = subprocess.run([sys.executable, "-m", "hsi_conform", "validate", "--config", str(config), str(sample)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert str(config) in done.stderr


# -- migrate -------------------------------------------------------------------------------------------------------

HDR = ("ENVI\nsamples = 5\nlines = 4\nbands = 3\nheader offset = 0\nfile type = ENVI Standard\ndata type = 12\n"
       "interleave = bil\nbyte order = 0\nwavelength units = nm\nwavelength = {400, 500, 600}\n")


def pair(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.img").write_bytes(bytes(120))
    (folder / f"{name}.hdr").write_text(HDR)
    return folder / f"{name}.img"


def records(dst: Path) -> list[dict[str, object]]:
    return list(iter_journal(dst))


def test_migrate_journals_an_unreadable_folder_and_converts_the_rest(tmp_path: Path, unlistable: Path) -> None:
    src = unlistable.parent
    pair(src / "a", "scene")
    summary = migrate(src, tmp_path / "dst")
    assert summary.exit_code is ExitCode.NONCONFORMANT
    found = {(str(r["source"]).split("/")[0], r["status"]) for r in records(tmp_path / "dst")}
    assert found == {("a", "ok"), ("deep", "error")}
    [error] = [r for r in records(tmp_path / "dst") if r["status"] == "error"]
    assert error["error"] and error["output"] is None


def test_migrate_journals_an_unreadable_data_file_and_converts_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRunner) -> None:
    src = tmp_path / "src"
    pair(src, "good")
    lost = pair(src, "lost")
    real = migrate_module.discover

    def discover_then_lose_a_file(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        lost.unlink()  # gone after discovery: it cannot be read when its dataset is hashed
        return found

    monkeypatch.setattr(migrate_module, "discover", discover_then_lose_a_file)
    assert cli(["migrate", str(src), str(tmp_path / "dst")]).code == ExitCode.NONCONFORMANT
    status = {r["source"]: r["status"] for r in records(tmp_path / "dst")}
    assert status == {"good.hdr": "ok", "lost.hdr": "error"}
    assert (tmp_path / "dst" / "good.hsi").is_file() and not (tmp_path / "dst" / "lost.hsi").exists()


def test_a_torn_last_journal_line_is_ignored_and_the_next_record_stays_whole(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    pair(src, "one")
    pair(src, "two")
    assert migrate(src, dst).exit_code is ExitCode.OK
    journal = dst / JOURNAL
    text = journal.read_bytes()
    journal.write_bytes(text + text.splitlines(keepends=True)[0][:40])  # a third record, killed mid-write
    (dst / "two.hsi").unlink()  # so that the next run writes a record
    summary = migrate(src, dst)
    assert (summary.ok, summary.skipped, summary.exit_code) == (1, 1, ExitCode.OK)
    assert [(r["source"], r["status"]) for r in records(dst)][2:] == [("one.hdr", "skipped"), ("two.hdr", "ok")]
