"""Find the parts of a SPECIM dataset folder (IQ or Lumo) and describe every file for the restore manifest."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from hsi_conform._walk import Folder
from hsi_conform._walk import walk as walk_tree
from hsi_conform.converters.specim.table import SpecimTable
from hsi_conform.errors import InputUnreadableError


@dataclass(frozen=True, slots=True)
class SpecimFiles:
    """An ENVI header file and its data file inside the SPECIM folder, with the reference prefix of its name.

    Files, not container members (that pair is :class:`hsi_conform.members.MemberPair`): the data file is found
    among the vendor's suffixes, and ``prefix`` (``DARKREF_``, ``WHITEREF_``, ...; empty for the capture) is
    SPECIM naming that the restore manifest needs.
    """

    header: Path
    data: Path
    prefix: str = ""


@dataclass(slots=True)
class Recording:
    """The recording of a SPECIM folder: its id, the capture pair and the references by container name."""

    root: Path
    layout: str
    id: str
    capture: SpecimFiles
    references: dict[str, SpecimFiles] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One file of the folder as the manifest records it (its SHA-256 is taken when it is copied)."""

    path: str
    size: int
    mtime_ns: int


def child(parent: Path, name: str) -> Path | None:
    """Return the entry of ``parent`` called ``name`` (case-insensitively; an exact match wins)."""
    exact = parent / name
    if exact.exists():
        return exact
    try:
        with os.scandir(parent) as it:
            for entry in it:
                if entry.name.lower() == name.lower():
                    return parent / entry.name
    except OSError:
        return None
    return None


def _headers(capture: Path, table: SpecimTable) -> list[Path]:
    suffix = table.header_suffix.lower()
    try:
        with os.scandir(capture) as it:
            names = sorted(e.name for e in it if e.name.lower().endswith(suffix) and e.is_file())
    except OSError:
        return []
    return [capture / n for n in names]


def data_file(header: Path, table: SpecimTable) -> Path | None:
    """Return the data file of ``<id>.hdr`` (``<id>.raw``, ``<id>.dat``, ... in the table's order)."""
    stem = header.name[: -len(table.header_suffix)]
    for suffix in table.data_suffixes:
        found = child(header.parent, stem + suffix)
        if found is not None and found.is_file() and found != header:
            return found
    return None


def looks_like_specim(source: Path, table: SpecimTable) -> bool:
    """Return whether ``source`` is a SPECIM IQ or Lumo folder (names only: no file is opened)."""
    if not source.is_dir():
        return False
    capture = child(source, table.capture_dir)
    if capture is None or not capture.is_dir():
        return False
    headers = [h.name for h in _headers(capture, table)]
    recordings = [n for n in headers if table.reference_of(n) is None and not table.is_other(n)]
    if not recordings:
        return False
    has_refs = any(table.reference_of(n) is not None for n in headers)
    return has_refs or _is_iq(source, table)


def _is_iq(source: Path, table: SpecimTable) -> bool:
    return all(child(source, m) is not None for m in table.iq_markers)


def locate(source: Path, table: SpecimTable) -> Recording:
    """Return the recording of a SPECIM folder.

    Raises:
        InputUnreadableError: not a SPECIM folder, no recording with its data file, or several recordings.
    """
    if not looks_like_specim(source, table):
        raise InputUnreadableError(str(source), "not a SPECIM IQ or Lumo dataset folder (capture/<id>.hdr with "
                                   "DARKREF_/WHITEREF_ references or an IQ manifest)")
    capture = child(source, table.capture_dir)
    assert capture is not None  # looks_like_specim checked it
    headers = _headers(capture, table)
    main = _main_header(source, headers, table)
    data = data_file(main, table)
    if data is None:
        raise InputUnreadableError(str(main), "the recording has no data file (" +
                                   ", ".join(s or "no suffix" for s in table.data_suffixes) + ")")
    rec_id = main.name[: -len(table.header_suffix)]
    recording = Recording(source, "iq" if _is_iq(source, table) else "lumo", rec_id, SpecimFiles(main, data))
    for header in headers:
        found = table.reference_of(header.name)
        ref_data = data_file(header, table) if found else None
        if found is None or ref_data is None:
            continue
        prefix, name = found
        exact = header.name[len(prefix):].lower() == rec_id.lower() + table.header_suffix.lower()
        if name not in recording.references or exact:
            recording.references[name] = SpecimFiles(header, ref_data, prefix)
    return recording


def _main_header(source: Path, headers: list[Path], table: SpecimTable) -> Path:
    candidates = [h for h in headers if table.reference_of(h.name) is None and not table.is_other(h.name)
                  and data_file(h, table) is not None]
    if len(candidates) == 1:
        return candidates[0]
    named = [h for h in candidates if h.name[: -len(table.header_suffix)].lower() == source.name.lower()]
    if len(named) == 1:
        return named[0]
    if not candidates:
        raise InputUnreadableError(str(source), "capture/ holds no recording header with a data file")
    raise InputUnreadableError(str(source), "capture/ holds several recordings: " +
                               ", ".join(h.name for h in candidates))


def walk(root: Path) -> tuple[list[str], list[str], list[str]]:
    """Return the relative POSIX paths of the folder's files and directories, and the entries skipped.

    Symbolic links and special files are skipped (never followed), so nothing outside the folder is read.
    """
    files: list[str] = []
    dirs: list[str] = []
    skipped: list[str] = []
    for item in walk_tree(root):  # the one walker: any depth, links never followed
        if not isinstance(item, Folder):
            continue
        rel = PurePosixPath(*item.path.relative_to(root).parts)
        if item.path != root:
            dirs.append(str(rel))
        files += [str(rel / p.name) for p in item.files]
        skipped += [str(rel / p.name) for p in (*item.links, *item.others)]
    return sorted(files), sorted(dirs), sorted(skipped)


def describe(root: Path, rel: str) -> FileRecord:
    """Return the manifest record of one file (size and modification time; nothing is read).

    Raises:
        InputUnreadableError: the file cannot be examined.
    """
    path = root / rel
    try:
        stat = os.stat(path, follow_symlinks=False)
    except OSError as exc:
        raise InputUnreadableError(str(path), exc.strerror or str(exc)) from None
    return FileRecord(rel, stat.st_size, stat.st_mtime_ns)
