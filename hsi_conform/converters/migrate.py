"""Migrate a tree of datasets to ``.hsi`` containers, validating each one, resumably.

``migrate(src, dst)`` walks ``src`` (with :mod:`hsi_conform._walk`: symlinks are never followed; nothing under
``src`` is written), and converts every dataset a registered converter recognises into ``dst/<relative path>.hsi``:

* **Discovery.** A folder is offered to every converter first (``can_read``), so a SPECIM folder is one dataset;
  otherwise its files are offered (headers first, so an ENVI pair is one dataset), and every file a claimed
  dataset reads (the converter's ``source_files()``, plus the file itself) is not offered again; sub-folders
  holding such files (``<name>.hsi.d/``) are not walked. Unclaimed files are counted as unrecognised; a folder
  that cannot be read is journaled as an ``error`` and the walk goes on.
* **Sources** are judged as ``convert`` judges them (spec/safety.md#refused): a nonconformant ``.hsi`` source (or
  expanded container folder) is a ``failed`` record unless ``allow_nonconformant`` is given; an unsafe member name
  or members sharing bytes are always refused. Other formats are judged by their readers.
* **Options** are routed as ``convert`` routes them (the converters' declared ``read_options``, and the ``hsi``
  writer's ``write_options``): each dataset's reader gets the ones it declares; an option nobody declares is
  refused before anything is converted.
* **Output names.** ``x.hdr`` → ``x.hsi``, folder ``d`` → ``d.hsi``, ``x.hsi`` → ``x.hsi``; when two datasets of
  one folder would collide, the later one keeps its full name (``x.h5.hsi``).
* **Journal.** ``dst/migrate-journal.jsonl``, one JSON object per dataset, appended and fsynced:
  ``source`` (relative to ``src``), ``format``, ``sha256`` (over the sorted ``files`` digests), ``files``
  (relative path → sha256), ``output`` (relative to ``dst``), ``status`` (``ok``: published and validated;
  ``failed``: the conversion failed, nothing published; ``error``: the source could not be read at all (a folder
  that cannot be listed, a file that cannot be read), nothing published; ``skipped``: an ``ok`` line with the
  same ``sha256`` exists and its output is still there), ``findings`` (count per severity), ``error`` (the
  reason), ``notes``, ``tool_version``, ``time``. An ``error`` record of a folder has no ``format``, ``sha256``
  or ``output``. A record always starts on a line of its own: a last line cut by a crash is ended first (and,
  not being JSON, ignored).
* **Resume.** Outputs are published atomically by the container writer, so a killed run leaves either the old
  output, the new one, or a temp file; temp files and folders (``.<name>.tmp-<pid>-<hex>``, see
  :func:`hsi_conform._atomic.is_temp_name`) in ``dst`` are removed at start, and a dataset without an ``ok`` line
  is converted again.
* **Exit code** (:attr:`Summary.exit_code`): ``OK`` when every dataset converted and no output has an ERROR or
  FATAL finding, ``NONCONFORMANT`` otherwise (a ``failed`` or ``error`` record included). One dataset that fails
  or cannot be read never stops the others (spec/safety.md#batches).
* **Executors.** The datasets are converted on an executor (:mod:`hsi_conform.validate.executor`: one after the
  other by default, worker processes, or Dask); each worker returns its record and this process alone appends it
  to the journal, as it finishes (so the journal's order is the order they finished in), and the summary lists
  them in discovery order (spec/batch.md#migrate).
* **URLs.** ``src`` and ``dst`` may be fsspec URLs: a source is listed into a local skeleton for discovery and each
  dataset staged in a temp folder; an output is uploaded under a temp key and moved; the journal is one object per
  record and the lock an object (spec/batch.md#remote-migrate).
* **One at a time.** A migration holds the lock of ``dst`` (:mod:`hsi_conform._lock`): a second one into the same
  tree raises :class:`~hsi_conform.errors.InUseError`. A full disk stops the migration
  (:class:`~hsi_conform.errors.NoSpaceError`): every later dataset would fail the same way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hsi_conform._atomic import sweep_temps
from hsi_conform._lock import lock
from hsi_conform._outputs import refuse_output_on_input
from hsi_conform._progress import Progress
from hsi_conform._version import __version__
from hsi_conform._walk import Folder, Unit, Visit, WalkError, make_folders, walk
from hsi_conform.converters import migrate_remote as remote
from hsi_conform.converters.base import Converter, resolve_options
from hsi_conform.converters.migrate_journal import JOURNAL, iter_journal, journal_of, read_journal
from hsi_conform.converters.migrate_remote import RemoteSource, RemoteTree, tree_of
from hsi_conform.converters.registry import convert_with, get_converter, registered
from hsi_conform.errors import (
    ConfigError,
    ConverterUnavailableError,
    ExitCode,
    HsiConformError,
    NoSpaceError,
    UnknownOptionError,
)
from hsi_conform.validate.executor import Executor, ProcessExecutor

__all__ = ["JOURNAL", "Dataset", "Summary", "available_converters", "convert_and_check", "discover", "iter_journal",
           "migrate", "read_journal", "sha256_file"]

_BAD = ("error", "fatal")


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset found in the source tree.

    Attributes:
        source: the file or folder given to the converter.
        converter: the converter that recognised it.
        files: every file the converter reads for it.
    """

    source: Path
    converter: Converter
    files: tuple[Path, ...]


