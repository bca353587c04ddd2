"""The ``envi`` converter: a plain ENVI header/data pair ⇄ ``.hsi`` container (CONVERTERS.md §3).

Decisions (the patterns and value maps live in ``converters/envi.toml``):

* **Pairing.** Given a data file ``x.ext``, the header is ``x.ext.hdr`` if it exists, else ``x.hdr`` (GDAL's
  precedence). Given a header ``x.hdr``, the data file is ``x`` plus the first existing extension of the table
  (``''``, ``.img``, ``.dat``, ...; case variants too); ``x.ext.hdr`` pairs with ``x.ext``. The header must start
  with ``ENVI``. A symlinked partner file is never paired (the given source itself may be a link).
* **Import.** The data file goes verbatim into ``data.envi`` (streamed; an embedded header offset and trailing
  bytes included). The original header bytes are kept as ``Metadata/<header file name>``. ``data.hdr`` is the
  original header verbatim when it is already fine; otherwise it is rewritten in canonical form (syntax
  deviations of severity WARNING or above, or upper-case keys), then ``file type`` is set (``ENVI``/missing →
  ``ENVI Standard``), ``header offset`` written, a missing ``byte order`` set to 0. ``wavelength units`` and every
  other key are kept as they are. Every change is listed in the dataset notes. Spectral libraries, meta files and
  virtual mosaics are refused. A data file shorter than the header describes is refused.
* **Export.** ``<name>.img`` (``data.envi`` byte for byte) + ``<name>.hdr`` + the sibling folder ``<name>.hsi.d/``
  holding every other member at its container path (the folder is written even when empty: it marks the pair as
  an exported container). ``<name>.hdr`` is ``data.hdr`` verbatim unless a physical line is longer than 10,000
  bytes or a diagnostic listed in the table makes GDAL or SPy misread it; then ``<name>.hdr`` is the canonical
  form and the verbatim ``data.hdr`` is kept as ``<name>.hsi.d/data.hdr``. Option ``sidecar=false`` writes the
  pair only (lossy by design). Everything is written to temp names in the destination folder and renamed into
  place, the header last.
* **Reverse.** A pair with a sibling ``<name>.hsi.d/`` is read back as the container it came from: ``data.hdr`` is
  ``<name>.hsi.d/data.hdr`` if present, else ``<name>.hdr``, verbatim; no header is normalised and no
  ``Metadata/`` copy is added, so every member is byte-identical. The ZIP member order is not carried.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar, Literal

import numpy as np

from hsi_conform._atomic import atomic_each, atomic_folder
from hsi_conform._walk import Folder, make_folders, walk
from hsi_conform.container.reader import CubeLayout
from hsi_conform.container.write import iter_slabs
from hsi_conform.converters.base import (
    NO_OPTIONS,
    Blob,
    ConverterBase,
    EnviArray,
    HsiDataset,
    OptionSpec,
    Payload,
    mapping_table,
    parse_flag,
    payload_chunks,
)
from hsi_conform.errors import (
    ConfigError,
    ContainerError,
    FieldValueError,
    HsiConformError,
    InputUnreadableError,
    NotAnEnviHeaderError,
)
from hsi_conform.finding import Severity
from hsi_conform.header import Header, canonical_bytes, parse_header
from hsi_conform.header.diagnostics import BY_CODE
from hsi_conform.limits import DEFAULT_LIMITS
from hsi_conform.members import (
    CUBE_DATA,
    CUBE_HEADER,
    DATA_SUFFIX,
    MANDATORY,
    REFERENCE_DIR,
    REFERENCES,
    MemberKind,
    classify_member,
    envi_names,
    reference_stem,
)

#: Largest header file read (real headers stay far below): the default ``max_header_bytes`` (spec/safety.md#limits).
MAX_HEADER_BYTES = DEFAULT_LIMITS.max_header_bytes
_REFERENCE_OR_PREVIEW = tuple(reference_stem(which) for which in REFERENCES)


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

    Files, not container members (that pair is :class:`hsi_conform.members.MemberPair`): the data file is chosen
    among the candidate extensions of the mapping table, and the sidecar folder is state of this format only.
    """

    header: Path
    data: Path
    sidecar: Path | None = None

    def files(self) -> list[Path]:
        """Return every source file of the pair (sidecar files included, symlinks excluded)."""
        out = [self.header, self.data]
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
    """Return the header/data pair of a header or data file, or None when there is none."""
    if not source.is_file():
        return None
    suffix = table()["files"]["header_suffix"]
    header: Path | None = source
    data: Path | None = source
    if source.name.lower().endswith(suffix):
        data = _data_for(source, suffix)
    else:
        header = _header_for(source, suffix)
    if header is None or data is None or not is_envi_header(header):
        return None
    sidecar = _sibling(header.parent, _base(header, suffix) + table()["files"]["sidecar_suffix"])
    return EnviFiles(header, data, sidecar if sidecar is not None and sidecar.is_dir() else None)


