"""``migrate`` from and to URLs: remote trees listed, staged, published and locked through fsspec.

A source URL is listed once on the client (``fs.find``), and the listing becomes a local **skeleton**: every
object a file of its listed size, holding its first :data:`HEAD` bytes (sparse beyond them; an ENVI header
whole), so the converters'
``can_read`` and ``source_files`` (names, sizes, signatures, headers) and :func:`~hsi_conform._walk.walk` judge
it as they judge a local tree. A worker **stages** a dataset's files into a local temp folder, converts from there
and removes it. A destination URL gets each validated output under a temp key (``.hsi-conform/tmp/``), its size
checked, then moved to its final key; the journal is one object per record, and the lock an object
(spec/batch.md#remote-migrate).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import os
import posixpath
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hsi_conform._space import ensure_room
from hsi_conform._walk import make_folders
from hsi_conform.errors import (
    ConfigError,
    HsiConformError,
    InputUnreadableError,
    InUseError,
    OutputIsInputError,
    OutputUnwritableError,
)
from hsi_conform.remote.fsspec_reader import url_filesystem
from hsi_conform.remote.urls import is_url

__all__ = ["HEAD", "STATE", "RemoteSource", "RemoteTree", "check_roots", "exists", "head_size", "list_tree",
           "prepare_destination", "publish", "remote_lock", "require_folder", "skeleton", "stage", "sweep_remote",
           "tree_of"]

HEAD = 64 * 1024
"""Bytes of each object the skeleton holds: whole objects up to this size (headers), the start of larger ones."""
STATE = ".hsi-conform"
"""The destination's folder (prefix) of migrate's own objects: ``tmp/``, ``journal/``, ``lock``."""
_BATCH = 128  # objects per concurrent request batch of the listing's heads
_NOT_LISTABLE = frozenset({"http", "https"})
_OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss"})


@dataclass(frozen=True, slots=True)
class RemoteTree:
    """A tree named by an fsspec URL, with the storage options that reach it (they travel with each task).

    Attributes:
        url: The URL as given, without a trailing ``/``.
        storage_options: fsspec options (credentials, endpoint...).
    """

    url: str
    storage_options: dict[str, Any] = field(default_factory=dict)
    owner: int | None = None
    """The process a ``memory://`` filesystem lives in (None: any process reaches the tree)."""

    def fs(self) -> tuple[Any, str]:
        """Return the filesystem and the tree's path in it.

        Raises:
            ConfigError: a ``memory://`` tree asked for in another process than its own (a worker process): the
                task fails rather than read or write a memory nobody else sees.
        """
        if self.owner is not None and self.owner != os.getpid():
            raise ConfigError(f"{self.url} lives in the memory of process {self.owner}, not of this worker "
                              f"(process {os.getpid()}): use -j 1 or Dask threads")
        fs, root = url_filesystem(self.url, self.storage_options, task=f"migrating {self.url!r}")
        return fs, root.rstrip("/")

    def key(self, rel: str) -> str:
        """Return the path in the filesystem of ``rel`` (a ``/``-separated name under the tree)."""
        return f"{self.fs()[1]}/{rel}"

    @property
    def name(self) -> str:
        """The tree's last name (what a local folder's name is to ``migrate``)."""
        return posixpath.basename(self.url.split("://", 1)[1].rstrip("/")) or "root"

    @property
    def protocol(self) -> str:
        """The URL's (last) protocol, lower case."""
        return self.url.split("://", 1)[0].rsplit("::", 1)[-1].lower()


@dataclass(frozen=True, slots=True)
class RemoteSource:
    """A source URL and the client's skeleton of it (only the client reads the skeleton)."""

    tree: RemoteTree
    skeleton: Path


