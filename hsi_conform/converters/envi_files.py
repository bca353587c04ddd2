"""The files of a plain ENVI pair on disk: the header, its data file, sidecars, an exported container's folder.

spec/envi-mapping.md#pairing: a header's data file is the candidate of its size (:mod:`.envi_source` decides among
the candidates this module finds); a data file pairs only when it is its header's data file, so one header makes one
pair; the GDAL ``.aux.xml`` and ENVI ``.sta`` beside the data file come with it (:mod:`.envi_sidecars`); a folder
``<name>.hsi.d/`` beside the header marks a container exported by the ``envi`` converter. The patterns are those of
``converters/envi.toml``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hsi_conform._walk import Folder, walk
from hsi_conform.converters.base import mapping_table
from hsi_conform.converters.envi_sidecars import sidecar_names
from hsi_conform.converters.envi_source import Expected, choose_data, expected_data
from hsi_conform.errors import HsiConformError, InputUnreadableError
from hsi_conform.header import parse_header
from hsi_conform.limits import DEFAULT_LIMITS

__all__ = ["MAX_HEADER_BYTES", "EnviFiles", "data_candidates", "data_extensions", "find_pair", "header_expectation",
           "is_envi_header", "read_header_file", "table", "unpaired_header", "walk_files"]

#: Largest header file read (real headers stay far below).
#: Largest header file read: the default ``max_header_bytes`` (spec/safety.md#limits).
MAX_HEADER_BYTES = DEFAULT_LIMITS.max_header_bytes


@functools.cache
def table() -> dict[str, Any]:
    """Return the mapping table ``converters/envi.toml``."""
    return mapping_table("envi")


def data_extensions() -> tuple[str, ...]:
    """Return the data file extensions of the table, in pairing order."""
    return tuple(table()["files"]["data_extensions"])


@dataclass(frozen=True, slots=True)
class EnviFiles:
    """A header file and its data file on disk (and the sidecar folder of an exported container, if present).

    ``aux``: the GDAL ``.aux.xml`` and ENVI ``.sta`` files beside the data file (:mod:`.envi_sidecars`).

    Files, not container members (that pair is :class:`hsi_conform.members.MemberPair`): the data file is chosen
    among the candidate extensions of the mapping table, and the sidecar folder is state of this format only.
    """

    header: Path
    data: Path
    sidecar: Path | None = None
    aux: tuple[Path, ...] = ()

    def files(self) -> list[Path]:
        """Return every source file of the pair (sidecar files included, symlinks excluded)."""
        out = [self.header, self.data, *self.aux]
        if self.sidecar is not None:
            out += [p for _, p in walk_files(self.sidecar)]
        return out


def walk_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Yield ``(relative POSIX path, path)`` of every regular file under ``root`` (sorted; links not followed)."""
    for item in walk(root):  # the one walker: any depth, in os.walk's top-down order
        if isinstance(item, Folder):
            for full in item.files:
                yield full.relative_to(root).as_posix(), full