def _base(header: Path, suffix: str) -> str:
    return header.name[: -len(suffix)]


def _data_for(header: Path, suffix: str) -> Path | None:
    base = _base(header, suffix)
    exts = data_extensions()
    if Path(base).suffix.lower() in exts and Path(base).suffix:
        found = _sibling(header.parent, base)
        if found is not None:
            return found
    for ext in exts:
        if ext == "" and Path(base).suffix.lower() not in exts:
            continue  # "x.tif.hdr" is a sidecar of a TIFF, not the header of raw data "x.tif"
        found = _sibling(header.parent, base + ext)
        if found is not None:
            return found
    return None


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


class EnviConverter(ConverterBase):
    """Plain ENVI pair (``x.hdr`` + ``x.img``/``.dat``/``.raw``/...) ⇄ container."""

    name: ClassVar[str] = "envi"
    description: ClassVar[str] = "plain ENVI header + data file (export: <name>.img/.hdr + <name>.hsi.d/)"
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    suffixes: ClassVar[tuple[str, ...]] = (".hdr", *(e for e in data_extensions() if e))
    write_options: ClassVar[Mapping[str, OptionSpec]] = {
        "sidecar": OptionSpec(help="write the other members into <name>.hsi.d/ (false: the pair only, lossy)",
                              default=True, parse=parse_flag),
    }

    def can_read(self, source: Path) -> bool:
        """Return whether ``source`` is an ENVI header or data file with its partner present."""
        return find_pair(source) is not None

    def source_files(self, source: Path) -> list[Path]:
        """Return every file :meth:`read` reads for ``source`` (for journals and checksums)."""
        pair = find_pair(source)
        return [] if pair is None else pair.files()

    def read(self, source: Path, options: Mapping[str, Any] = NO_OPTIONS) -> HsiDataset:
        """Read an ENVI pair (or an exported container: the pair plus ``<name>.hsi.d/``).

        Raises:
            InputUnreadableError: no pair, not ENVI, a refused file type, or a data file that is too short.
            ConfigError: an option (the reader has none).
        """
        self.parsed_read_options(options)
        pair = find_pair(source)
        if pair is None:
            raise InputUnreadableError(str(source), "not an ENVI header or data file with its partner file")
        if pair.sidecar is not None:
            return read_exported(pair)
        folder = table()["files"]["original_header_folder"]
        return read_pair(pair, original_member=f"{folder}/{pair.header.name}")

    def write(self, dataset: HsiDataset, dest: Path, options: Mapping[str, Any] = NO_OPTIONS) -> Path:
        """Write ``<name>.img`` + ``<name>.hdr`` (+ ``<name>.hsi.d/``); return the header path.

        Options (:attr:`write_options`):
            sidecar: write the other members into ``<name>.hsi.d/`` (default true; false is lossy).

        Raises:
            ConfigError: an unknown option or a value that is not a boolean.
        """
        return write_envi(dataset, dest, sidecar=bool(self.parsed_write_options(options)["sidecar"]))


# -- import -------------------------------------------------------------------------------------------------

def read_header_file(path: Path) -> bytes:
    """Return the bytes of a header file (refusing absurd sizes)."""
    size = path.stat().st_size
    if size > MAX_HEADER_BYTES:
        raise InputUnreadableError(str(path), f"header is larger than {MAX_HEADER_BYTES} bytes")
    return path.read_bytes()


def read_pair(pair: EnviFiles, *, original_member: str | None) -> HsiDataset:
    """Import a plain ENVI pair: verbatim data, normalised ``data.hdr``, the original header kept.

    Args:
        pair: the header and data files.
        original_member: container path for the original header bytes (None: do not keep them).

    Raises:
        InputUnreadableError: a refused file type, invalid layout fields or a data file that is too short.
    """
    original = read_header_file(pair.header)
    try:
        header, notes = normalise_header(parse_header(original))
    except (ValueError, FieldValueError, NotAnEnviHeaderError) as exc:
        raise InputUnreadableError(str(pair.header), str(exc)) from exc
    cube = map_cube(pair.data, header)
    dataset = HsiDataset(header=header, cube=cube, cube_raw=Blob(pair.data, 0, pair.data.stat().st_size),
                         notes=notes)
    if original_member is not None:
        dataset.members[original_member] = original
        dataset.notes.append(f"original header kept as {original_member}")
    return dataset


