"""The shared test helpers do what the tests built on them assume."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import hsi_conform
from hsi_conform.corpus.golden import FIXTURES as GOLDEN_FIXTURES
from hsi_conform.testing.samples import sample_members, write_members
from tests._paths import FIXTURES, ROOT, SPEC
from tests._support import CliRunner, member_digests, write_tree


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


def test_the_installed_metadata_has_every_entry_point_the_checkout_declares() -> None:
    # `make test` reinstalls when pyproject.toml changes; a stale editable install fails here, not in odd places.
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["entry-points"]
    for group, points in declared.items():
        assert set(points) <= {ep.name for ep in entry_points(group=group)}, group
