"""The generator of the binary ZIP-defect fixtures: up to date, deterministic, one defect per case."""

from __future__ import annotations

import functools
import io
import json
from pathlib import Path

import pytest

from hsi_conform.container.zipread import read_zip_structure
from hsi_conform.corpus.zipcases import ALIGN, CASES, INPUT, ZipCase, align, clean_archive, clean_entries, main, stale
from hsi_conform.rules import all_rules, get_rule, load_builtin_rules
from hsi_conform.testing.zipcraft import Entry, build
from hsi_conform.validate import check
from tests._paths import FIXTURES

CONTAINER = FIXTURES / "container"
BINARY = [c for c in CASES if c.folder.split("/")[1].startswith(("error-", "warning-", "info-"))]

load_builtin_rules()


@functools.cache
def made(folder: str) -> bytes:
    return next(c for c in CASES if c.folder == folder).make()


def test_checked_in_inputs_are_up_to_date() -> None:
    assert stale(CONTAINER) == [], "run: python -m hsi_conform.corpus.zipcases fixtures/container"


def test_generation_is_deterministic() -> None:
    assert clean_archive() == clean_archive()
    assert all(c.make() == c.make() for c in CASES[:5])


def test_clean_archive_is_conformant_and_aligned() -> None:
    structure = read_zip_structure(io.BytesIO(clean_archive()))
    assert structure.issues == ()
    envi = [m for m in structure.members if m.name.endswith(".envi")]
    assert len(envi) == 4
    assert all(m.data_offset is not None and m.data_offset % ALIGN == 0 for m in envi)
    # padding lives in the local header only, as the container writer puts it
    assert all(m.extra == b"" and m.local_extra for m in envi)


@pytest.mark.parametrize("base", [0, 1, 4095, 4096, 5000])
def test_align_accounts_for_prepended_bytes(base: int) -> None:
    data = build(align(clean_entries(), base=base), prepend=b"\xff" * base)
    structure = read_zip_structure(io.BytesIO(data))
    offsets = [m.data_offset for m in structure.members if m.name.endswith(".envi")]
    assert offsets and all(o is not None and o % ALIGN == 0 for o in offsets)


@pytest.mark.parametrize("case", BINARY, ids=[c.folder for c in BINARY])
def test_each_defect_archive_differs_from_the_clean_one(case: ZipCase) -> None:
    assert made(case.folder) != clean_archive()


@pytest.mark.parametrize("case", CASES, ids=[c.folder for c in CASES])
def test_case_folder_names_a_registered_rule_and_has_a_case_file(case: ZipCase) -> None:
    rule_folder, case_folder = case.folder.split("/")
    rule_id, name = rule_folder.split("-", 1)
    assert get_rule(rule_id).name == name
    data = json.loads((CONTAINER / case.folder / "case.json").read_text(encoding="utf-8"))
    assert data["input"] == INPUT
    if not case_folder.startswith("valid-"):
        assert rule_id in {e["rule"] for e in data["expect"]}


def test_binaries_stay_small() -> None:
    sizes = {c.folder: len(made(c.folder)) for c in CASES}
    assert {f for f, n in sizes.items() if n > 30 * 1024} == set()


def test_every_container_rule_has_a_triggering_and_a_valid_case() -> None:
    folders = {p.name: {c.name for c in p.iterdir() if c.is_dir()} for p in CONTAINER.iterdir() if p.is_dir()}
    for rule in all_rules():
        if rule.id[:3] not in ("ZIP", "LAY"):
            continue
        cases = folders[f"{rule.id}-{rule.name}"]
        assert any(c.startswith("valid-") for c in cases), rule.id
        assert any(c.startswith(("error-", "warning-", "info-")) for c in cases), rule.id


def test_defect_cases_report_their_rule(tmp_path: Path) -> None:
    """A quick cross-check independent of the corpus runner: the named rule fires on a few cases."""
    picked = [c for c in BINARY if c.folder.startswith(("ZIP013", "ZIP033", "ZIP046", "LAY009"))]
    for i, case in enumerate(picked):
        path = tmp_path / f"{i}.hsi"
        path.write_bytes(made(case.folder))
        assert case.folder[:6] in {f.rule for f in check(path).findings}


def test_main_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "container"
    assert main([str(target), "--check"]) == 1
    assert main([str(target)]) == 0
    assert len(list(target.rglob(INPUT))) == len(CASES)
    assert main([str(target), "--check"]) == 0
    assert "stale:" in capsys.readouterr().out


def test_entry_overrides_are_applied() -> None:
    entries = clean_entries({"data.hdr": {"data": b"ENVI\n", "l_name": b"x.hdr"}}, add=[Entry("Metadata/a")])
    assert entries[0].data == b"ENVI\n" and entries[0].l_name == b"x.hdr"
    assert entries[-1].name == "Metadata/a"
