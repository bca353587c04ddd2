"""The directory walker (``hsi_conform._walk``) and its callers: ``validate DIR`` and ``migrate``."""

from __future__ import annotations

import errno
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hsi_conform._walk import Folder, Unit, Visit, WalkError, files_under, walk
from hsi_conform.cli import ExitCode
from hsi_conform.cli.main import main
from hsi_conform.converters.migrate import migrate
from hsi_conform.testing.samples import sample_members, write_sample_container


def touch(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def summary(items: Iterator[object], root: Path) -> list[tuple[str, ...]]:
    """Items as comparable tuples, paths relative to ``root``."""
    out: list[tuple[str, ...]] = []
    for item in items:
        if isinstance(item, Folder):
            rel = item.path.relative_to(root).as_posix()
            out.append(("folder", rel, *(p.name for p in item.files), "|", *(p.name for p in item.links)))
        elif isinstance(item, Unit):
            out.append(("unit", item.path.relative_to(root).as_posix()))
        else:
            assert isinstance(item, WalkError)
            out.append(("error", item.path.relative_to(root).as_posix()))
    return out


def test_walk_is_sorted_depth_first_with_files_and_links_per_folder(tmp_path: Path) -> None:
    root = tmp_path / "root"
    touch(root / "b.txt")
    touch(root / "a.txt")
    touch(root / "z" / "y.txt")
    touch(root / "m" / "n" / "o.txt")
    (root / "l").symlink_to(root / "a.txt")
    assert summary(walk(root), root) == [
        ("folder", ".", "a.txt", "b.txt", "|", "l"),
        ("folder", "m", "|"),
        ("folder", "m/n", "o.txt", "|"),
        ("folder", "z", "y.txt", "|"),
    ]


def test_hook_is_called_lazily_in_name_order_and_prunes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for name in ("a/x", "b/x", "c/x", "d/x"):
        touch(root / name)
    calls: list[str] = []
    seen_folders: list[str] = []

    def classify(folder: Path) -> Visit:
        calls.append(folder.name)
        # the parent's Folder item has been handled before its sub-folders are classified
        assert folder == root or folder.parent.name in seen_folders
        return {"b": Visit.UNIT, "c": Visit.SKIP}.get(folder.name, Visit.DESCEND)

    items = []
    for item in walk(root, classify):
        if isinstance(item, Folder):
            seen_folders.append(item.path.name)
        items.append(item)
    assert calls == ["root", "a", "b", "c", "d"]
    assert summary(iter(items), root) == [("folder", ".", "|"), ("folder", "a", "x", "|"), ("unit", "b"),
                                          ("folder", "d", "x", "|")]
    assert summary(walk(root, lambda _: Visit.UNIT), root) == [("unit", ".")]


def test_symlinks_are_listed_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    touch(outside / "secret.hsi")
    root = tmp_path / "root"
    root.mkdir()
    (root / "to-folder").symlink_to(outside, target_is_directory=True)
    (root / "to-file").symlink_to(outside / "secret.hsi")
    (root / "dangling").symlink_to(tmp_path / "nothing")
    (root / "loop").symlink_to(root, target_is_directory=True)
    offered: list[Path] = []
    items = list(walk(root, lambda f: offered.append(f) or Visit.DESCEND))
    assert summary(iter(items), root) == [("folder", ".", "|", "dangling", "loop", "to-file", "to-folder")]
    assert offered == [root]
    assert files_under(root) == []


def test_a_symlinked_root_is_followed(tmp_path: Path) -> None:
    touch(tmp_path / "real" / "f")
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    items = list(walk(tmp_path / "alias"))
    assert isinstance(items[0], Folder) and items[0].files == (tmp_path / "alias" / "f",)


def test_an_unreadable_folder_is_an_error_item_and_the_walk_goes_on(unlistable: Path) -> None:
    tree = unlistable.parent
    touch(tree / "z-after" / "f")
    items = list(walk(tree))
    errors = [i for i in items if isinstance(i, WalkError)]
    assert len(errors) == 1 and errors[0].error.errno == errno.ENAMETOOLONG
    assert errors[0].path.is_relative_to(unlistable) and errors[0].reason
    assert any(isinstance(i, Folder) and i.path.name == "z-after" for i in items)


def test_a_folder_that_vanishes_and_a_failing_hook_are_error_items(tmp_path: Path) -> None:
    for name in ("a/f", "b/f", "c/f"):
        touch(tmp_path / name)

    def classify(folder: Path) -> Visit:
        if folder.name == "a":
            shutil.rmtree(folder)  # gone between the listing of its parent and its own
        if folder.name == "b":
            raise PermissionError(errno.EACCES, "Permission denied", str(folder))
        return Visit.DESCEND

    assert summary(walk(tmp_path, classify), tmp_path) == [("folder", ".", "|"), ("error", "a"), ("error", "b"),
                                                          ("folder", "c", "f", "|")]


def test_a_tree_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    chain = [tmp_path / "d"]
    for _ in range(1200):  # one level at a time: Path.mkdir(parents=True) itself recurses
        chain.append(chain[-1] / "d")
    for folder in chain:
        folder.mkdir()
    leaf = touch(chain[-1] / "f")
    try:
        assert files_under(tmp_path) == [leaf]
    finally:  # shutil.rmtree (pytest's clean-up too) recurses once per level: remove the chain bottom-up
        leaf.unlink()
        for folder in reversed(chain):
            folder.rmdir()


def test_files_under_sorts_like_paths(tmp_path: Path) -> None:
    for name in ("a.txt", "b/c.txt", "z.txt", "b/a/x"):
        touch(tmp_path / name)
    assert files_under(tmp_path) == sorted(p for p in tmp_path.rglob("*") if p.is_file())


def test_validate_reports_an_unreadable_folder_validates_the_rest_and_exits_3(
        tmp_path: Path, unlistable: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    write_sample_container(unlistable.parent / "good.hsi")
    monkeypatch.chdir(unlistable.parent)
    assert main(["validate", "--format", "json", "."]) == ExitCode.UNREADABLE
    out, err = capsys.readouterr()
    files = json.loads(out)["files"]
    assert [(f["path"].startswith("deep/d"), "input_error" in f) for f in files] == [(False, False), (True, True)]
    assert files[0]["path"] == "good.hsi" and files[0]["conformant"]
    assert "deep/ddd" in err and str(tmp_path) not in err  # the path as the user named the tree
    assert main(["validate", "--isolated", "good.hsi"]) == ExitCode.OK
    capsys.readouterr()


def test_validate_dir_keeps_validating_linked_containers_without_walking_linked_folders(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "outside"
    (outside / "hidden").mkdir(parents=True)
    write_sample_container(outside / "linked.hsi")
    write_sample_container(outside / "hidden" / "deeper.hsi")
    for name, data in sample_members().items():
        touch(outside / "expanded" / name, data)
    tree = tmp_path / "tree"
    tree.mkdir()
    write_sample_container(tree / "own.hsi")
    (tree / "link.hsi").symlink_to(outside / "linked.hsi")
    (tree / "container").symlink_to(outside / "expanded", target_is_directory=True)
    (tree / "folder").symlink_to(outside / "hidden", target_is_directory=True)
    assert main(["validate", "--format", "json", str(tree)]) == ExitCode.OK
    names = [Path(f["path"]).name for f in json.loads(capsys.readouterr().out)["files"]]
    assert names == ["own.hsi", "container", "link.hsi"]


def test_migrate_counts_an_unreadable_folder_as_failed_and_migrates_the_rest(
        tmp_path: Path, unlistable: Path) -> None:
    src = unlistable.parent
    (src / "c").mkdir()
    write_sample_container(src / "c" / "sample.hsi")
    result = migrate(src, tmp_path / "dst")
    assert result.ok == 1 and result.failed == 1 and result.exit_code is ExitCode.NONCONFORMANT
    [(where, _)] = result.failures
    assert where.startswith("deep/")
