"""A 2,000-deep folder, in a container's member names or in a tree on disk, is a finding or a clean result.

Python 3.11's ``os.walk``, ``Path.rglob``, ``shutil.rmtree`` and ``Path.mkdir(parents=True)`` recurse once per
level and raise ``RecursionError`` near 1,000 levels: every walk, removal and creation of a folder goes through
:mod:`hsi_conform._walk` instead (issue 11 item 7). The trees are built one level at a time by descriptor, and
removed with :func:`~hsi_conform._walk.remove_tree`, because pytest's own clean-up uses ``shutil.rmtree``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from hsi_conform._atomic import sweep_temps, temp_name
from hsi_conform._walk import files_under, make_folders, remove_tree
from hsi_conform.converters.envi import walk_files
from hsi_conform.converters.migrate import iter_journal, migrate
from hsi_conform.converters.specim.folder import walk as specim_walk
from hsi_conform.corpus.golden import load_cases
from hsi_conform.testing.samples import sample_members, write_sample_container
from hsi_conform.testing.zipcraft import Entry, build
from hsi_conform.validate import check
from tests._support import CliRunner

DEPTH = 2000


def nest(root: Path, depth: int = DEPTH, name: str = "d") -> list[str]:
    """Create ``root/d/d/.../d`` (``depth`` levels) by descriptor; return the relative names, top first."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd), "wb") as f:
            f.write(b"at the bottom\n")
    finally:
        os.close(fd)
    return [name] * depth


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A folder for deep trees, removed without recursion at the end (pytest's shutil.rmtree would recurse)."""
    folder = tmp_path / "t"
    folder.mkdir()
    yield folder
    remove_tree(folder)


def test_remove_tree_removes_a_2000_deep_tree_and_follows_no_link(scratch: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("kept")
    tree = scratch / "tree"
    nest(tree)
    (tree / "link").symlink_to(outside, target_is_directory=True)
    (tree / "d" / "file.txt").write_text("x")
    remove_tree(tree)
    assert not tree.exists()
    assert (outside / "keep.txt").read_text() == "kept"
    with pytest.raises(OSError):
        remove_tree(tree)
    remove_tree(tree, ignore_errors=True)


def test_make_folders_creates_a_deep_chain(scratch: Path) -> None:
    target = scratch.joinpath(*["d"] * 1500)
    assert make_folders(target) == target and target.is_dir()
    assert make_folders(target) == target  # exists already: fine, as with exist_ok
    (scratch / "file").write_text("x")
    with pytest.raises(OSError):
        make_folders(scratch / "file" / "sub")


def test_walkers_list_a_2000_deep_tree(scratch: Path) -> None:
    nest(scratch / "tree")
    (scratch / "tree" / "top.txt").write_text("x")
    # The bottom of the tree lies past PATH_MAX: what cannot be named is left out, nothing raises.
    assert scratch / "tree" / "top.txt" in files_under(scratch / "tree")
    assert "top.txt" in dict(walk_files(scratch / "tree"))
    files, dirs, skipped = specim_walk(scratch / "tree")
    assert "top.txt" in files and len(dirs) > 1000 and skipped == []


def test_expanded_folder_with_a_2000_deep_subfolder_validates(scratch: Path, cli: CliRunner) -> None:
    folder = scratch / "container"
    for name, data in sample_members().items():
        make_folders((folder / name).parent)
        (folder / name).write_bytes(data)
    nest(folder / "Metadata")
    report = check(folder)
    assert not report.internal_errors
    assert cli(["validate", folder]).code in (0, 1)


def test_container_with_a_2000_deep_member_name(scratch: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    name = "Metadata/" + "d/" * DEPTH + "x.txt"
    entries = [Entry(n.encode(), d) for n, d in sample_members().items()] + [Entry(name.encode(), b"deep")]
    path = scratch / "deep.hsi"
    path.write_bytes(build(entries))
    report = check(path)
    assert {"ZIP039", "ZIP051"} <= {f.rule for f in report.findings} and not report.internal_errors
    assert cli(["validate", path]).code == 1
    # An ENVI export keeps the member in its sidecar folder, 2,000 levels deep: relative paths stay below PATH_MAX.
    monkeypatch.chdir(scratch)
    result = cli(["convert", "deep.hsi", "out.hdr"])
    assert result.code in (0, 1), result.err  # converted, or refused as nonconformant: never a crash
    assert not [p for p in scratch.iterdir() if ".tmp-" in p.name]


def test_a_member_path_longer_than_the_system_allows_is_an_io_error(scratch: Path, cli: CliRunner) -> None:
    name = "Metadata/" + "d/" * 2100 + "x.txt"  # 4,200 bytes of folders: past PATH_MAX (4,096) wherever it lands
    entries = [Entry(n.encode(), d) for n, d in sample_members().items()] + [Entry(name.encode(), b"deep")]
    path = scratch / "deeper.hsi"
    path.write_bytes(build(entries))
    result = cli(["convert", path, scratch / "out.hdr"])
    assert result.code in (1, 3), result.err  # refused as nonconformant, or stopped at the path: no traceback
    assert sorted(p.name for p in scratch.iterdir()) == ["deeper.hsi"]  # no output, no temp left behind


def test_corpus_tree_with_a_2000_deep_folder_loads(scratch: Path) -> None:
    case = scratch / "fixtures" / "container" / "ZIP001-zip-not-a-zip" / "valid-sample"
    make_folders(case)
    (case / "case.json").write_text(json.dumps({"description": "d", "spec": ["container.md#zip-not-a-zip"],
                                                 "input": "sample", "expect": []}))
    nest(scratch / "fixtures" / "deep")
    assert [c.path for c in load_cases(scratch / "fixtures")] == [case]


def test_sweep_reaches_a_temp_folder_deep_down(scratch: Path) -> None:
    nest(scratch / "out", depth=1500)
    bottom = (scratch / "out").joinpath(*["d"] * 1500)
    temp = temp_name(bottom / "x.hsi")
    temp.write_bytes(b"partial")
    folder = temp_name(scratch / "out" / "y.d")
    nest(folder)
    assert sorted(sweep_temps(scratch / "out")) == sorted([temp, folder])
    assert not temp.exists() and not folder.exists()


def test_migrate_a_corpus_with_a_dataset_1500_levels_down(scratch: Path) -> None:
    src = scratch / "src"
    nest(src, depth=1500)
    deep = src.joinpath(*["d"] * 1500)
    write_sample_container(deep / "s.hsi")
    (deep / "scene.img").write_bytes(np.arange(60, dtype="<u2").tobytes())
    (deep / "scene.hdr").write_text("ENVI\nsamples = 5\nlines = 4\nbands = 3\nheader offset = 0\n"
                                    "file type = ENVI Standard\ndata type = 12\ninterleave = bil\nbyte order = 0\n"
                                    "wavelength units = nm\nwavelength = {400, 500, 600}\n")
    dst = scratch / "dst"
    migrate(src, dst)
    migrate(src, dst)  # the second run sweeps and resumes over the deep destination
    statuses = [(r["source"].rsplit("/", 1)[-1], r["status"]) for r in iter_journal(dst)]
    assert sorted(statuses) == [("s.hsi", "ok"), ("s.hsi", "skipped"), ("scene.hdr", "ok"), ("scene.hdr", "skipped")]
    assert len(files_under(dst)) == 3  # two containers and the journal
