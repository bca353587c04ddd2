"""``open`` locates the members and judges the archive later (spec/container.md#lazy-open).

Every archive of the ZIP corpus (the generated defect cases, every ``.hsi`` fixture) and a few more hostile ones
opens lazily exactly as it opens with the strict structure read first: the same members at the same offsets, the
same refusal, the same cube or the same error, and ``Container.structure`` equal to a strict read.
"""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

import pytest

import hsi_conform
from hsi_conform.container import reader
from hsi_conform.container._eocd import BaseParser
from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container
from hsi_conform.container.zipread import read_zip_structure
from hsi_conform.corpus.zipcases import CASES, align, clean_entries
from hsi_conform.errors import ContainerError, HsiConformError
from hsi_conform.testing import zipcraft
from hsi_conform.testing.samples import sample_members
from tests._paths import FIXTURES


def _hostile() -> dict[str, bytes]:
    """Archives whose cube is misplaced: they must be refused or opened exactly as the strict read does."""
    size = len(sample_members()["data.envi"])

    def cube(**fields: object) -> bytes:
        return zipcraft.build(align(clean_entries({"data.envi": fields})))

    entries = align(clean_entries())
    first = next(e for e in entries if e.name_bytes == b"data.envi")
    last = [*(e for e in entries if e is not first), replace(first, csize=size + 64, usize=size + 64)]
    huge = {"csize": 1 << 24, "usize": 1 << 24, "l_csize": 1 << 24, "l_usize": 1 << 24}
    header = sample_members()["data.hdr"].replace(b"\nlines = 16\n", b"\nlines = 16384\n")
    return {
        "the cube claims more bytes than the file holds": cube(**huge),
        "the cube and its header claim more bytes than the file holds": zipcraft.build(align(clean_entries(
            {"data.envi": huge, "data.hdr": {"data": header}}))),
        "the cube runs into the next member": cube(csize=size + 64, usize=size + 64),
        "the cube runs into the central directory": zipcraft.build(align(last)),
        "the cube's local header is past the end": cube(offset=10 ** 7),
        "the cube's central record points at another member": cube(offset=0),
        "a first cube entry without a local header": zipcraft.build(
            [zipcraft.Entry(b"data.envi", write_local=False, offset=1 << 30), *entries]),
        "two cube entries": zipcraft.build([*entries, first]),
        "a forged end record in a member, ending the file, pointing at a directory": _forged_end(entries, 0),
        "a forged end record in a member, ending the file, its directory just before it": _forged_end(entries, 46),
        "a forged end record in a member, its comment past the end of the file": _forged_end(entries, 0, 7),
    }


def _forged_end(entries: list[zipcraft.Entry], cd_size: int, past: int = 0) -> bytes:
    """Return an archive whose last member holds an end record that the strict ranking may prefer.

    Its comment length makes it end the file exactly (or ``past`` bytes beyond), and its directory fields end
    where it starts (consistent): the last 22 bytes are then no longer the only end record of the tail.
    """
    marker = b"PK\x05\x06" + b"\xee" * 18
    data = zipcraft.build([*entries, zipcraft.Entry(b"Metadata/forged.bin", b"x" * 64 + marker + b"y" * 64)])
    at = data.index(marker)
    record = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 3, 3, cd_size, at - cd_size, len(data) - at - 22 + past)
    return data[:at] + record + data[at + 22 :]


def _archives() -> list[tuple[str, bytes]]:
    found = [(case.folder, case.make()) for case in CASES]
    found += sorted((str(p.relative_to(FIXTURES)), p.read_bytes()) for p in FIXTURES.rglob("*.hsi"))
    return found + sorted(_hostile().items())


ARCHIVES = _archives()


def _outcome(open_it: object) -> tuple[str, object]:
    """What opening and reading the cube gives: the members and the cube's shape, or the error."""
    try:
        with open_it() as c:  # type: ignore[operator]
            members = c.members
            try:
                cube = c.cube
                read: object = (cube.shape, str(cube.dtype), cube.offset, int(cube.reshape(-1)[-1]))
            except HsiConformError as exc:
                read = (type(exc).__name__, str(exc))
            return "opened", (members, read)
    except HsiConformError as exc:
        return "refused", (type(exc).__name__, str(exc))


@pytest.mark.parametrize(("name", "data"), ARCHIVES, ids=[name for name, _ in ARCHIVES])
def test_lazy_open_places_refuses_and_maps_as_the_strict_read(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / "input.hsi"
    path.write_bytes(data)
    strict = read_zip_structure(path)
    eager = _outcome(lambda: open_container(path, structure=read_zip_structure(path)))
    assert _outcome(lambda: open_container(path)) == eager
    if eager[0] == "opened":
        with hsi_conform.open(path) as c:
            assert c.structure == strict


def test_open_and_the_cube_do_not_judge_the_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "clean.hsi"
    path.write_bytes(next(c.make() for c in CASES if c.folder.startswith("ZIP001-zip-not-a-zip/valid")))
    calls: list[object] = []
    real = reader.read_zip_structure

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reader, "read_zip_structure", counted)
    with open_container(path) as c:
        assert float(c.cube.sum()) > 0 and c.header.value("bands") == 10
        assert calls == []
        structure = c.structure
        assert len(calls) == 1 and structure == real(path)
        assert c.structure is structure and len(calls) == 1  # read once


def test_the_structure_of_a_closed_container_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "clean.hsi"
    path.write_bytes(next(c.make() for c in CASES if c.folder.startswith("ZIP001-zip-not-a-zip/valid")))
    c = open_container(path)
    c.close()
    with pytest.raises(ValueError, match="closed"):
        _ = c.structure
    folder = Container(tmp_path, {}, is_zip=False)
    assert folder.structure is None


def test_a_fatal_archive_names_the_strict_codes(tmp_path: Path) -> None:
    path = tmp_path / "cut.hsi"
    path.write_bytes(next(c.make() for c in CASES if c.folder.startswith("ZIP002-")))
    with pytest.raises(ContainerError, match=r"not a readable ZIP archive \(no-eocd\)"):
        open_container(path)


def test_the_sole_end_record_is_taken_without_ranking_and_any_other_signature_ranks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ranked: list[object] = []
    real = BaseParser.find_eocd

    def counted(self: BaseParser) -> object:
        ranked.append(self)
        return real(self)

    monkeypatch.setattr(BaseParser, "find_eocd", counted)
    clean, inner = tmp_path / "clean.hsi", tmp_path / "inner.hsi"
    clean.write_bytes(next(c.make() for c in CASES if c.folder.startswith("ZIP001-zip-not-a-zip/valid")))
    inner.write_bytes(next(c.make() for c in CASES if c.folder.startswith("ZIP010-zip-multiple-eocd/valid")))
    with open_container(clean):
        assert ranked == []  # spec/container.md#sole-end-record
    with open_container(inner) as c:
        assert len(ranked) == 1 and "Metadata/archive.zip" in c  # a stored ZIP member: two signatures, ranked
