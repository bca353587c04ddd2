"""hsi_conform.corpus.thirdparty: the expectations and SOURCES parsers, field values as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from hsi_conform.corpus.thirdparty import (
    EXPECTED,
    SOURCES,
    THIRD_PARTY,
    field_value,
    load_datasets,
    read_sources,
)

COMMIT = "0" * 40


def write(folder: Path, name: str, text: str) -> Path:
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_shipped_set_loads() -> None:
    datasets = load_datasets(THIRD_PARTY)
    assert datasets and all(d.header_path.is_file() for d in datasets)
    assert {r.path.split("/")[0] for r in read_sources(THIRD_PARTY)} == {d.name for d in datasets}


def test_exit_code_follows_outcome_and_errors(tmp_path: Path) -> None:
    write(tmp_path, EXPECTED, '[a]\nheader = "a.hdr"\ndata = "a"\nimport = "ok"\n'
                              '[b]\nheader = "b.hdr"\ndata = "b"\nimport = "ok"\nerrors = ["FLD001"]\n'
                              '[c]\nheader = "c.hdr"\nimport = "refused"\n')
    a, b, c = load_datasets(tmp_path)
    assert (a.exit_code, b.exit_code, c.exit_code) == (0, 1, 3)
    assert c.data_path is None and a.data_path == tmp_path / "a" / "a"


@pytest.mark.parametrize("table", ['header = "a.hdr"\nimport = "maybe"\n',
                                   'header = "a.hdr"\nimport = "ok"\nerorrs = []\n'])
def test_a_bad_table_is_refused(tmp_path: Path, table: str) -> None:
    write(tmp_path, EXPECTED, "[a]\n" + table)
    with pytest.raises(ValueError, match=r"\[a\]"):
        load_datasets(tmp_path)


def test_sources_give_each_file_its_repository(tmp_path: Path) -> None:
    write(tmp_path, SOURCES, f"# comment\nsource g https://x/y {COMMIT} MIT\n\nfile a/a.hdr {'1' * 64} g up/a.hdr\n")
    (record,) = read_sources(tmp_path)
    assert (record.path, record.repository, record.commit, record.licence, record.upstream_path) == (
        "a/a.hdr", "https://x/y", COMMIT, "MIT", "up/a.hdr")


@pytest.mark.parametrize("line", [f"file a/a.hdr {'1' * 64} undeclared up/a.hdr", "source g too few"])
def test_a_bad_sources_line_is_refused(tmp_path: Path, line: str) -> None:
    write(tmp_path, SOURCES, line + "\n")
    with pytest.raises(ValueError, match=f"{SOURCES}:1"):
        read_sources(tmp_path)


def test_field_values_compare_across_a_canonical_rewrite() -> None:
    original = b"ENVI\nwavelength = {\n 400.5,\n  500}\nsensor type = FENIX \nStart Time = 1\n"
    canonical = b"ENVI\nwavelength = {400.5, 500}\nsensor type = FENIX\nstart time = 1\n"
    for key in ("wavelength", "sensor type", "start time"):
        assert field_value(original, key) == field_value(canonical, key)
    assert field_value(original, "wavelength") == ("400.5", "500")
    assert field_value(original, "fwhm") is None