def normalise_header(header: Header) -> tuple[Header, list[str]]:
    """Return ``data.hdr`` for an imported header and notes saying what was changed.

    Raises:
        ValueError: the file type is refused by the table.
    """
    notes: list[str] = []
    upper = sorted({e.key_raw for e in header.entries() if e.key_raw != e.key})
    codes = sorted({d.code for d in header.diagnostics
                    if d.code in BY_CODE and BY_CODE[d.code].severity >= Severity.WARNING})
    if upper or codes:
        header = parse_header(canonical_bytes(header))
        why = [f"syntax: {', '.join(codes)}"] if codes else []
        why += [f"keys lower-cased: {', '.join(upper)}"] if upper else []
        notes.append(f"header rewritten in canonical form ({'; '.join(why)})")
    settings = table()["import"]
    entry = header.get("file type")
    current = "" if entry is None else str(entry.value_raw).strip()
    if current.lower() in settings["refuse_file_types"]:
        raise ValueError(f"file type {current!r} is not an image")
    wanted = settings["file_type"].get(current.lower(), current)
    if wanted != current:
        header.set("file type", wanted)
        notes.append(f"file type {current!r} set to {wanted!r}" if current else f"file type {wanted!r} added")
    if header.get("header offset") is None:
        header.set("header offset", 0)
        notes.append("header offset = 0 written")
    if header.get("byte order") is None:
        header.set("byte order", settings["default_byte_order"])
        notes.append(f"byte order was missing: {settings['default_byte_order']} assumed")
    return header, notes


def map_cube(data: Path, header: Header) -> np.ndarray[Any, Any]:
    """Map the cube of a data file read-only (never loaded).

    Raises:
        InputUnreadableError: the layout fields are invalid or the file is shorter than they describe.
    """
    try:
        layout = CubeLayout.from_header(header)
    except FieldValueError as exc:
        raise InputUnreadableError(str(data), f"header layout is invalid: {exc}") from exc
    size = data.stat().st_size
    need = layout.header_offset + layout.nbytes
    if size < need:
        raise InputUnreadableError(str(data), f"data file has {size} bytes, the header describes {need}")
    return np.memmap(data, dtype=layout.dtype, mode="r", offset=layout.header_offset, shape=layout.shape)


def read_exported(pair: EnviFiles) -> HsiDataset:
    """Read back a container exported by :func:`write_envi` (every member verbatim)."""
    assert pair.sidecar is not None
    files = dict(walk_files(pair.sidecar))
    header_file = files.pop(CUBE_HEADER, pair.header)
    files.pop(CUBE_DATA, None)
    header = parse_header(read_header_file(header_file))
    try:
        cube = map_cube(pair.data, header)
    except InputUnreadableError:
        cube = np.empty((0, 0, 0), dtype=np.uint8)  # an unusable layout still round-trips as bytes
    dataset = HsiDataset(header=header, cube=cube, cube_raw=Blob(pair.data, 0, pair.data.stat().st_size))
    for base in (*_REFERENCE_OR_PREVIEW, *_preview_bases(files)):
        item = _envi_array(files, base)
        if item is not None:
            for name in envi_names(base):
                files.pop(name)
            if base.startswith(REFERENCE_DIR):
                dataset.references[base.removeprefix(REFERENCE_DIR)] = item
            else:
                dataset.previews[classify_member(base + DATA_SUFFIX).lod or ""] = item
    for name, path in files.items():
        dataset.members[name] = Blob(path, 0, path.stat().st_size)
    return dataset


def _preview_bases(files: Iterable[str]) -> list[str]:
    return [n.removesuffix(DATA_SUFFIX) for n in files if classify_member(n).kind is MemberKind.PREVIEW_DATA]


def _envi_array(files: dict[str, Path], base: str) -> EnviArray | None:
    header_name, data_name = envi_names(base)
    if header_name not in files or data_name not in files:
        return None
    data = files[data_name]
    try:
        header = parse_header(read_header_file(files[header_name]))
        array = map_cube(data, header)
    except (HsiConformError, ValueError, OSError):  # kept as plain members when unusable
        return None
    return EnviArray(header=header, array=array, raw=Blob(data, 0, data.stat().st_size))


# -- export -------------------------------------------------------------------------------------------------

def needs_rewrite(header_bytes: bytes, header: Header) -> list[str]:
    """Return why GDAL or SPy would misread a header written verbatim (empty: write it verbatim)."""
    settings = table()["export"]
    limit = int(settings["max_line_bytes"])
    why = sorted({d.code for d in header.diagnostics if d.code in settings["rewrite_on"]})
    if any(len(line) > limit for line in header_bytes.splitlines()) and "line-too-long" not in why:
        why.append("line-too-long")
    return why