def tree_of(name: str | os.PathLike[str], storage_options: Mapping[str, Any] | None) -> Path | RemoteTree:
    """Return a local folder for a path or a ``file://`` URL, a :class:`RemoteTree` for another URL.

    Raises:
        ConfigError: a protocol that cannot be listed (``http(s)://``).
    """
    if not is_url(name):
        return Path(name)
    text = str(name)
    if text.lower().startswith("file://"):
        return Path(text[len("file://"):] or "/")
    tree = RemoteTree(text.rstrip("/"), dict(storage_options or {}))
    if tree.protocol == "memory":
        tree = RemoteTree(tree.url, tree.storage_options, os.getpid())
    if tree.protocol in _NOT_LISTABLE:
        raise ConfigError(f"migrate lists and writes trees, and {tree.protocol}:// cannot be listed: {text} "
                          "(spec/batch.md#remote-migrate)")
    return tree


def check_roots(src: Path | RemoteTree, dst: Path | RemoteTree) -> None:
    """Refuse a destination that is, holds or lies inside the source, on the same filesystem.

    Raises:
        OutputIsInputError: one tree holds the other.
    """
    if not (isinstance(src, RemoteTree) and isinstance(dst, RemoteTree)):
        return  # a local folder and a URL of another protocol never overlap
    (sfs, sroot), (dfs, droot) = src.fs(), dst.fs()
    if type(sfs) is not type(dfs) or src.storage_options != dst.storage_options:
        return
    if sroot == droot:
        raise OutputIsInputError(dst.url, src.url, "is")
    if droot.startswith(sroot + "/"):
        raise OutputIsInputError(dst.url, src.url, "lies inside")
    if sroot.startswith(droot + "/"):
        raise OutputIsInputError(dst.url, src.url, "contains")


def list_tree(tree: RemoteTree) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """List every object under the tree: ``{relative name: size}`` and the names that cannot be files.

    A name with an empty, ``.`` or ``..`` part (possible in an object store) is returned with its reason, as an
    unreadable entry of a local walk is; migrate's own objects (``.hsi-conform/``) are left out.

    Raises:
        ConfigError: the tree does not exist or is not a folder (a missing bucket or prefix).
        InputUnreadableError: it cannot be listed (permission, network).
    """
    fs, root = tree.fs()
    found = _listed(tree, lambda: fs.find(root, detail=True, withdirs=False))
    if not found:
        require_folder(tree)  # an empty listing: an empty folder, or none
    sizes: dict[str, int] = {}
    bad: list[tuple[str, str]] = []
    prefix = root + "/"
    for path, info in sorted(found.items()):
        if not path.startswith(prefix) or info.get("type", "file") != "file":
            continue
        rel = path[len(prefix):]
        if rel.startswith(f"{STATE}/"):
            continue  # the journal, lock and temp keys of a tree migrated into: never a dataset
        if any(part in ("", ".", "..") for part in rel.split("/")) or "\0" in rel:
            bad.append((rel, "a name that cannot be a file (an empty, '.' or '..' part)"))
            continue
        sizes[rel] = int(info.get("size") or 0)
    return sizes, bad


def require_folder(tree: RemoteTree) -> None:
    """Raise unless the tree is a folder (a prefix with objects under it), before anything is written.

    Raises:
        ConfigError: it is not (a missing bucket or prefix).
        InputUnreadableError: it cannot be examined (permission, network).
    """
    fs, root = tree.fs()
    if not _listed(tree, lambda: fs.isdir(root)):
        raise ConfigError(f"{tree.url} is not a folder (no object is listed under it)")


def _listed(tree: RemoteTree, ask: Callable[[], Any]) -> Any:
    """Return ``ask()``; a missing tree is a usage error, any other failure an unreadable input."""
    try:
        return ask()
    except FileNotFoundError as exc:
        raise ConfigError(f"{tree.url} is not a folder ({exc})") from exc
    except Exception as exc:  # what each filesystem raises differs (PermissionError, ClientError, timeouts)
        raise InputUnreadableError(tree.url, f"cannot list: {exc}") from exc


def head_size(rel: str, size: int) -> int:
    """Return how many bytes of an object the skeleton holds: an ENVI header whole, else up to :data:`HEAD`."""
    return size if rel.lower().endswith(".hdr") else min(size, HEAD)