@dataclass(slots=True)
class Summary:
    """What a migration did."""

    ok: int = 0
    failed: int = 0
    skipped: int = 0
    unrecognised: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    with_errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        """``OK`` when every dataset converted without ERROR findings, ``NONCONFORMANT`` otherwise."""
        return ExitCode.NONCONFORMANT if self.failed or self.with_errors else ExitCode.OK

    def lines(self) -> list[str]:
        """Return the human summary."""
        out = [f"migrated: {self.ok} ok, {self.skipped} skipped (already done), {self.failed} failed, "
               f"{len(self.with_errors)} with ERROR findings, {len(self.unrecognised)} files not recognised"]
        out += [f"  failed: {src}: {err}" for src, err in self.failures]
        out += [f"  ERROR findings: {src}" for src in self.with_errors]
        return out


def available_converters() -> list[Converter]:
    """Return an instance of every installed, available converter (in name order)."""
    out = []
    for name in registered():
        try:
            out.append(get_converter(name))
        except (ConverterUnavailableError, HsiConformError):
            continue
    return out


def discover(root: Path, converters: list[Converter], *,
             on_error: Callable[[WalkError], None] | None = None) -> tuple[list[Dataset], list[Path]]:
    """Return the datasets under ``root`` and the files no converter recognised.

    Args:
        root: The source tree.
        converters: The converters to offer folders and files to.
        on_error: Called with each folder or entry that could not be read (default: it is left out).
    """
    return _Discovery(converters, on_error).run(root)


def _claim(path: Path, converters: list[Converter]) -> Converter | None:
    for conv in converters:
        try:
            if conv.can_read(path):
                return conv
        except (OSError, ValueError, HsiConformError):
            continue
    return None


def _files_of(conv: Converter, source: Path) -> tuple[Path, ...]:
    files = conv.source_files(source)
    return tuple(dict.fromkeys([*([source] if source.is_file() else []), *files]))


