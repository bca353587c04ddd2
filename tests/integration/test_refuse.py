"""Refused conversions (spec/safety.md#refused): nonconformant sources, names that leave the destination, overlap
bombs and outputs that are inputs give a clear exit code, print why, and write nothing."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import zipfile
from pathlib import Path

import pytest

import hsi_conform
from hsi_conform.container.zipread import iter_member_crc, read_zip_structure
from hsi_conform.converters.migrate import iter_journal, migrate
from hsi_conform.errors import ExitCode
from hsi_conform.members import CUBE_DATA, CUBE_HEADER, SOURCE_REPORT
from hsi_conform.testing.generate import ContainerSpec, build_valid
from hsi_conform.testing.mutations import CATALOGUE, Mutation, applicable
from hsi_conform.testing.samples import sample_members, write_sample_container
from hsi_conform.testing.zipcraft import Entry, build
from tests._support import CliRunner


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every path under ``root`` (links not followed) with the digest and mtime of each file."""
    out: dict[str, tuple[str, int]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
        out[str(path.relative_to(root))] = (digest, st.st_mtime_ns)
    return out


def entries_with(*extra: Entry) -> bytes:
    members = sample_members()
    return build([Entry(CUBE_HEADER, members[CUBE_HEADER]), Entry(CUBE_DATA, members[CUBE_DATA]), *extra])


def two_cube_headers(path: Path) -> Path:
    members = sample_members()
    path.write_bytes(build([Entry(CUBE_HEADER, members[CUBE_HEADER]), Entry(CUBE_DATA, members[CUBE_DATA]),
                            Entry(CUBE_HEADER, members[CUBE_HEADER].replace(b"ENVI", b"ENVI\n; other"))]))
    return path


def expanded(src: Path, folder: Path) -> Path:
    """Extract a container into an expanded container folder."""
    with zipfile.ZipFile(src) as zf:
        zf.extractall(folder)
    return folder


def overlap_bomb(path: Path, *, entries: int = 300, region: int = 64 << 10) -> Path:
    """A container whose ``entries`` members all point at one ``region``-byte member (one local header)."""
    members = sample_members()
    head = [Entry(CUBE_HEADER, members[CUBE_HEADER]), Entry(CUBE_DATA, members[CUBE_DATA])]
    offset = sum(len(e.local_header()) + len(e.data) for e in head)
    first = Entry("Metadata/blob0", bytes(region))
    twins = [Entry(f"Metadata/blob{i}", bytes(region), write_local=False, offset=offset, l_name=b"Metadata/blob0")
             for i in range(1, entries)]
    path.write_bytes(build([*head, first, *twins]))
    return path


# -- nonconformant sources ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("profile", ["exchange", "reader", "strict"])
def test_two_cube_headers_are_nonconformant_in_every_profile(tmp_path: Path, profile: str) -> None:
    report = hsi_conform.check(two_cube_headers(tmp_path / "dup.hsi"), profile=profile)
    assert not report.conformant
    assert [(f.rule, f.location.member) for f in report.findings if f.rule == "ZIP046"] == [("ZIP046", CUBE_HEADER)]


@pytest.mark.parametrize("dest", ["out.hsi", "out.hdr", "sub/out.hsi"])
def test_convert_refuses_a_nonconformant_source_and_writes_nothing(cli: CliRunner, tmp_path: Path, dest: str) -> None:
    src = two_cube_headers(tmp_path / "dup.hsi")
    before = snapshot(tmp_path)
    result = cli(["convert", src, tmp_path / dest])
    assert result.code == 1
    assert "ZIP046" in result.out  # the findings, as validate prints them
    assert snapshot(tmp_path) == before


def test_allow_nonconformant_converts_and_keeps_the_source_report(cli: CliRunner, tmp_path: Path) -> None:
    src = two_cube_headers(tmp_path / "dup.hsi")
    assert cli(["convert", "--allow-nonconformant", src, tmp_path / "out.hsi"]).code == 0
    with hsi_conform.open(tmp_path / "out.hsi") as out:
        report = json.loads(out.read_bytes(SOURCE_REPORT))
    assert "ZIP046" in json.dumps(report)
    assert cli(["convert", "--allow-nonconformant", src, tmp_path / "x.hdr"]).code == 0
    assert (tmp_path / "x.hsi.d" / SOURCE_REPORT).is_file()
    good = write_sample_container(tmp_path / "good.hsi")
    assert cli(["convert", "--allow-nonconformant", good, tmp_path / "copy.hsi"]).code == 0
    with hsi_conform.open(tmp_path / "copy.hsi") as out:
        assert SOURCE_REPORT not in out  # a conformant source gets no report


def _mutants() -> list[Mutation]:
    return sorted(CATALOGUE, key=lambda m: m.name)


QUICK = random.Random(11).sample(_mutants(), 12)


def _refused(cli: CliRunner, tmp_path: Path, mutation: Mutation, dest: str) -> None:
    vc = build_valid(applicable(mutation, ContainerSpec(lines=3, samples=4, bands=3)))
    src = tmp_path / "mutant.hsi"
    src.write_bytes(mutation.apply(vc))
    before = snapshot(tmp_path)
    # --from hsi: a mutant that no longer starts with a local header is still a container to judge, not a format
    # no converter recognises (exit 3)
    assert cli(["convert", "--from", "hsi", src, tmp_path / dest]).code == 1, mutation.name
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("mutation", QUICK, ids=lambda m: m.name)
def test_convert_refuses_single_defect_mutants(cli: CliRunner, tmp_path: Path, mutation: Mutation) -> None:
    _refused(cli, tmp_path, mutation, "out.hdr" if QUICK.index(mutation) % 2 else "out.hsi")


@pytest.mark.slow
@pytest.mark.parametrize("mutation", _mutants(), ids=lambda m: m.name)
def test_convert_refuses_every_single_defect_mutant(cli: CliRunner, tmp_path: Path, mutation: Mutation) -> None:
    _refused(cli, tmp_path, mutation, "out.hdr")


# -- names that would leave the destination ----------------------------------------------------------------------

@pytest.mark.parametrize("name", [b"../x", b"/abs", b"C:/x", b"C:x", b"//server/x", b"Metadata\\x", b"Metadata/a\x01b",
                                  b"Metadata/a\x00b"], ids=repr)
@pytest.mark.parametrize("dest", ["out.hsi", "out.hdr"])
def test_hostile_names_exit_1_and_write_nothing(cli: CliRunner, tmp_path: Path, name: bytes, dest: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    src = work / "evil.hsi"
    src.write_bytes(entries_with(Entry(name, b"evil\n")))
    before = snapshot(tmp_path)
    assert cli(["convert", src, work / dest]).code == 1  # nonconformant: ZIP033-ZIP038
    result = cli(["convert", "--allow-nonconformant", src, work / dest])
    assert result.code == 1, result.err  # the writers refuse the name itself: never a traceback (exit 4)
    assert "Traceback" not in result.err
    assert snapshot(tmp_path) == before


# -- overlap bombs and the byte budget ---------------------------------------------------------------------------

@pytest.mark.parametrize("content", ["none", "crc", "full"])
def test_an_overlap_bomb_is_reported_in_every_content_tier(tmp_path: Path, content: str) -> None:
    report = hsi_conform.check(overlap_bomb(tmp_path / "bomb.hsi", entries=50), content=content)
    assert not report.conformant
    assert {f.location.member for f in report.findings if f.rule == "ZIP016"} == {
        f"Metadata/blob{i}" for i in range(1, 50)}


class CountingFile(io.FileIO):
    """A file that counts the bytes read through it."""

    read_bytes = 0

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        got = super().readinto(buffer) or 0
        self.read_bytes += got
        return got


def test_the_crc_tier_reads_each_byte_of_the_file_at_most_once(tmp_path: Path) -> None:
    bomb = overlap_bomb(tmp_path / "bomb.hsi")
    structure = read_zip_structure(bomb)
    with CountingFile(bomb, "rb") as f:
        checked = list(iter_member_crc(f, structure, chunk=1 << 16))
        assert f.read_bytes <= structure.size
    assert {m.name for m, _ in checked} == {CUBE_HEADER, CUBE_DATA, "Metadata/blob0"}
    assert all(crc == m.crc for m, crc in checked)


@pytest.mark.parametrize("dest", ["out.hsi", "out.hdr"])
def test_convert_refuses_an_overlap_bomb_even_when_allowed(cli: CliRunner, tmp_path: Path, dest: str) -> None:
    bomb = overlap_bomb(tmp_path / "bomb.hsi")
    before = snapshot(tmp_path)
    assert cli(["convert", bomb, tmp_path / dest]).code == 1
    result = cli(["convert", "--allow-nonconformant", bomb, tmp_path / dest])
    assert result.code == 1 and "Metadata/blob" in result.err
    assert snapshot(tmp_path) == before


def test_a_member_declared_past_the_end_of_the_file_is_unreadable_when_allowed(cli: CliRunner,
                                                                               tmp_path: Path) -> None:
    src = tmp_path / "long.hsi"
    src.write_bytes(entries_with(Entry("Metadata/notes.txt", b"short", csize=1 << 20, usize=1 << 20,
                                       l_csize=1 << 20, l_usize=1 << 20)))
    before = snapshot(tmp_path)
    assert cli(["convert", "--allow-nonconformant", src, tmp_path / "out.hsi"]).code == ExitCode.UNREADABLE
    assert snapshot(tmp_path) == before


# -- an output that is an input ----------------------------------------------------------------------------------

def test_convert_onto_its_own_input_is_a_usage_error(cli: CliRunner, tmp_path: Path) -> None:
    src = write_sample_container(tmp_path / "dup.hsi")
    (tmp_path / "link.hsi").symlink_to(src.name)
    os.link(src, tmp_path / "hard.hsi")
    folder = expanded(src, tmp_path / "folder")
    assert cli(["convert", src, tmp_path / "x.hdr"]).code == 0
    before = snapshot(tmp_path)
    for source, dest in [(src, src), (src, tmp_path / "link.hsi"), (src, tmp_path / "hard.hsi"),
                         (tmp_path / "." / "dup.hsi", src), (folder, folder / "out.hsi"),
                         (tmp_path / "x.hdr", tmp_path / "x.hdr"), (tmp_path / "x.img", tmp_path / "x.hsi.d"),
                         (tmp_path / "x.hdr", tmp_path / "x.hsi.d" / "inner.hsi")]:
        result = cli(["convert", source, dest, "--to", "hsi" if dest.suffix != ".hdr" else "envi"])
        assert result.code == 2, (source, dest, result.err)
    assert snapshot(tmp_path) == before
    assert (tmp_path / "link.hsi").is_symlink()


def test_validate_output_onto_an_input_is_a_usage_error(cli: CliRunner, tmp_path: Path) -> None:
    src = write_sample_container(tmp_path / "v.hsi")
    (tmp_path / "link.hsi").symlink_to(src.name)
    folder = expanded(src, tmp_path / "expanded")
    before = snapshot(tmp_path)
    for argv in (["-o", src, src], ["-o", tmp_path / "link.hsi", src], ["-o", folder / "report.json", folder],
                 ["-o", tmp_path / "r.json", "-o", src, "--format", "text", src]):
        result = cli(["validate", "--format", "json", *argv])
        assert result.code == 2, (argv, result.err)
    assert snapshot(tmp_path) == before
    # a plain folder of containers is not an input itself: a report beside them is fine
    assert cli(["validate", "--format", "json", "-o", tmp_path / "report.json", tmp_path]).code == 0


def test_migrate_into_its_source_through_a_link_is_a_usage_error(cli: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_sample_container(src / "a.hsi")
    (tmp_path / "alias").symlink_to(src, target_is_directory=True)
    before = snapshot(tmp_path)
    assert cli(["migrate", src, tmp_path / "alias" / "out"]).code == 2
    assert cli(["migrate", tmp_path / "alias", src]).code == 2
    assert snapshot(tmp_path) == before


# -- migrate ------------------------------------------------------------------------------------------------------

def test_migrate_journals_a_nonconformant_source_and_converts_the_rest(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_sample_container(src / "good.hsi")
    two_cube_headers(src / "bad.hsi")
    summary = migrate(src, tmp_path / "dst")
    assert (summary.ok, summary.failed, int(summary.exit_code)) == (1, 1, 1)
    status = {e["source"]: e for e in iter_journal(tmp_path / "dst")}
    assert status["good.hsi"]["status"] == "ok"
    assert status["bad.hsi"]["status"] == "failed" and "NonconformantSourceError" in status["bad.hsi"]["error"]
    assert not (tmp_path / "dst" / "bad.hsi").exists()
    allowed = migrate(src, tmp_path / "dst2", allow_nonconformant=True)
    assert (allowed.ok, allowed.failed) == (2, 0)
    with hsi_conform.open(tmp_path / "dst2" / "bad.hsi") as out:
        assert SOURCE_REPORT in out


# -- CRCs checked while copying (spec/safety.md#crc-while-copying) -----------------------------------------------

def flipped(path: Path, member: str) -> Path:
    """Flip one byte of a member's data in place (its central directory CRC is left as it was)."""
    structure = read_zip_structure(path)
    info = next(m for m in structure.members if m.name == member)
    assert info.data_offset is not None
    data = bytearray(path.read_bytes())
    data[info.data_offset + info.compressed_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("member", [CUBE_DATA, "Metadata/notes.txt"])
def test_an_envi_export_of_a_source_with_a_wrong_crc_is_refused_as_before(cli: CliRunner, tmp_path: Path,
                                                                          member: str) -> None:
    from hsi_conform.converters import convert
    from hsi_conform.converters.guard import judge_source
    from hsi_conform.errors import NonconformantSourceError

    src = write_sample_container(tmp_path / "src.hsi")
    with zipfile.ZipFile(src) as zf:
        member = member if member in zf.namelist() else next(n for n in zf.namelist() if n.startswith("Metadata/"))
    flipped(src, member)
    with pytest.raises(NonconformantSourceError) as judged:  # what the judge before any copy says
        judge_source("hsi", src, allow_nonconformant=False)
    before = snapshot(tmp_path)
    with pytest.raises(NonconformantSourceError) as refused:
        convert(src, tmp_path / "out.hdr")
    assert str(refused.value) == str(judged.value)
    assert [(f.rule, f.message) for f in refused.value.report.findings] == [
        (f.rule, f.message) for f in judged.value.report.findings]
    assert any(f.rule == "ZIP050" and f.location.member == member for f in refused.value.report.findings)
    result = cli(["convert", src, tmp_path / "out.hdr"])
    assert result.code == 1 and "ZIP050" in result.out
    assert snapshot(tmp_path) == before  # nothing published, no temp left


def test_the_envi_writer_checks_the_cube_crc_it_copies(tmp_path: Path) -> None:
    from hsi_conform.converters.envi import write_envi
    from hsi_conform.converters.hsi import HsiConverter
    from hsi_conform.errors import MemberCrcError

    src = flipped(write_sample_container(tmp_path / "src.hsi"), CUBE_DATA)
    dataset = HsiConverter().read(src)
    before = snapshot(tmp_path)
    with pytest.raises(MemberCrcError) as caught:
        write_envi(dataset, tmp_path / "out.hdr")
    assert caught.value.member == CUBE_DATA and caught.value.exit_code is ExitCode.NONCONFORMANT
    assert snapshot(tmp_path) == before


def test_a_cube_the_writer_will_not_copy_verbatim_is_checked_before_writing(tmp_path: Path) -> None:
    import numpy as np

    from hsi_conform.converters.guard import check_deferred_crcs
    from hsi_conform.converters.hsi import HsiConverter
    from hsi_conform.errors import NonconformantSourceError

    src = flipped(write_sample_container(tmp_path / "src.hsi"), CUBE_DATA)
    dataset = HsiConverter().read(src)
    check_deferred_crcs("hsi", src, dataset, (CUBE_DATA,))  # copied verbatim: the writer checks it
    dataset.cube, dataset.cube_raw = np.array(dataset.cube), None
    with pytest.raises(NonconformantSourceError):
        check_deferred_crcs("hsi", src, dataset, (CUBE_DATA,))


# Writers that check data.envi's CRC from the bytes they read (spec/safety.md#crc-while-copying): the judge CRCs
# every other member, the writer the cube, so a conformant export reads the cube once and a damaged one is refused
# as the judge refuses it, with nothing published.
ONE_READ_EXPORTS = [("out.hdr", {}), ("out.tif", {}), ("out.h5", {}), ("out.h5", {"chunks": "none"})]
CRC_REFUSALS = [("out.tif", {}), ("out.tif", {"compression": "zlib"}),
                ("out.tif", {"profile": "imagej", "lossy": True}),
                ("out.h5", {}), ("out.h5", {"chunks": "none"}), ("out.h5", {"compression": "gzip"})]


def _ids(cases: list[tuple[str, dict[str, object]]]) -> list[str]:
    return [name.split(".")[1] + "".join(f"-{k}={v}" for k, v in options.items()) for name, options in cases]


@pytest.mark.parametrize(("name", "options"), ONE_READ_EXPORTS, ids=_ids(ONE_READ_EXPORTS))
def test_a_conformant_export_reads_the_cube_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                                                 options: dict[str, object]) -> None:
    from hsi_conform.container import zipread
    from hsi_conform.converters import convert
    from hsi_conform.rules import container as container_rules
    from tests._support import member_digests

    checked: list[str] = []

    def spy(path, structure, members=None, **kwargs):  # type: ignore[no-untyped-def]
        for member, crc in iter_member_crc(path, structure, members, **kwargs):
            checked.append(member.name)
            yield member, crc

    monkeypatch.setattr(zipread, "iter_member_crc", spy)
    monkeypatch.setattr(container_rules, "iter_member_crc", spy)
    src = write_sample_container(tmp_path / "src.hsi")
    out = convert(src, tmp_path / name, **options)
    assert checked and CUBE_DATA not in checked  # the judge CRCs the others; the writer, the cube it reads
    monkeypatch.undo()
    if name.endswith(".hdr"):
        with hsi_conform.open(src) as c:
            assert (tmp_path / "out.img").read_bytes() == c.read_bytes(CUBE_DATA)
    else:
        assert member_digests(convert(out, tmp_path / "back.hsi")) == member_digests(src)


@pytest.mark.parametrize(("name", "options"), CRC_REFUSALS, ids=_ids(CRC_REFUSALS))
def test_a_source_cube_with_a_wrong_crc_is_refused_as_the_judge_refuses_it(tmp_path: Path, name: str,
                                                                          options: dict[str, object]) -> None:
    from hsi_conform.converters import convert
    from hsi_conform.converters.guard import judge_source
    from hsi_conform.errors import NonconformantSourceError

    src = flipped(write_sample_container(tmp_path / "src.hsi"), CUBE_DATA)
    with pytest.raises(NonconformantSourceError) as judged:
        judge_source("hsi", src, allow_nonconformant=False)
    before = snapshot(tmp_path)
    with pytest.raises(NonconformantSourceError) as refused:
        convert(src, tmp_path / name, **options)
    assert str(refused.value) == str(judged.value)
    assert any(f.rule == "ZIP050" and f.location.member == CUBE_DATA for f in refused.value.report.findings)
    assert snapshot(tmp_path) == before  # nothing published, no temp left