def skeleton(tree: RemoteTree, sizes: Mapping[str, int], into: Path) -> list[tuple[str, str]]:
    """Write the skeleton of a listing into the folder ``into``; return the names that could not be fetched.

    Raises:
        NoSpaceError: the heads do not fit beside ``into``.
    """
    make_folders(into)
    ensure_room(into / "heads", sum(head_size(rel, size) for rel, size in sizes.items()))
    fs, root = tree.fs()
    bad: list[tuple[str, str]] = []
    names = sorted(sizes)
    for start in range(0, len(names), _BATCH):
        batch = [rel for rel in names[start:start + _BATCH] if sizes[rel]]
        heads = fs.cat_ranges([f"{root}/{rel}" for rel in batch], [0] * len(batch),
                              [head_size(rel, sizes[rel]) for rel in batch], on_error="return") if batch else []
        got = dict(zip(batch, heads, strict=True))
        for rel in names[start:start + _BATCH]:
            head = got.get(rel, b"")
            if isinstance(head, BaseException):
                bad.append((rel, f"cannot read: {head}"))
                continue
            try:
                target = make_folders((into / rel).parent) / posixpath.basename(rel)
                with open(target, "wb") as f:
                    f.write(head)
                    f.truncate(sizes[rel])  # sparse beyond the head: the size the converters compare
            except OSError as exc:  # an object named like a folder of another (x and x/y)
                bad.append((rel, f"cannot be a file here: {exc.strerror or exc}"))
    return bad


def stage(tree: RemoteTree, sizes: Mapping[str, int], into: Path) -> str | None:
    """Copy the objects ``sizes`` names into the folder ``into``; return why one cannot be read, or None.

    Raises:
        NoSpaceError: they do not fit beside ``into``.
    """
    make_folders(into)
    ensure_room(into / "staged", sum(sizes.values()))
    fs, root = tree.fs()
    for rel, size in sorted(sizes.items()):
        target = make_folders((into / rel).parent) / posixpath.basename(rel)
        try:
            fs.get_file(f"{root}/{rel}", str(target))
        except Exception as exc:  # permission, network, the object vanished: this dataset only
            return f"cannot read {rel}: {exc}"
        got = target.stat().st_size
        if got != size:
            return f"cannot read {rel}: {size} bytes listed, {got} fetched (it changed during the migration)"
    return None


def _is_object_store(fs: Any) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
    return any(p in _OBJECT_STORES for p in protocols)


def prepare_destination(tree: RemoteTree) -> None:
    """Create the destination folder (not on an object store: its bucket must exist, a prefix needs none).

    Raises:
        ConfigError: the bucket does not exist.
        OutputUnwritableError: the destination cannot be examined or created.
    """
    fs, root = tree.fs()
    try:
        if _is_object_store(fs):
            try:
                fs.info(root.split("/", 1)[0])  # not exists(): it says False for an endpoint it cannot reach
            except FileNotFoundError as exc:
                raise ConfigError(f"the bucket of {tree.url} does not exist (migrate creates no bucket)") from exc
        elif not fs.isdir(root):
            fs.makedirs(root, exist_ok=True)
    except HsiConformError:
        raise
    except Exception as exc:
        raise OutputUnwritableError(tree.url, f"cannot prepare the destination: {exc}") from exc


def sweep_remote(tree: RemoteTree) -> list[str]:
    """Remove the temp objects a killed run left under ``.hsi-conform/tmp/``; return their names.

    Only safe while this run holds the destination's lock: no other writer uploads there.
    """
    fs, root = tree.fs()
    tmp = f"{root}/{STATE}/tmp"
    try:
        left = sorted(fs.find(tmp))
        if left:
            fs.rm(left)
    except FileNotFoundError:
        return []
    except Exception as exc:
        raise OutputUnwritableError(tree.url, f"cannot remove the temp objects of an earlier run: {exc}") from exc
    return [p[len(root) + 1:] for p in left]


