"""The parts of ``migrate`` with URLs (spec/batch.md#remote-migrate): trees, listing, skeleton, journal objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hsi_conform.converters.migrate_journal import LocalJournal, RemoteJournal
from hsi_conform.converters.migrate_remote import (
    HEAD,
    RemoteTree,
    check_roots,
    list_tree,
    remote_lock,
    skeleton,
    tree_of,
)
from hsi_conform.errors import ConfigError, InUseError, OutputIsInputError

fsspec = pytest.importorskip("fsspec")


def test_a_path_or_file_url_is_a_folder_other_urls_are_trees() -> None:
    assert tree_of("some/folder", None) == Path("some/folder")
    assert tree_of("file:///data/raw", None) == Path("/data/raw")
    tree = tree_of("s3://bucket/raw/2025/", {"anon": True})
    assert tree == RemoteTree("s3://bucket/raw/2025", {"anon": True})
    assert isinstance(tree, RemoteTree) and (tree.name, tree.protocol) == ("2025", "s3")
    assert RemoteTree("simplecache::s3://b/x").protocol == "s3"
    for url in ("https://example.org/tree", "http://example.org/tree"):
        with pytest.raises(ConfigError, match="cannot be listed"):
            tree_of(url, None)


def test_nested_trees_of_one_filesystem_are_refused(memory_bucket: tuple[Any, str]) -> None:
    _, name = memory_bucket
    src = RemoteTree(f"memory://{name}/a")
    with pytest.raises(OutputIsInputError):
        check_roots(src, RemoteTree(f"memory://{name}/a"))
    with pytest.raises(OutputIsInputError):
        check_roots(RemoteTree(f"memory://{name}/a/b"), src)
    check_roots(src, RemoteTree(f"memory://{name}/ab"))  # a sibling whose name starts alike
    check_roots(src, Path("/tmp/a"))


def test_the_skeleton_has_every_size_and_the_heads(memory_bucket: tuple[Any, str], tmp_path: Path) -> None:
    fs, name = memory_bucket
    big, header = bytes(range(256)) * (HEAD // 128), b"ENVI\n" + b"; a long comment\n" * (HEAD // 8)
    fs.pipe({f"{name}/t/d/big.img": big, f"{name}/t/d/big.hdr": header, f"{name}/t/empty": b"",
             f"{name}/t/.hsi-conform/journal/r/000000001.json": b"{}"})
    tree = RemoteTree(f"memory://{name}/t")
    sizes, bad = list_tree(tree)
    assert sizes == {"d/big.hdr": len(header), "d/big.img": len(big), "empty": 0} and bad == []
    assert skeleton(tree, sizes, tmp_path / "t") == []
    img = (tmp_path / "t" / "d" / "big.img").read_bytes()
    assert len(img) == len(big) and img[:HEAD] == big[:HEAD] and img[HEAD:] == bytes(len(big) - HEAD)
    assert (tmp_path / "t" / "d" / "big.hdr").read_bytes() == header  # a header whole, whatever its size
    assert (tmp_path / "t" / "empty").stat().st_size == 0


def test_a_missing_tree_is_not_a_folder(memory_bucket: tuple[Any, str]) -> None:
    _, name = memory_bucket
    with pytest.raises(ConfigError, match="not a folder"):
        list_tree(RemoteTree(f"memory://{name}/nothing"))


def test_journal_objects_are_read_back_in_the_order_written(memory_bucket: tuple[Any, str], tmp_path: Path) -> None:
    fs, name = memory_bucket
    tree = RemoteTree(f"memory://{name}/dst")
    first, second = RemoteJournal(tree), RemoteJournal(tree)
    for i in range(12):  # more than nine: the sequence sorts by name as it counts
        (first if i < 11 else second).append({"source": f"s{i}", "status": "ok"})
    fs.pipe(f"{name}/dst/.hsi-conform/journal/{second.run}/000000009.json", b'{"source": "cut')
    assert [e["source"] for e in RemoteJournal(tree).entries()] == [f"s{i}" for i in range(12)]
    assert set(RemoteJournal(tree).done()) == {f"s{i}" for i in range(12)}
    local = LocalJournal(tmp_path)
    (tmp_path / "migrate-journal.jsonl").write_bytes(b'{"source": "a", "status": "ok"}\n{"source": "cu')
    local.append({"source": "b", "status": "failed"})
    assert [e["source"] for e in local.entries()] == ["a", "b"]


def test_the_lock_object_is_exclusive_and_released(memory_bucket: tuple[Any, str]) -> None:
    fs, name = memory_bucket
    tree = RemoteTree(f"memory://{name}/dst")
    with remote_lock(tree) as key:
        assert fs.exists(key)
        with pytest.raises(InUseError), remote_lock(tree):
            pass
        assert fs.exists(key)  # the refused one did not remove it
    assert not fs.exists(key)


def _reach(tree: RemoteTree) -> str:
    try:
        tree.fs()
    except ConfigError as exc:
        return str(exc)
    return "reached"


def test_a_memory_tree_is_reached_only_in_its_own_process() -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    tree = tree_of("memory://anywhere/t", None)
    assert isinstance(tree, RemoteTree) and _reach(tree) == "reached"
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        message = pool.submit(_reach, tree).result()
    assert "lives in the memory of process" in message and "use -j 1 or Dask threads" in message
    assert _reach(RemoteTree("memory://anywhere/t")) == "reached"  # no owner named: any process