def is_envi_header(path: Path) -> bool:
    """Return whether ``path`` is a file starting with the ``ENVI`` magic."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"ENVI"
    except OSError:
        return False


def find_pair(source: Path) -> EnviFiles | None:
    """Return the header/data pair of a header or data file, or None when there is none.

    A data file pairs only when it is the data file its header pairs with, so one header makes one pair
    (spec/envi-mapping.md#pairing).
    """
    if not source.is_file():
        return None
    suffix = table()["files"]["header_suffix"]
    given = None if source.name.lower().endswith(suffix) else source
    header = source if given is None else _header_for(source, suffix)
    if header is None or not is_envi_header(header):
        return None
    sidecar = _sibling(header.parent, _base(header, suffix) + table()["files"]["sidecar_suffix"])
    if sidecar is not None and sidecar.is_dir():
        # An exported container: its data file is the export's, whatever its size (spec/envi-mapping.md#reverse).
        data = _sibling(header.parent, _base(header, suffix) + table()["files"]["export_data_extension"])
        exported: Path | None = sidecar
    else:
        data, exported = _data_for(header, suffix, given), None
    if data is None or (given is not None and data != given and not _same_file(data, given)):
        return None
    aux = () if exported else tuple(p for p in (_sibling(data.parent, n) for n in sidecar_names(data))
                                    if p is not None and p.is_file())
    return EnviFiles(header, data, exported, aux)


def unpaired_header(source: Path) -> Path | None:
    """Return the ENVI header of ``source`` when it has candidate data files but none of its size, else None.

    ``source`` is the header itself or one of its candidates; the import then refuses it, naming every candidate
    and its size (spec/envi-mapping.md#pairing).
    """
    if not source.is_file() or find_pair(source) is not None:
        return None
    suffix = table()["files"]["header_suffix"]
    given = None if source.name.lower().endswith(suffix) else source
    header = source if given is None else _header_for(source, suffix)
    if header is None or not is_envi_header(header) or (given is not None and find_pair(header) is not None):
        return None  # a header paired with another file: ``source`` is not its data
    candidates = data_candidates(header, given)
    return header if candidates and (given is None or given in candidates) else None


def data_candidates(header: Path, given: Path | None = None) -> list[Path]:
    """Return the files that may be a header's data file, in pairing order (the table's extensions).

    ``x.ext.hdr`` names ``x.ext`` first when ``.ext`` is in the table; a header such as ``x.tif.hdr`` is a sidecar
    of another format and is not paired with ``x.tif``. A file with a header of its own (``x.img`` beside
    ``x.img.hdr``) is that header's, as GDAL has it, never a candidate of ``x.hdr``. ``given``: a data file named by
    the user (it may be a link, which a partner file found here never is).
    """
    suffix = table()["files"]["header_suffix"]
    base = _base(header, suffix)
    exts = data_extensions()
    own = Path(base).suffix.lower()
    names = [base] if own and own in exts else []
    names += [base + ext for ext in exts if ext or own in exts]
    out: list[Path] = []
    for name in names:
        found = given if given is not None and given.name.lower() == name.lower() else _sibling(header.parent, name)
        if found is None or not found.is_file() or found in out:
            continue
        appended = _sibling(header.parent, found.name + suffix)
        if appended is None or appended.name.lower() == header.name.lower():
            out.append(found)
    return out


def _base(header: Path, suffix: str) -> str:
    return header.name[: -len(suffix)]


def _data_for(header: Path, suffix: str, given: Path | None = None) -> Path | None:
    """Return the candidate of the header's size (ties: the table's order), or None when none fits."""
    del suffix  # the candidates know it
    return choose_data(data_candidates(header, given), header_expectation(header))


def header_expectation(header: Path) -> Expected | None:
    """Return what a header file says about its data file (None: unreadable, or no valid layout)."""
    try:
        st = header.stat()
    except OSError:
        return None
    return _expectation(header, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _expectation(header: Path, mtime: int, size: int) -> Expected | None:
    del mtime, size  # part of the cache key only: discovery asks once per file and kind of question
    try:
        return expected_data(parse_header(read_header_file(header)))
    except (OSError, HsiConformError, ValueError):
        return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _header_for(data: Path, suffix: str) -> Path | None:
    if data.suffix.lower() not in data_extensions():
        return None
    for name in (data.name + suffix, data.stem + suffix):
        found = _sibling(data.parent, name)
        if found is not None:
            return found
    return None


def _sibling(directory: Path, name: str) -> Path | None:
    """Return the file ``name`` in ``directory`` (exact case first, then any case), never a symlink."""
    exact = directory / name
    if exact.exists():
        return exact if not exact.is_symlink() and (exact.is_file() or exact.is_dir()) else None
    match = _listing(directory, _mtime(directory)).get(name.lower())
    return match if match is not None and not match.is_symlink() else None


def _mtime(directory: Path) -> int:
    try:
        return directory.stat().st_mtime_ns
    except OSError:
        return 0


@functools.lru_cache(maxsize=64)
def _listing(directory: Path, mtime: int) -> dict[str, Path]:
    del mtime  # part of the cache key only
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return {}
    out: dict[str, Path] = {}
    for name in names:
        out.setdefault(name.lower(), directory / name)
    return out




def read_header_file(path: Path) -> bytes:
    """Return the bytes of a header file (refusing absurd sizes)."""
    size = path.stat().st_size
    if size > MAX_HEADER_BYTES:
        raise InputUnreadableError(str(path), f"header is larger than {MAX_HEADER_BYTES} bytes")
    return path.read_bytes()