class _Discovery:
    """One walk of a source tree: folders a converter claims are datasets, the others are walked."""

    def __init__(self, converters: list[Converter], on_error: Callable[[WalkError], None] | None) -> None:
        self.converters = converters
        self.on_error = on_error
        self.datasets: list[Dataset] = []
        self.unrecognised: list[Path] = []
        self.claimed: dict[Path, Converter] = {}
        # Per folder, the files its datasets read: a sub-folder holding one (<name>.hsi.d/) is not walked.
        self.consumed: dict[Path, set[Path]] = {}

    def run(self, root: Path) -> tuple[list[Dataset], list[Path]]:
        for item in walk(root, self.classify):
            if isinstance(item, Unit):
                conv = self.claimed.pop(item.path)
                self.datasets.append(Dataset(item.path, conv, _files_of(conv, item.path)))
            elif isinstance(item, Folder):
                self.consumed[item.path] = self.files(item.files)
            elif self.on_error is not None:
                self.on_error(item)
        return self.datasets, self.unrecognised

    def classify(self, folder: Path) -> Visit:
        if any(f.is_relative_to(folder) for f in self.consumed.get(folder.parent, ())):
            return Visit.SKIP
        conv = _claim(folder, self.converters)
        if conv is None:
            return Visit.DESCEND
        self.claimed[folder] = conv
        return Visit.UNIT

    def files(self, files: tuple[Path, ...]) -> set[Path]:
        """Offer a folder's files (headers first) to the converters; return the files the datasets read."""
        consumed: set[Path] = set()
        for path in sorted(files, key=lambda p: (not p.name.lower().endswith(".hdr"), p.name)):
            if path in consumed:
                continue
            conv = _claim(path, self.converters)
            if conv is None:
                self.unrecognised.append(path)
                continue
            found = _files_of(conv, path)
            consumed.update(found)
            self.datasets.append(Dataset(path, conv, found))
        return consumed


def sha256_file(path: Path) -> str:
    """Return the sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _rel(path: Path, root: Path) -> str:
    return path.name if path == root else path.relative_to(root).as_posix()


def _output_names(datasets: list[Dataset], root: Path) -> list[str]:
    taken: set[str] = set()
    names = []
    for ds in datasets:
        rel = _rel(ds.source, root)
        parent, _, leaf = rel.rpartition("/")
        stem = leaf if ds.source.is_dir() else (leaf.rsplit(".", 1)[0] if "." in leaf[1:] else leaf)
        name = f"{parent}/{stem}.hsi" if parent else f"{stem}.hsi"
        if name in taken:
            name = f"{parent}/{leaf}.hsi" if parent else f"{leaf}.hsi"
        taken.add(name)
        names.append(name)
    return names


def _check_roots(src: Path, dst: Path) -> tuple[Path, Path]:
    if not src.is_dir():
        raise ConfigError(f"{src} is not a folder")
    refuse_output_on_input([dst], [src])  # neither tree may hold the other, not even through a link
    return src.resolve(), dst.resolve()


Source = Path | RemoteSource
Destination = Path | RemoteTree
Item = tuple[Dataset, str, "dict[str, Any] | None", "dict[str, int] | None"]
"""A task: the dataset, its output name, its ``ok`` record of an earlier run, its files' sizes (remote source)."""


