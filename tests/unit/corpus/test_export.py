"""Corpus export: one self-describing file per golden case, a manifest, deterministic output."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import hsi_conform.corpus.export
from hsi_conform import check
from hsi_conform.corpus import export
from hsi_conform.corpus.export import (
    ACCEPT,
    IMPLEMENTATION,
    MANIFEST,
    REJECT,
    export_corpus,
    merged_content,
    merged_expectation,
    read_manifest,
)
from hsi_conform.corpus.golden import Case, case_members, load_cases
from hsi_conform.errors import InputUnreadableError
from hsi_conform.rules.context import Content
from hsi_conform.testing.mutations import CATALOGUE
from tests._support import CliRunner

CASES = load_cases()
NAME = re.compile(r"^(?P<prefix>[yni])_(?P<rule>[A-Z]+[0-9]+)_[A-Za-z0-9.-]+\.(hsi|hdr)$")
PREFIX = {"y": ACCEPT, "n": REJECT, "i": IMPLEMENTATION}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    export_corpus(out)
    return out


def _case(verdict: str, profile: str | None = None) -> Case:
    data: dict[str, Any] = {"expect": [], "spec": []}
    if profile == "limits":
        data["limits"] = {"max_entries": 20}
    elif profile is not None:
        data["profile"] = profile
    return Case(Path(f"/x/HDR001-rule/{verdict}-slug"), data)


def test_names_encode_the_expectation(exported: Path) -> None:
    entries = read_manifest(exported)
    assert entries
    for entry in entries:
        match = NAME.match(entry["file"])
        assert match, entry["file"]
        assert PREFIX[match["prefix"]] == entry["expect"]
        assert entry["rules"] and entry["spec"]
        assert (exported / entry["file"]).is_file()
    assert len({e["file"] for e in entries}) == len(entries)
    assert {p.name for p in exported.iterdir()} == {e["file"] for e in entries} | {MANIFEST}


def test_every_golden_case_is_exported_once(exported: Path) -> None:
    ids = [fixture for entry in read_manifest(exported) for fixture in entry["fixtures"]]
    assert sorted(ids) == sorted(c.id for c in CASES)


def test_all_three_kinds_are_present(exported: Path) -> None:
    kinds = {entry["expect"] for entry in read_manifest(exported)}
    assert kinds == {ACCEPT, REJECT, IMPLEMENTATION}


def test_expectations_agree_with_the_validator(exported: Path) -> None:
    limited = {c.id for c in CASES if c.data.get("limits")}  # graded under non-default limits: anything goes
    wrong = []
    for entry in read_manifest(exported):
        if set(entry["fixtures"]) <= limited:
            continue
        report = check(exported / entry["file"], content="full")
        has_finding = bool(report.findings)
        ok = {ACCEPT: report.conformant and not has_finding, REJECT: not report.conformant,
              IMPLEMENTATION: has_finding}[entry["expect"]]
        if not ok:
            wrong.append((entry["file"], sorted({f.rule for f in report.findings})))
    assert not wrong


def test_each_case_states_the_content_tier_its_expectation_needs(exported: Path) -> None:
    entries = {e["file"]: e for e in read_manifest(exported)}
    assert entries["n_ZIP050_bad-cube-crc.hsi"]["content"] == "crc"
    limited = {c.id for c in CASES if c.data.get("limits")}
    tiers = [t.value for t in Content]
    for name, entry in entries.items():
        if entry["expect"] == IMPLEMENTATION or set(entry["fixtures"]) <= limited:
            continue
        assert check(exported / name, content=entry["content"]).conformant == (entry["expect"] == ACCEPT), name
        if entry["expect"] == REJECT and entry["content"] != "none":  # the tier is needed: one lower accepts
            lower = tiers[tiers.index(entry["content"]) - 1]
            assert check(exported / name, content=lower).conformant, name


@pytest.mark.parametrize(("cases", "expect", "content"), [
    ([("error", "none"), ("error", "crc")], REJECT, "none"),
    ([("error", "crc"), ("valid", "none")], REJECT, "crc"),
    ([("valid", "full"), ("valid", "crc")], ACCEPT, "crc"),
    ([("valid", None)], ACCEPT, "none"),
])
def test_merged_content(cases: list[tuple[str, str | None]], expect: str, content: str) -> None:
    built = []
    for verdict, tier in cases:
        case = _case(verdict)
        if tier is not None:
            case.data["content"] = tier
        built.append(case)
    assert merged_content(built, expect) == content  # type: ignore[arg-type]


def test_manifest_without_content_reads_as_none_and_a_bad_tier_is_refused(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text(json.dumps({"cases": [{"file": "y_A001_x.hsi", "expect": "accept"}]}))
    assert read_manifest(tmp_path)[0]["content"] == "none"
    (tmp_path / MANIFEST).write_text(json.dumps({"cases": [{"file": "y_A001_x.hsi", "expect": "accept",
                                                            "content": "most"}]}))
    with pytest.raises(ValueError):
        read_manifest(tmp_path)


def test_export_is_deterministic(tmp_path: Path) -> None:
    subset = CASES[::9]
    export_corpus(tmp_path / "a", cases=subset)
    export_corpus(tmp_path / "b", cases=subset)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_identical_inputs_are_merged(exported: Path) -> None:
    merged = [e for e in read_manifest(exported) if len(e["fixtures"]) > 1]
    assert merged
    contents = [(exported / e["file"]).read_bytes() for e in read_manifest(exported)]
    assert len(set(contents)) == len(contents)


@pytest.mark.parametrize(("verdicts", "expect"), [
    ([("valid", None)], ACCEPT),
    ([("error", None)], REJECT),
    ([("warning", None)], IMPLEMENTATION),
    ([("info", None)], IMPLEMENTATION),
    ([("valid", None), ("warning", None)], IMPLEMENTATION),
    ([("error", None), ("warning", "reader")], REJECT),
    ([("warning", None), ("error", "strict")], IMPLEMENTATION),
    ([("error", "reader")], REJECT),
    ([("warning", "reader")], IMPLEMENTATION),
    ([("valid", "reader")], IMPLEMENTATION),
    ([("valid", "strict")], ACCEPT),
    ([("error", "strict")], IMPLEMENTATION),
    ([("error", "limits")], IMPLEMENTATION),
    ([("valid", None), ("error", "limits")], ACCEPT),
])
def test_merged_expectation(verdicts: list[tuple[str, str | None]], expect: str) -> None:
    assert merged_expectation(_case(v, p) for v, p in verdicts) == expect


@dataclass(frozen=True)
class _Generated:
    name: str
    data: bytes
    expect: str
    rules: tuple[str, ...]
    spec: tuple[str, ...]
    content: Content = Content.NONE


def _fake_generate(n: int, seed: int) -> Any:
    for i in range(n):
        bad = i % 2 == 1
        yield _Generated(f"gen-{i:04d}-{'bad' if bad else 'ok'}", f"{seed}-{i}".encode(),
                         "reject" if bad else "accept", ("ZIP021",) if bad else (), ())


@pytest.fixture
def fake_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "generate_cases", _fake_generate)


def test_generate_appends_generated_cases(tmp_path: Path, fake_generator: None) -> None:
    subset = CASES[:3]
    files = export_corpus(tmp_path, generate=4, seed=7, cases=subset)
    generated = [f for f in files if f.file.startswith("g_")]
    assert [f.expect for f in sorted(generated, key=lambda f: f.file)] == [ACCEPT, REJECT, ACCEPT, REJECT]
    assert all((tmp_path / f.file).read_bytes().startswith(b"7-") for f in generated)
    manifest = {e["file"]: e for e in read_manifest(tmp_path)}
    assert all(manifest[f.file]["expect"] == f.expect for f in generated)
    assert any(manifest[f.file]["rules"] == ["ZIP021"] for f in generated)


def test_cli_export(tmp_path: Path, fake_generator: None, cli: CliRunner) -> None:
    assert cli(["corpus", "export", tmp_path / "out", "--generate", "2", "--seed", "1"]).code == 0
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text(encoding="utf-8"))
    files = [c["file"] for c in manifest["cases"]]
    assert sum(f.startswith("g_") for f in files) == 2
    assert len(files) > 2


def test_export_of_no_case_is_unreadable_input_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputUnreadableError):
        export_corpus(tmp_path / "out", cases=[])
    assert not (tmp_path / "out").exists()


def test_generated_cases_alone_are_a_corpus(tmp_path: Path, fake_generator: None) -> None:
    files = export_corpus(tmp_path, generate=2, cases=[])
    assert [f.file for f in files] == [e["file"] for e in read_manifest(tmp_path)]
    assert len(files) == 2


def test_cli_export_without_golden_cases_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 cli: CliRunner) -> None:
    # What an installation without the fixtures sees: the loader finds no case.
    monkeypatch.setattr(hsi_conform.corpus.export, "load_cases", list)
    assert cli(["corpus", "export", tmp_path / "out"]).code == 3
    assert not (tmp_path / "out").exists()


def test_cli_export_rejects_negative_generate(tmp_path: Path, cli: CliRunner) -> None:
    assert cli(["corpus", "export", tmp_path, "--generate", "-1"]).code == 2


def test_generated_mutants_state_their_mutation_s_content_tier() -> None:
    cases = list(export.generate_cases(2 * len(CATALOGUE), 3))
    crc = [c for c in cases if c.content == Content.CRC]
    assert crc and all(c.name.endswith("zip-crc-mismatch") for c in crc)
    assert all(c.content == Content.NONE for c in cases if c.expect == ACCEPT)


def test_real_generator(tmp_path: Path) -> None:
    first = [(c.name, c.data, c.expect) for c in export.generate_cases(6, 11)]
    files = export_corpus(tmp_path, generate=6, seed=11, cases=CASES[:1])
    generated = [f for f in files if f.file.startswith("g_")]
    assert len(generated) == len(first) == 6
    assert sorted(f.data for f in generated) == sorted(d for _, d, _ in first)


def test_the_corpus_never_follows_links_out_of_the_fixtures_tree(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.txt").write_bytes(b"SECRET-FILE")
    (outside / "folder" / "inner.txt").write_bytes(b"SECRET-FOLDER")
    (outside / "case.json").write_text(json.dumps({"input": "expanded", "expect": [], "spec": []}))
    case = tmp_path / "fixtures" / "header" / "HDR001-x" / "valid-a"
    (case / "expanded").mkdir(parents=True)
    (case / "case.json").write_text(json.dumps({"input": "expanded", "expect": [], "spec": []}))
    (case / "expanded" / "data.hdr").write_bytes(b"ENVI\n")
    (case / "expanded" / "secret.txt").symlink_to(outside / "secret.txt")
    (case / "expanded" / "linked").symlink_to(outside / "folder", target_is_directory=True)
    (case.parent / "error-b").mkdir()
    (case.parent / "error-b" / "case.json").symlink_to(outside / "case.json")
    cases = load_cases(tmp_path / "fixtures")
    assert [c.path for c in cases] == [case]
    assert list(case_members(cases[0])) == ["data.hdr"]
    [written] = export_corpus(tmp_path / "out", cases=cases)
    assert b"SECRET" not in (tmp_path / "out" / written.file).read_bytes()


def test_an_unreadable_fixtures_folder_is_an_error(unlistable: Path) -> None:
    with pytest.raises(InputUnreadableError):
        load_cases(unlistable.parent)