def export_header(header: Header, sidecar_name: str) -> bytes:
    """Return the canonical form of a header, without entries that still have a line over the GDAL limit.

    Lists are wrapped by the canonical writer; a scalar cannot be wrapped, so such an entry is left out (a comment
    says so; the verbatim header is kept in the sidecar folder).
    """
    limit = int(table()["export"]["max_line_bytes"])
    canonical = parse_header(canonical_bytes(header))
    too_long = [e.key for e in canonical.entries()
                if any(len(line.encode("utf-8", "surrogateescape")) > limit for line in e.text.splitlines())]
    for key in too_long:
        canonical.remove(key)
    comments = "".join(f"; {key}: omitted (a line over {limit} bytes); see {sidecar_name}/{CUBE_HEADER}\n"
                       for key in too_long)
    return canonical.to_bytes() + comments.encode("utf-8")


def export_paths(dest: Path) -> tuple[Path, Path, Path]:
    """Return ``(<name>.hdr, <name>.img, <name>.hsi.d)`` for a destination (``.hdr``/``.img`` stripped)."""
    files = table()["files"]
    data_ext = files["export_data_extension"]
    name = dest.name
    for suffix in (files["header_suffix"], data_ext):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    parent = dest.parent
    return parent / (name + files["header_suffix"]), parent / (name + data_ext), parent / (name + files[
        "sidecar_suffix"])


def write_envi(dataset: HsiDataset, dest: Path, *, sidecar: bool = True) -> Path:
    """Export a dataset as ``<name>.img`` + ``<name>.hdr`` (+ ``<name>.hsi.d/``), atomically; return the header.

    Raises:
        ConfigError: the destination is one of the dataset's own source files, or ``<name>.hsi.d`` exists and
            is not a folder.
        ContainerError: a member name cannot be a relative file path.
    """
    from hsi_conform.converters.hsi import dataset_members

    hdr, img, folder = export_paths(dest)
    _refuse_own_input(dataset, (hdr, img, folder))
    members = dataset_members(dataset)
    original = dataset.header.to_bytes()
    verbatim = not needs_rewrite(original, dataset.header)
    header_out = original if verbatim else export_header(dataset.header, folder.name)
    rest = {n: c for n, c in members.items() if n not in MANDATORY}
    if not verbatim:
        rest = {CUBE_HEADER: original, **rest}
    if sidecar and (folder.is_symlink() or folder.is_file()):
        raise ConfigError(f"{folder} exists and is not a folder")
    # Published in order: the sidecar folder, the data, the header last (readers look for it).
    with atomic_each(img, hdr) as (tmp_img, tmp_hdr):
        _write_file(tmp_img, _content_chunks(members[CUBE_DATA]), "wb")
        _write_file(tmp_hdr, [header_out], "wb")
        if sidecar:
            with atomic_folder(folder) as tmp_folder:
                for name, content in rest.items():
                    _write_file(tmp_folder.joinpath(*_safe_parts(name)), _content_chunks(content))
    return hdr


def _content_chunks(content: Payload | np.ndarray[Any, Any]) -> Iterable[bytes | memoryview]:
    if isinstance(content, np.ndarray):
        return iter_slabs(content)
    return payload_chunks(content)


def _safe_parts(name: str) -> tuple[str, ...]:
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or "\\" in name or any(p in ("..", ".", "") for p in parts):
        raise ContainerError(name, "member name is not a safe relative path")
    return parts


def _write_file(path: Path, chunks: Iterable[bytes | memoryview], mode: Literal["wb", "xb"] = "xb") -> None:
    # Always a temp of _atomic or a file inside a temp folder, which _atomic fsyncs before publishing. Sidecar
    # members are created exclusively: two names that land on one file (a case-insensitive disk) fail.
    make_folders(path.parent)  # not Path.mkdir(parents=True): it recurses once per missing level
    with open(path, mode) as f:
        for chunk in chunks:
            f.write(chunk)


def _refuse_own_input(dataset: HsiDataset, targets: tuple[Path, Path, Path]) -> None:
    sources = [b.file for b in _blobs(dataset)]
    arrays = [dataset.cube, *(a.array for a in (*dataset.references.values(), *dataset.previews.values()))]
    sources += [Path(a.filename) for a in arrays if isinstance(a, np.memmap) and a.filename]
    resolved = [t.resolve() for t in targets]
    for src in sources:
        s = src.resolve()
        if s in resolved[:2] or s.is_relative_to(resolved[2]):
            raise ConfigError(f"refusing to write over the input file {src}")


def _blobs(dataset: HsiDataset) -> Iterator[Blob]:
    payloads: list[Payload | None] = [dataset.cube_raw, *dataset.members.values()]
    payloads += [a.raw for a in (*dataset.references.values(), *dataset.previews.values())]
    return (p for p in payloads if isinstance(p, Blob))