def migrate(src: str | os.PathLike[str], dst: str | os.PathLike[str], *, options: Mapping[str, Any] | None = None,
            progress: Progress | None = None, allow_nonconformant: bool = False,
            executor: Executor | None = None, storage_options: Mapping[str, Any] | None = None) -> Summary:
    """Convert every recognised dataset under ``src`` to a validated ``.hsi`` under ``dst`` (see the module doc).

    Args:
        src: the source tree (read only): a folder, or an fsspec URL that can be listed (spec/batch.md#remote-migrate).
        dst: the destination folder (created when missing), or an fsspec URL (an object store's bucket must exist).
        options: options of the readers (e.g. ``quantize``) or of the ``hsi`` writer, routed as ``convert``
            routes them; each dataset's reader gets those it declares.
        progress: a progress display (default: on stderr when it is a terminal), naming the dataset in
            progress; its ``total`` is set once the datasets are found.
        allow_nonconformant: convert nonconformant ``.hsi`` sources anyway, as ``convert --allow-nonconformant``
            does (by default each is a ``failed`` journal record).
        executor: where the datasets are converted (default: one after the other in this process); e.g. a
            :class:`~hsi_conform.validate.dask_executor.DaskExecutor` whose workers see ``src`` and ``dst`` at the
            same paths or URLs. The journal is written by this process only, a record as each dataset finishes
            (spec/batch.md#migrate).
        storage_options: fsspec options of the URLs among ``src`` and ``dst`` (they travel with each task).

    Raises:
        ConfigError: ``src`` is not a folder (a missing bucket or prefix), a URL that cannot be listed
            (``http(s)://``), ``memory://`` with worker processes, or a destination bucket that does not exist.
        OutputIsInputError: one tree lies inside the other, or is the other (a ConfigError).
        UnknownOptionError: an option no reader and not the ``hsi`` writer declares.
        InUseError: another migration writes into ``dst``.
        InputUnreadableError: a source URL cannot be listed (permission, network).
        OutputUnwritableError: a destination URL cannot be prepared, locked or journaled.
        NoSpaceError: the destination's filesystem is full (outputs so far are complete and journaled).
    """
    source, dest = tree_of(src, storage_options), tree_of(dst, storage_options)
    executor = executor or ProcessExecutor()
    if isinstance(source, Path) and isinstance(dest, Path):
        root, out_root = _check_roots(source, dest)
        out_root.parent.mkdir(parents=True, exist_ok=True)
        with lock(out_root):
            return _migrate_locked(root, out_root, options, progress, allow_nonconformant, executor)
    for end in (source, dest):
        if isinstance(end, RemoteTree) and end.protocol == "memory" and getattr(executor, "workers", 1) > 1:
            raise ConfigError(f"{end.url}: a memory:// filesystem lives in one process; use -j 1 (or Dask threads)")
    remote.check_roots(source, dest)
    if isinstance(source, RemoteTree):
        remote.require_folder(source)  # before the destination is created
    elif not source.is_dir():
        raise ConfigError(f"{src} is not a folder")
    with contextlib.ExitStack() as stack:
        if isinstance(dest, Path):  # the source is a URL: the trees cannot overlap
            dest = dest.resolve()
            dest.mkdir(parents=True, exist_ok=True)
            stack.enter_context(lock(dest))
        else:
            remote.prepare_destination(dest)
            stack.enter_context(remote.remote_lock(dest))
        tree: Source = source.resolve() if isinstance(source, Path) else \
            RemoteSource(source, Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hsi-conform-")),
                                      source.name))
        return _migrate_locked(tree, dest, options, progress, allow_nonconformant, executor)


def _walk_source(root: Source, converters: list[Converter]) -> tuple[Path, list[Dataset], list[Path],
                                                                       list[tuple[str, str]]]:
    """Return the local tree discovered (the source or its skeleton), its datasets and others, what is unreadable."""
    unreadable: list[WalkError] = []
    bad: list[tuple[str, str]] = []
    local = root if isinstance(root, Path) else root.skeleton
    if isinstance(root, RemoteSource):
        sizes, bad = remote.list_tree(root.tree)
        bad += remote.skeleton(root.tree, sizes, local)
    datasets, unrecognised = discover(local, converters, on_error=unreadable.append)
    bad += [(_rel(e.path, local), e.reason) for e in unreadable]
    return local, datasets, unrecognised, bad


def _migrate_locked(root: Source, out_root: Destination, options: Mapping[str, Any] | None,
                    progress: Progress | None, allow_nonconformant: bool, executor: Executor) -> Summary:
    converters = available_converters()
    _check_options(converters, get_converter("hsi"), options or {})
    if isinstance(out_root, Path):
        out_root.mkdir(parents=True, exist_ok=True)
        sweep_temps(out_root)
    else:
        remote.sweep_remote(out_root)
    journal = journal_of(out_root)
    local, datasets, unrecognised, unreadable = _walk_source(root, converters)
    summary = Summary(unrecognised=[_rel(p, local) for p in unrecognised])
    # What could not be read was not migrated: a journaled failure, never a silent gap.
    for rel, reason in unreadable:
        entry = _error_entry(rel, f"cannot read {rel}: {reason}")
        journal.append(entry)
        _tally(summary, entry)
    done = journal.done()
    pairs = zip(datasets, _output_names(datasets, local), strict=True)
    task = functools.partial(_migrate_task, root, out_root, dict(options or {}), allow_nonconformant)
    finished: dict[int, dict[str, Any]] = {}
    bar = progress or Progress(len(datasets), what="migrating")
    bar.total = len(datasets)  # known only now
    try:
        # one dataset per task: each is seconds of work, and its record is journaled the moment it is done
        for index, entry in executor.map_unordered(task, _taken(pairs, root, done, bar), chunk=1,
                                                   on_lost=functools.partial(_lost_entry, local)):
            journal.append(entry)  # by this process alone, as each dataset finishes
            finished[index] = {k: entry[k] for k in ("source", "status", "error", "findings")}
            bar.advance(entry["source"])
    finally:
        bar.close()
    for index in sorted(finished):  # the summary in discovery order, whatever order the datasets finished in
        _tally(summary, finished[index])
    return summary


