"""The ``migrate`` journal: a JSON Lines file in a local destination, one object per record under a URL.

Locally, ``DST/migrate-journal.jsonl`` is appended and fsynced, a record per line; a line cut by a crash is ended
before the next record and, not being JSON, ignored. An object store has no append: under a destination URL each
record is its own object, ``DST/.hsi-conform/journal/<run>/<sequence>.json`` (a PUT is atomic per object), read
back by listing them in name order, which is the order they were written in (spec/batch.md#remote-migrate). Only the
client writes either.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from hsi_conform.converters.migrate_remote import STATE, RemoteTree, tree_of
from hsi_conform.errors import OutputUnwritableError

__all__ = ["JOURNAL", "Journal", "LocalJournal", "RemoteJournal", "iter_journal", "journal_of", "read_journal"]

JOURNAL = "migrate-journal.jsonl"
_BATCH = 256  # records read per request batch


class Journal:
    """Where a migration's records go: :meth:`append` one, :meth:`entries` all, :meth:`done` the ``ok`` ones."""

    def append(self, entry: dict[str, Any]) -> None:  # pragma: no cover - abstract
        """Write one record, durably, before returning."""
        raise NotImplementedError

    def entries(self) -> Iterator[dict[str, Any]]:  # pragma: no cover - abstract
        """Yield every record that parses, oldest first."""
        raise NotImplementedError

    def done(self) -> dict[str, dict[str, Any]]:
        """Return the latest ``ok`` record per source."""
        return {e["source"]: e for e in self.entries()
                if e.get("status") == "ok" and isinstance(e.get("source"), str)}


class LocalJournal(Journal):
    """``migrate-journal.jsonl`` in a local destination folder."""

    def __init__(self, dst: Path) -> None:
        self.path = dst / JOURNAL

    def append(self, entry: dict[str, Any]) -> None:
        """Append one line and fsync it (ending first a last line cut by a crash)."""
        line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
        with open(self.path, "a+b") as f:
            if _ends_mid_line(f):
                line = b"\n" + line  # the last line was cut by a crash: end it, so this record stays whole
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def entries(self) -> Iterator[dict[str, Any]]:
        """Yield every line that parses as a JSON object."""
        if not self.path.is_file():
            return
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash
            if isinstance(entry, dict):
                yield entry


def _ends_mid_line(f: BinaryIO) -> bool:
    """Whether a file's last line lacks its newline (a record cut by a crash)."""
    end = f.seek(0, os.SEEK_END)
    if end == 0:
        return False
    f.seek(end - 1)
    return f.read(1) != b"\n"


class RemoteJournal(Journal):
    """One object per record under ``DST/.hsi-conform/journal/<run>/``, the run named by its start time."""

    def __init__(self, tree: RemoteTree) -> None:
        self.tree = tree
        now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self.run = f"{now}-{uuid.uuid4().hex[:8]}"
        self.sequence = 0

    def prefix(self) -> str:
        """Return the path, in the filesystem, of the journal's folder."""
        return self.tree.key(f"{STATE}/journal")

    def append(self, entry: dict[str, Any]) -> None:
        """PUT one record object (atomic per object on an object store).

        Raises:
            OutputUnwritableError: it cannot be written (the run stops: it could not record what it did).
        """
        self.sequence += 1
        key = f"{self.prefix()}/{self.run}/{self.sequence:09d}.json"
        fs = self.tree.fs()[0]
        try:
            fs.pipe_file(key, (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8"))
        except Exception as exc:
            raise OutputUnwritableError(self.tree.url, f"cannot write its journal record: {exc}") from exc

    def entries(self) -> Iterator[dict[str, Any]]:
        """Yield every record object that parses, in name order (runs by start time, records by sequence)."""
        fs = self.tree.fs()[0]
        try:
            keys = sorted(fs.find(self.prefix()))
        except FileNotFoundError:
            return
        for start in range(0, len(keys), _BATCH):
            batch = keys[start:start + _BATCH]
            blobs = fs.cat(batch, on_error="return")
            for key in batch:
                blob = blobs.get(key)
                try:
                    entry = json.loads(blob) if isinstance(blob, bytes) else None
                except ValueError:
                    continue  # a record cut on a filesystem without atomic writes
                if isinstance(entry, dict):
                    yield entry


def journal_of(dst: Path | RemoteTree) -> Journal:
    """Return the journal of a destination folder or URL."""
    return RemoteJournal(dst) if isinstance(dst, RemoteTree) else LocalJournal(dst)


def read_journal(dst: str | os.PathLike[str],
                 storage_options: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Return the latest ``ok`` journal record per source of a destination folder or URL."""
    return journal_of(tree_of(dst, storage_options)).done()


def iter_journal(dst: str | os.PathLike[str],
                 storage_options: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Yield every parseable journal record of a destination folder or URL, oldest first (for tests and tools)."""
    yield from journal_of(tree_of(dst, storage_options)).entries()
