"""The shared test helpers do what the tests built on them assume."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import hsi_conform
from hsi_conform.corpus.golden import FIXTURES as GOLDEN_FIXTURES
from hsi_conform.testing.samples import sample_members, write_members
from tests._paths import FIXTURES, ROOT, SPEC
from tests._support import CliRunner, member_digests, missing_entry_points, write_entry_points, write_tree


def test_paths_point_into_the_checkout() -> None:
    assert (ROOT / "pyproject.toml").is_file() and (ROOT / "tests" / "_paths.py").is_file()
    assert GOLDEN_FIXTURES.resolve() == FIXTURES and (FIXTURES / "case.schema.json").is_file()
    assert (SPEC / "rules.md").is_file()


def test_cli_returns_the_exit_code_and_only_this_runs_output(tmp_path: Path, cli: CliRunner) -> None:
    sample = write_members(tmp_path / "s.hsi", sample_members())
    print("printed before the run")
    first = cli(["validate", sample])
    assert first.code == 0 and sample.name in first.out and "printed before" not in first.out
    missing = cli(["validate", tmp_path / "missing.hsi"])
    assert missing.code == 3 and "missing.hsi" in missing.err and sample.name not in missing.out + missing.err


def test_cli_turns_an_argparse_exit_into_its_code(tmp_path: Path, cli: CliRunner) -> None:
    result = cli(["validate", "--content", "everything", tmp_path / "x.hsi"])
    assert result.code == 2 and result.err


def test_write_tree_leaves_out_none_and_makes_directory_entries_folders(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "t", {"a/b.txt": "text", "gone.txt": None, "Empty/": b"", "c.bin": b"\x00"})
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == ["Empty", "a", "a/b.txt", "c.bin"]
    assert (root / "a" / "b.txt").read_bytes() == b"text" and (root / "Empty").is_dir()


def test_write_tree_of_the_sample_opens_like_the_archive(tmp_path: Path) -> None:
    members = sample_members()
    folder = write_tree(tmp_path / "f", members)
    archive = write_members(tmp_path / "a.hsi", members)
    assert member_digests(folder, directories=False) == member_digests(archive)
    with hsi_conform.open(folder) as opened:
        assert set(members) <= set(opened.names)


def test_member_digests_leave_out_directory_entries_only_when_asked(tmp_path: Path) -> None:
    archive = write_members(tmp_path / "a.hsi", sample_members() | {"Exploration/": b""})
    assert set(member_digests(archive)) - set(member_digests(archive, directories=False)) == {"Exploration/"}


def test_declared_entry_points_missing_from_the_metadata_are_found_and_added(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project.entry-points."hsi_conform.test_group"]\nprobe = "json:dumps"\n'
                         '[project.entry-points."hsi_conform.converters"]\n'
                         'hsi = "hsi_conform.converters.hsi:HsiConverter"\n')
    assert missing_entry_points(pyproject) == {"hsi_conform.test_group": {"probe": "json:dumps"}}
    monkeypatch.syspath_prepend(str(write_entry_points(tmp_path / "site", missing_entry_points(pyproject))))
    assert missing_entry_points(pyproject) == {}
    (found,) = entry_points(group="hsi_conform.test_group")
    assert found.load() is json.dumps


def test_the_checkout_declares_nothing_python_cannot_find() -> None:
    assert missing_entry_points(ROOT / "pyproject.toml") == {}  # the session fixture of conftest.py added them