def _taken(pairs: Iterable[tuple[Dataset, str]], root: Source, done: Mapping[str, dict[str, Any]],
           bar: Progress) -> Iterator[Item]:
    """Yield each dataset's task, naming it on the bar as the executor takes it: in one process, the one in progress."""
    local = root if isinstance(root, Path) else root.skeleton
    for ds, name in pairs:
        bar.start(_rel(ds.source, local))
        # a worker cannot see the client's skeleton: the sizes it stages travel with the task
        sizes = None if isinstance(root, Path) else {_rel(f, local): f.stat().st_size for f in ds.files}
        yield ds, name, done.get(_rel(ds.source, local)), sizes


def _lost_entry(root: Path, item: Item, reason: str) -> dict[str, Any]:
    """Return the journal record of a dataset whose workers kept dying while they converted it: an ``error``."""
    return {**_error_entry(_rel(item[0].source, root), f"could not be converted: {reason}"),
            "format": item[0].converter.name}


def _migrate_task(root: Source, out_root: Destination, options: dict[str, Any], allow_nonconformant: bool,
                  item: Item) -> dict[str, Any]:
    """Migrate one dataset and return its journal record (the task an executor's worker runs)."""
    ds, name, prior, sizes = item
    if isinstance(root, Path) and isinstance(out_root, Path):
        return _migrate_one(ds, root, out_root, name, prior, dict(options), allow_nonconformant)
    with tempfile.TemporaryDirectory(prefix="hsi-conform-migrate-") as tmp:
        return _migrate_staged(ds, root, out_root, name, prior, sizes or {}, Path(tmp),
                               functools.partial(_migrate_one, options=dict(options),
                                                 allow_nonconformant=allow_nonconformant))


