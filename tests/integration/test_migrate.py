from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.cli.main import main
from hsi_conform.converters import migrate as migrate_module
from hsi_conform.converters.base import UnknownOptionError
from hsi_conform.converters.envi import EnviConverter
from hsi_conform.converters.hsi import HsiConverter
from hsi_conform.converters.migrate import JOURNAL, iter_journal, migrate
from hsi_conform.errors import ConfigError
from hsi_conform.testing.samples import write_sample_container

HDR = ("ENVI\nsamples = 5\nlines = 4\nbands = 3\nheader offset = 0\nfile type = ENVI Standard\n"
       "data type = {dt}\ninterleave = bil\nbyte order = 0\nwavelength units = nm\nwavelength = {{400, 500, 600}}\n")


def pair(folder: Path, name: str, dtype: str = "<u2", code: int = 12) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.img").write_bytes(np.arange(60, dtype=dtype).tobytes())
    (folder / f"{name}.hdr").write_text(HDR.format(dt=code))


def make_tree(root: Path, *, extra_pairs: int = 0) -> Path:
    pair(root / "a", "scene")
    pair(root / "a", "other")
    pair(root / "legacy" / "run1", "scan", "<f4", 4)
    (root / "legacy" / "run1" / "notes.txt").write_text("exported by imanto pro\n")
    (root / "c").mkdir()
    write_sample_container(root / "c" / "sample.hsi")
    (root / "c" / "readme.txt").write_text("not a dataset\n")
    exported = root / "e"
    exported.mkdir()
    EnviConverter().write(HsiConverter().read(root / "c" / "sample.hsi"), exported / "y.hdr")
    for i in range(extra_pairs):
        pair(root / "more", f"p{i}")
    outside = root.parent / "outside"
    pair(outside, "linked")
    (root / "link").symlink_to(outside, target_is_directory=True)
    return root


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p)] = (hashlib.sha256(p.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_size)
    return out


def test_migrate_converts_validates_journals_and_never_touches_the_source(tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src")
    before = snapshot(src)
    summary = migrate(src, tmp_path / "dst")
    assert snapshot(src) == before
    assert summary.exit_code == 0, summary.lines()
    entries = list(iter_journal(tmp_path / "dst"))
    by_source = {e["source"]: e for e in entries}
    assert set(by_source) == {"a/other.hdr", "a/scene.hdr", "legacy/run1", "c/sample.hsi", "e/y.hdr"}
    assert by_source["legacy/run1"]["format"] == "legacy"
    assert by_source["a/scene.hdr"]["format"] == "envi"
    assert set(by_source["a/scene.hdr"]["files"]) == {"a/scene.hdr", "a/scene.img"}
    assert summary.unrecognised == ["c/readme.txt"]
    for e in entries:
        assert e["status"] == "ok"
        assert e["findings"]["error"] == 0 and e["findings"]["fatal"] == 0
        assert (tmp_path / "dst" / e["output"]).is_file()
    # the exported pair comes back as the very container it was exported from
    back = hsi_conform.open(tmp_path / "dst" / by_source["e/y.hdr"]["output"])
    orig = hsi_conform.open(src / "c" / "sample.hsi")
    assert {n: back.read_bytes(n) for n in back.names} == {n: orig.read_bytes(n) for n in orig.names}
    assert not (tmp_path / "dst" / "link").exists()


def test_a_second_run_skips_everything(tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src")
    migrate(src, tmp_path / "dst")
    outputs = {p: p.stat().st_mtime_ns for p in (tmp_path / "dst").rglob("*.hsi")}
    summary = migrate(src, tmp_path / "dst")
    assert (summary.ok, summary.skipped, summary.failed) == (0, 5, 0)
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "dst").rglob("*.hsi")} == outputs
    # a changed source is converted again
    (src / "a" / "scene.img").write_bytes(np.arange(60, dtype="<u2")[::-1].tobytes())
    summary = migrate(src, tmp_path / "dst")
    assert (summary.ok, summary.skipped) == (1, 4)


def test_resume_after_an_interruption(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_tree(tmp_path / "src")
    real = migrate_module.convert_and_check
    calls: list[str] = []

    def flaky(ds, out, options, **kw):  # type: ignore[no-untyped-def]
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(str(ds.source))
        return real(ds, out, options, **kw)

    monkeypatch.setattr(migrate_module, "convert_and_check", flaky)
    with pytest.raises(KeyboardInterrupt):
        migrate(src, tmp_path / "dst")
    assert [e["status"] for e in iter_journal(tmp_path / "dst")] == ["ok", "ok"]
    monkeypatch.setattr(migrate_module, "convert_and_check", real)
    summary = migrate(src, tmp_path / "dst")
    assert (summary.ok, summary.skipped) == (3, 2)
    oks = [e["source"] for e in iter_journal(tmp_path / "dst") if e["status"] == "ok"]
    assert len(oks) == len(set(oks)) == 5


def test_resume_after_a_kill(tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src", extra_pairs=4)
    dst = tmp_path / "dst"
    script = textwrap.dedent(f"""
        import sys, time
        import hsi_conform.converters.migrate as m
        real = m.convert_and_check
        def slow(ds, out, options, **kw):
            time.sleep(0.3)
            return real(ds, out, options, **kw)
        m.convert_and_check = slow
        from hsi_conform.cli.main import main
        sys.exit(main(["migrate", {str(src)!r}, {str(dst)!r}]))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        journal = dst / JOURNAL
        if journal.is_file() and journal.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = [e for e in iter_journal(dst) if e["status"] == "ok"]
    assert 1 <= len(first) < 9
    summary = migrate(src, dst)
    assert summary.exit_code == 0
    assert summary.skipped == len(first)
    oks = [e["source"] for e in iter_journal(dst) if e["status"] == "ok"]
    assert len(oks) == len(set(oks)) == 9
    assert not [p for p in dst.rglob("*") if ".tmp-" in p.name]
    for e in iter_journal(dst):
        assert hsi_conform.check(dst / e["output"]).conformant


def test_leftover_temp_files_and_folders_are_swept_at_start(tmp_path: Path) -> None:
    src = tmp_path / "src"
    pair(src, "scene")
    dst = tmp_path / "dst"
    (dst / "a").mkdir(parents=True)
    (dst / "a" / f".scene.hsi.tmp-{os.getpid()}-0123456789abcdef").write_bytes(b"PK\x03\x04 cut")
    (dst / ".x.hsi.d.tmp-1-ab" / "sub").mkdir(parents=True)  # a folder export killed before its rename
    (dst / "a" / "notes.txt").write_text("not ours\n")
    assert migrate(src, dst).exit_code == 0
    assert sorted(str(p.relative_to(dst)) for p in dst.rglob("*")) == ["a", "a/notes.txt", JOURNAL, "scene.hsi"]


def test_failures_are_journaled_and_give_exit_code_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "src"
    pair(src, "good")
    pair(src, "short")
    (src / "short.img").write_bytes(b"\0" * 10)
    assert main(["migrate", str(src), str(tmp_path / "dst")]) == 1
    status = {e["source"]: e["status"] for e in iter_journal(tmp_path / "dst")}
    assert status == {"good.hdr": "ok", "short.hdr": "failed"}
    assert not (tmp_path / "dst" / "short.hsi").exists()
    assert "short.hdr" in capsys.readouterr().out


def test_destination_inside_the_source_is_refused(tmp_path: Path) -> None:
    pair(tmp_path / "src", "x")
    with pytest.raises(ConfigError):
        migrate(tmp_path / "src", tmp_path / "src" / "out")
    assert main(["migrate", str(tmp_path / "src"), str(tmp_path / "src" / "out")]) == 2
    assert not (tmp_path / "src" / "out").exists()
    with pytest.raises(ConfigError):
        migrate(tmp_path / "src", tmp_path / "dst", options={"no_such_option": "1"})


def test_quantize_option_reaches_the_legacy_reader(tmp_path: Path) -> None:
    pair(tmp_path / "src" / "run", "scan", "<f4", 4)
    pair(tmp_path / "src", "plain")
    summary = migrate(tmp_path / "src", tmp_path / "dst", options={"quantize": "int16"})
    assert summary.exit_code == 0
    assert int(hsi_conform.open(tmp_path / "dst" / "run.hsi").header.value("data type")) == 2
    assert int(hsi_conform.open(tmp_path / "dst" / "plain.hsi").header.value("data type")) == 12


def test_options_are_checked_against_the_declared_tables_before_converting(tmp_path: Path) -> None:
    pair(tmp_path / "src", "plain")
    with pytest.raises(UnknownOptionError) as info:
        migrate(tmp_path / "src", tmp_path / "dst", options={"no_such_option": "1"})
    assert info.value.accepted["legacy reader"] == ("quantize",)
    with pytest.raises(ConfigError):
        migrate(tmp_path / "src", tmp_path / "dst", options={"quantize": "int8"})
    assert not (tmp_path / "dst" / JOURNAL).exists()


@pytest.mark.parametrize("which", ["source", "dest"])
def test_a_url_is_never_made_a_local_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str) -> None:
    """spec/batch.md#remote-migrate: ``https://`` cannot be listed (exit 2); ``memory://`` is never a folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    args = ["src", "https://example.org/out"] if which == "dest" else ["https://example.org/in", "out"]
    assert main(["migrate", *args]) == 2
    args = ["src", "memory://i14-never/out"] if which == "dest" else ["memory://i14-never/in", "out"]
    # an empty tree migrates to a URL; a missing source is not a folder
    assert main(["migrate", *args]) == (0 if which == "dest" else 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]