def publish(local: Path, tree: RemoteTree, name: str) -> None:
    """Upload ``local`` to ``name`` under the tree: under a temp key, its size checked, then moved.

    Raises:
        OSError: the upload or the move failed, or the uploaded size differs (the temp is removed when it can be).
    """
    fs, root = tree.fs()
    size = local.stat().st_size
    tmp, final = f"{root}/{STATE}/tmp/{uuid.uuid4().hex}.hsi", f"{root}/{name}"
    if not _is_object_store(fs):
        fs.makedirs(posixpath.dirname(tmp), exist_ok=True)
        fs.makedirs(posixpath.dirname(final), exist_ok=True)
    try:
        fs.put_file(str(local), tmp)
        _check_upload(fs.info(tmp), local, size)
        fs.mv(tmp, final)  # a rename where the filesystem has one; a server-side copy and a delete on S3
    except BaseException:
        with contextlib.suppress(Exception):
            fs.rm_file(tmp)
        raise
    if int(fs.info(final)["size"]) != size:
        raise OSError(errno.EIO, f"{final}: the published object is not {size} bytes")


def _check_upload(info: Mapping[str, Any], local: Path, size: int) -> None:
    """Raise unless the uploaded object has the local file's size, and its MD5 where its ETag is one.

    A single-part S3 upload's ETag is the MD5 of its bytes; a multipart one (``<hex>-<parts>``) and other stores'
    tags are not, and only the size is compared.
    """
    uploaded = int(info.get("size", -1))
    if uploaded != size:
        raise OSError(errno.EIO, f"{uploaded} bytes uploaded of {size}")
    etag = str(info.get("ETag") or info.get("etag") or "").strip('"').lower()
    if len(etag) == 32 and all(c in "0123456789abcdef" for c in etag):
        digest = hashlib.md5(usedforsecurity=False)
        with open(local, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() != etag:
            raise OSError(errno.EIO, f"the uploaded object's MD5 (ETag {etag}) is not the file's")


def exists(tree: RemoteTree, name: str) -> bool:
    """Whether ``name`` exists under the tree (a failed look-up counts as missing: it is converted again)."""
    fs = tree.fs()[0]
    try:
        fs.invalidate_cache(tree.key(name))  # a worker's filesystem may have listed it before this run
        return bool(fs.isfile(tree.key(name)))
    except Exception:
        return False


def _alive_here(owner: Mapping[str, Any]) -> bool:
    """Whether the lock's owner may still run: on another host, or a live process of this one."""
    if owner.get("host") != socket.gethostname() or not isinstance(owner.get("pid"), int):
        return True
    try:
        os.kill(owner["pid"], 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@contextlib.contextmanager
def remote_lock(tree: RemoteTree) -> Iterator[str]:
    """Hold the lock object ``.hsi-conform/lock`` of a destination URL for the block; yield its key.

    The object names its owner (host, pid, run); a lock whose owner is a dead process of this host is taken
    over. Check, write, read back: two runs starting in the same instant may both pass on a store without
    conditional writes (spec/batch.md#remote-migrate).

    Raises:
        InUseError: another run holds it.
        OutputUnwritableError: it cannot be written.
    """
    fs, root = tree.fs()
    key = f"{root}/{STATE}/lock"
    me = {"host": socket.gethostname(), "pid": os.getpid(), "run": uuid.uuid4().hex,
          "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    owner = _read_lock(fs, key)
    if owner is not None and _alive_here(owner):
        raise InUseError(f"{tree.url} (lock {STATE}/lock of host {owner.get('host')})", owner.get("pid"))
    try:
        if not _is_object_store(fs):
            fs.makedirs(posixpath.dirname(key), exist_ok=True)
        fs.pipe_file(key, json.dumps(me).encode())
    except Exception as exc:
        raise OutputUnwritableError(tree.url, f"cannot write its lock: {exc}") from exc
    owner = _read_lock(fs, key)
    if owner is None or owner.get("run") != me["run"]:
        raise InUseError(f"{tree.url} (lock {STATE}/lock)", None if owner is None else owner.get("pid"))
    try:
        yield key
    finally:
        with contextlib.suppress(Exception):
            if (_read_lock(fs, key) or {}).get("run") == me["run"]:
                fs.rm_file(key)


def _read_lock(fs: Any, key: str) -> dict[str, Any] | None:
    try:
        owner = json.loads(fs.cat_file(key))
    except FileNotFoundError:
        return None
    except Exception:
        return {}  # unreadable or cut: held by someone unknown
    return owner if isinstance(owner, dict) else {}