def _migrate_staged(ds: Dataset, root: Source, out_root: Destination, name: str, prior: dict[str, Any] | None,
                    sizes: dict[str, int], work: Path, one: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Migrate one dataset of a remote source or to a remote destination, through the local folder ``work``."""
    local_root = root
    if isinstance(root, RemoteSource):  # stage the files, then convert from there as from a local tree
        local_root = make_folders(work / "src" / root.tree.name)
        why = remote.stage(root.tree, sizes, local_root)
        source = _rel(ds.source, root.skeleton)
        if why is not None:
            return {**_error_entry(source, why), "format": ds.converter.name}
        ds = Dataset(local_root if ds.source == root.skeleton else local_root / source, ds.converter,
                     tuple(local_root / rel for rel in sizes))
    assert isinstance(local_root, Path)
    out = make_folders(work / "out") if isinstance(out_root, RemoteTree) else out_root
    present = functools.partial(remote.exists, out_root, name) if isinstance(out_root, RemoteTree) else None
    entry = one(ds, local_root, out, name, prior, present=present)
    if isinstance(out_root, RemoteTree) and entry["status"] == "ok":
        try:
            remote.publish(out / name, out_root, name)
        except Exception as exc:  # this dataset only: the next run converts it again
            entry.update(status="failed", error=f"cannot publish {out_root.url}/{name}: {type(exc).__name__}: {exc}")
    if isinstance(root, RemoteSource) and entry["error"]:
        entry["error"] = entry["error"].replace(str(local_root), root.tree.url)  # name the URL, not the stage
    return entry


def _check_options(readers: list[Converter], writer: Converter, options: Mapping[str, Any]) -> None:
    tables = {f"{conv.name} reader": conv.read_options for conv in readers}
    tables[f"{writer.name} writer"] = writer.write_options
    unknown = sorted(k for k in options if all(k not in table for table in tables.values()))
    if unknown:
        raise UnknownOptionError(unknown, {role: tuple(table) for role, table in tables.items() if table})
    for role, table in tables.items():  # a bad value fails now, not once per dataset
        resolve_options(table, {k: v for k, v in options.items() if k in table}, role)


def _tally(summary: Summary, entry: dict[str, Any]) -> None:
    status = entry["status"]
    if status in ("failed", "error"):
        summary.failed += 1
        summary.failures.append((entry["source"], entry["error"] or "unknown error"))
        return
    if status == "ok":
        summary.ok += 1
    else:
        summary.skipped += 1
    if any(entry["findings"].get(k, 0) for k in _BAD):
        summary.with_errors.append(entry["source"])


def _error_entry(source: str, reason: str) -> dict[str, Any]:
    """Return the journal record of a source that could not be read at all."""
    return {"source": source, "format": None, "sha256": None, "files": {}, "output": None, "status": "error",
            "findings": {}, "error": reason, "notes": [], "tool_version": __version__,
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def _hashes(ds: Dataset, root: Path) -> dict[str, str] | str:
    """Return the sha256 of every file of a dataset, or why one cannot be read."""
    files: dict[str, str] = {}
    for f in ds.files:
        try:
            files[_rel(f, root)] = sha256_file(f)
        except OSError as exc:
            return f"cannot read {_rel(f, root)}: {exc.strerror or exc}"
    return files


def _migrate_one(ds: Dataset, root: Path, out_root: Path, name: str, prior: Mapping[str, Any] | None,
                 options: dict[str, Any], allow_nonconformant: bool, *,
                 present: Callable[[], bool] | None = None) -> dict[str, Any]:
    files = _hashes(ds, root)  # inside the per-dataset handling: one unreadable file fails only its dataset
    if isinstance(files, str):
        return {**_error_entry(_rel(ds.source, root), files), "format": ds.converter.name}
    digest = hashlib.sha256("".join(f"{k}\t{v}\n" for k, v in sorted(files.items())).encode()).hexdigest()
    entry: dict[str, Any] = {
        "source": _rel(ds.source, root), "format": ds.converter.name, "sha256": digest, "files": files,
        "output": name, "status": "ok", "findings": {}, "error": None, "notes": [],
        "tool_version": __version__, "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if prior is not None and prior.get("sha256") == digest and (present or (out_root / name).is_file)():
        entry.update(status="skipped", findings=prior.get("findings", {}), output=prior.get("output", name))
        return entry
    try:
        entry["notes"], entry["findings"] = convert_and_check(ds, out_root / name, options,
                                                              allow_nonconformant=allow_nonconformant)
    except NoSpaceError:
        raise  # every later dataset would fail the same way
    except Exception as exc:  # one bad dataset must not stop the migration; the journal records it
        entry.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    return entry


def convert_and_check(ds: Dataset, out: Path, options: dict[str, Any], *,
                      allow_nonconformant: bool = False) -> tuple[list[str], dict[str, int]]:
    """Convert one dataset to ``out`` (atomically) and validate it; return its notes and finding counts.

    Raises:
        NonconformantSourceError: a ``.hsi`` source does not conform and ``allow_nonconformant`` is false.
        HsiConformError: whatever else ``convert_with`` refuses.
    """
    from hsi_conform.validate import check

    # options of the other readers of the tree do not apply here (migrate checked them all at start)
    done = convert_with(ds.converter, get_converter("hsi"), ds.source, out, options, ignore_unknown=True,
                        allow_nonconformant=allow_nonconformant)
    return list(done.notes), check(done.written).counts
