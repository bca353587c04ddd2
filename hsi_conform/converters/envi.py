"""The ``envi`` converter: a plain ENVI header/data pair ⇄ ``.hsi`` container (spec/envi-mapping.md).

Decisions (the patterns and value maps live in ``converters/envi.toml``):

* **Pairing** (:mod:`.envi_source`). Given a data file ``x.ext``, the header is ``x.ext.hdr`` if it exists, else
  ``x.hdr`` (GDAL's precedence), and the file pairs only when it is that header's data file. Given a header
  ``x.hdr``, the candidates are ``x`` plus each existing extension of the table (``''``, ``.img``, ``.dat``, ...;
  case variants too; ``x.ext.hdr`` names ``x.ext`` first); the data file is the one of the header's size, the
  order breaking ties (a few trailing bytes tolerated; gzip data: the first gzip file). None fits: the import
  names each candidate and its size. The header must start with ``ENVI``. A symlinked partner file is never
  paired (the given source itself may be a link).
* **Import.** The data file goes verbatim into ``data.envi`` (streamed; an embedded header offset and trailing
  bytes included; gzip data decompressed). The original header bytes are kept as ``Metadata/<header file name>``,
  a GDAL ``.aux.xml`` and an ENVI ``.sta`` beside the data as ``Metadata/<name>`` (:mod:`.envi_sidecars`).
  ``data.hdr`` is the original header verbatim when it is already fine; otherwise it is rewritten in canonical
  form (syntax deviations of severity WARNING or above, or upper-case keys), then ``file type`` is set
  (``ENVI``/missing → ``ENVI Standard``), ``header offset`` written, a missing ``byte order`` set to 0, a
  ``wavelength units`` synonym written as ENVI's unit, fields the header lacks taken from the ``.aux.xml``. Every
  other key is kept as it is. Every change is listed in the dataset notes. File types other than the container's
  own (``TIFF``, spectral libraries, ...) are refused. A data file shorter than the header describes is refused.
* **Export.** ``<name>.img`` (``data.envi`` byte for byte) + ``<name>.hdr`` + the sibling folder ``<name>.hsi.d/``
  holding every other member at its container path (the folder is written even when empty: it marks the pair as
  an exported container). ``<name>.hdr`` is ``data.hdr`` verbatim unless a physical line is longer than 10,000
  bytes or a diagnostic listed in the table makes GDAL or SPy misread it; then ``<name>.hdr`` is the canonical
  form and the verbatim ``data.hdr`` is kept as ``<name>.hsi.d/data.hdr``. Option ``sidecar=false`` writes the
  pair only (lossy by design; an old ``<name>.hsi.d/`` is removed). The set is published as one unit, the header
  last (:func:`hsi_conform._atomic.atomic_unit`: old, new, or no header after a crash), under the lock of
  ``<name>.hdr`` (a concurrent export to it is refused, never mixed in).
* **Reverse.** A pair with a sibling ``<name>.hsi.d/`` is read back as the container it came from: ``data.hdr`` is
  ``<name>.hsi.d/data.hdr`` if present, else ``<name>.hdr``, verbatim; no header is normalised and no
  ``Metadata/`` copy is added, so every member is byte-identical. The ZIP member order is not carried.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from hsi_conform._atomic import atomic_unit, sweep_beside
from hsi_conform._copy import FileSpan, OverlappedCrc, copy_range, start_writeback
from hsi_conform._lock import lock
from hsi_conform._space import ensure_room
from hsi_conform._walk import make_folders
from hsi_conform.container.reader import CubeLayout
from hsi_conform.container.source import SourceFile, map_array
from hsi_conform.container.write import iter_chunks
from hsi_conform.container.zipwrite import member_parts
from hsi_conform.converters.base import (
    NO_OPTIONS,
    Blob,
    ConverterBase,
    EnviArray,
    HsiDataset,
    OptionSpec,
    Payload,
    dataset_members,
    parse_flag,
    payload_size,
    payload_spans,
)
from hsi_conform.converters.envi_files import (
    MAX_HEADER_BYTES,
    EnviFiles,
    data_candidates,
    data_extensions,
    find_pair,
    is_envi_header,
    read_header_file,
    table,
    unpaired_header,
    walk_files,
)
from hsi_conform.converters.envi_sidecars import apply_sidecars
from hsi_conform.converters.envi_source import decompress, expected_data, gzip_compressed, no_data_file
from hsi_conform.converters.guard import guard_write, verbatim_crc
from hsi_conform.errors import (
    ConfigError,
    FieldValueError,
    HsiConformError,
    InputUnreadableError,
    MemberCrcError,
    NotAnEnviHeaderError,
)
from hsi_conform.fields import EXPLORATION_FILE_TYPES, ROOT_FILE_TYPES, envi_wavelength_unit
from hsi_conform.finding import Severity
from hsi_conform.header import Header, canonical_bytes, parse_header
from hsi_conform.header.diagnostics import BY_CODE
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

# The pair on disk lives in envi_files; its names are this module's too (the legacy converter and plugins use them).
__all__ = ["MAX_HEADER_BYTES", "EnviConverter", "EnviFiles", "check_file_type", "data_candidates", "data_extensions",
           "export_header", "export_paths", "find_pair", "is_envi_header", "map_cube", "needs_rewrite",
           "normalise_header", "read_exported", "read_header_file", "read_pair", "table", "unpaired_header",
           "walk_files", "write_envi"]

_REFERENCE_OR_PREVIEW = tuple(reference_stem(which) for which in REFERENCES)
#: Pieces at least this large written from memory start their writeback at once (spec/container.md#writeback).
_WRITEBACK_BYTES = 4 << 20


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
    #: Members whose source CRC-32 the export checks from the bytes it copies (spec/safety.md#crc-while-copying).
    crc_checked: ClassVar[tuple[str, ...]] = (CUBE_DATA,)

    def can_read(self, source: Path) -> bool:
        """Return whether ``source`` is an ENVI header or data file with its partner present.

        A header whose candidate data files all have the wrong size is claimed too: :meth:`read` refuses it,
        naming each candidate and its size.
        """
        return find_pair(source) is not None or unpaired_header(source) is not None

    def source_files(self, source: Path) -> list[Path]:
        """Return every file :meth:`read` reads for ``source`` (for journals and checksums)."""
        pair = find_pair(source)
        if pair is not None:
            return pair.files()
        header = unpaired_header(source)
        return [] if header is None else [header, *data_candidates(header)]

    def read(self, source: Path, options: Mapping[str, Any] = NO_OPTIONS) -> HsiDataset:
        """Read an ENVI pair (or an exported container: the pair plus ``<name>.hsi.d/``).

        Raises:
            InputUnreadableError: no pair, not ENVI, a refused file type, or a data file that is too short.
            ConfigError: an option (the reader has none).
        """
        self.parsed_read_options(options)
        pair = find_pair(source)
        if pair is None:
            raise InputUnreadableError(str(source), _why_unpaired(source))
        if pair.sidecar is not None:
            return read_exported(pair)
        folder = table()["files"]["original_header_folder"]
        dataset = read_pair(pair, original_member=f"{folder}/{pair.header.name}")
        apply_sidecars(dataset, pair.aux)
        return dataset

    def outputs(self, dest: Path) -> tuple[Path, ...]:
        """Return ``(<name>.hdr, <name>.img, <name>.hsi.d)``: what :meth:`write` creates or replaces."""
        return export_paths(dest)

    def write(self, dataset: HsiDataset, dest: Path, options: Mapping[str, Any] = NO_OPTIONS) -> Path:
        """Write ``<name>.img`` + ``<name>.hdr`` (+ ``<name>.hsi.d/``); return the header path.

        Options (:attr:`write_options`):
            sidecar: write the other members into ``<name>.hsi.d/`` (default true; false is lossy).

        Raises:
            ConfigError: an unknown option or a value that is not a boolean.
        """
        return write_envi(dataset, dest, sidecar=bool(self.parsed_write_options(options)["sidecar"]))


# -- import -------------------------------------------------------------------------------------------------

def _why_unpaired(source: Path) -> str:
    """Say why ``source`` has no data file: a refused file type first, else every candidate and its size."""
    header = unpaired_header(source)
    if header is None:
        return "not an ENVI header or data file with its partner file"
    try:
        parsed = parse_header(read_header_file(header))
        check_file_type(parsed)
    except (ValueError, HsiConformError) as exc:
        return f"{header.name}: {exc}"
    return no_data_file(header, data_candidates(header), expected_data(parsed))


def read_pair(pair: EnviFiles, *, original_member: str | None) -> HsiDataset:
    """Import a plain ENVI pair: verbatim data (gzip data decompressed), normalised ``data.hdr``, the original kept.

    Args:
        pair: the header and data files.
        original_member: container path for the original header bytes (None: do not keep them).

    Raises:
        InputUnreadableError: a refused file type, invalid layout fields, a data file that is too short, or
            damaged gzip data.
    """
    original = read_header_file(pair.header)
    try:
        header, notes = normalise_header(parse_header(original))
        compressed = gzip_compressed(header)
    except (ValueError, FieldValueError, NotAnEnviHeaderError) as exc:
        raise InputUnreadableError(str(pair.header), str(exc)) from exc
    if compressed:
        dataset = _read_gzip(pair, header, notes)
    else:
        cube = map_cube(pair.data, header)
        dataset = HsiDataset(header=header, cube=cube, cube_raw=Blob(pair.data, 0, pair.data.stat().st_size),
                             notes=notes)
    if original_member is not None:
        dataset.members[original_member] = original
        dataset.notes.append(f"original header kept as {original_member}")
    return dataset


def _read_gzip(pair: EnviFiles, header: Header, notes: list[str]) -> HsiDataset:
    """Return the dataset of gzip data, decompressed (streamed) into a scratch file that lives as long as it."""
    unpacked = decompress(pair.data, header)
    header.remove("file compression")
    notes.append(f"gzip data of {pair.data.name} decompressed ({pair.data.stat().st_size} -> {unpacked.size} "
                 "bytes); 'file compression = 1' removed from data.hdr")
    dataset = HsiDataset(header=header, cube=unpacked.cube, cube_raw=unpacked.raw, notes=notes)
    unpacked.scratch.bind(dataset)
    return dataset


def check_file_type(header: Header) -> None:
    """Refuse a ``file type`` that is not raw ENVI pixels (spec/envi-mapping.md#refused).

    Imported: a missing value and those of the table's ``[import.file_type]`` map, and every value the container
    itself uses (``ROOT_FILE_TYPES``, ``EXPLORATION_FILE_TYPES``).

    Raises:
        ValueError: any other value (``TIFF``, ``ENVI Spectral Library``, a vendor's own type).
    """
    entry = header.get("file type")
    current = "" if entry is None else str(entry.value_raw).strip()
    known = (*ROOT_FILE_TYPES, *EXPLORATION_FILE_TYPES)
    if current.lower() not in {*table()["import"]["file_type"], *(t.lower() for t in known)}:
        raise ValueError(f"[file type] {current!r} is not an ENVI image this converter imports "
                         f"({', '.join(dict.fromkeys(known))}, or ENVI)")


def normalise_header(header: Header) -> tuple[Header, list[str]]:
    """Return ``data.hdr`` for an imported header and notes saying what was changed.

    Raises:
        ValueError: the file type is refused (:func:`check_file_type`).
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
    check_file_type(header)
    entry = header.get("file type")
    current = "" if entry is None else str(entry.value_raw).strip()
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
    _wavelength_units(header, notes)
    return header, notes


def _wavelength_units(header: Header, notes: list[str]) -> None:
    """Write a unit spelled outside ENVI's vocabulary (``micron``) as ENVI's (spec/semantics.md#wavelength-units)."""
    entry = header.get("wavelength units")
    value = "" if entry is None or entry.is_list else entry.value_raw.strip(" \t")
    unit = envi_wavelength_unit(value) if value else None
    if unit is not None and unit.lower() != value.lower():  # a synonym, not ENVI's spelling in another case
        header.set("wavelength units", unit)
        notes.append(f"wavelength units {value!r} written as {unit!r}")


def map_cube(data: Path, header: Header) -> np.ndarray[Any, Any]:
    """Map the cube of a data file read-only (never loaded).

    Raises:
        InputUnreadableError: the layout fields are invalid or the file is shorter than they describe.
    """
    try:
        layout = CubeLayout.from_header(header)
    except FieldValueError as exc:
        raise InputUnreadableError(str(data), f"header layout is invalid: {exc}") from exc
    with SourceFile.open(data) as source:
        size = source.size()
        need = layout.header_offset + layout.nbytes
        if size < need:
            raise InputUnreadableError(str(data), f"data file has {size} bytes, the header describes {need}")
        return map_array(source, layout.dtype, layout.header_offset, layout.shape)


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
        ConfigError: ``<name>.hsi.d`` exists and is not a folder.
        OutputIsInputError: an output is one of the dataset's own source files (a ConfigError; nothing written).
        MemberNameError: a member name that could land outside ``<name>.hsi.d/`` (nothing written).
        DataBudgetError: members that share bytes of their file (nothing written).
        InUseError: another export to the same destination runs.
        NoSpaceError: the files do not fit on the destination's filesystem (nothing is published).
        MemberCrcError: ``data.envi``, copied verbatim from a container, does not match its CRC-32 (nothing is
            published; spec/safety.md#crc-while-copying).
    """
    hdr, img, folder = export_paths(dest)
    guard_write(dataset, (hdr, img, folder))
    members = dataset_members(dataset)
    original = dataset.header.to_bytes()
    verbatim = not needs_rewrite(original, dataset.header)
    header_out = original if verbatim else export_header(dataset.header, folder.name)
    rest = {n: c for n, c in members.items() if n not in MANDATORY}
    if not verbatim:
        rest = {CUBE_HEADER: original, **rest}
    if sidecar and (folder.is_symlink() or folder.is_file()):
        raise ConfigError(f"{folder} exists and is not a folder")
    with lock(hdr):
        sweep_beside(hdr, img, folder)
        ensure_room(hdr, sum(_size(c) for c in (header_out, members[CUBE_DATA], *(rest.values() if sidecar else ()))))
        with atomic_unit(hdr, files=[img], folders=[folder] if sidecar else [],
                         drop=[] if sidecar or not os.path.lexists(folder) else [folder]) as temps:
            expected = verbatim_crc(dataset, CUBE_DATA, members[CUBE_DATA])
            _write_file(temps.files[0], _content_chunks(members[CUBE_DATA]), "r+b",
                        expected=None if expected is None else (CUBE_DATA, expected.crc))
            _write_file(temps.key, [header_out], "r+b")
            for name, content in rest.items() if sidecar else ():
                _write_file(temps.folders[0].joinpath(*member_parts(name)), _content_chunks(content))
    return hdr


def _size(content: Payload | np.ndarray[Any, Any]) -> int:
    return content.nbytes if isinstance(content, np.ndarray) else payload_size(content)


def _content_chunks(content: Payload | np.ndarray[Any, Any]) -> Iterable[bytes | memoryview | FileSpan]:
    if isinstance(content, np.ndarray):
        return iter_chunks(content)
    return payload_spans(content)


def _write_file(path: Path, chunks: Iterable[bytes | memoryview | FileSpan], mode: Literal["r+b", "xb"] = "xb", *,
                expected: tuple[str, int] | None = None) -> None:
    # Always a temp of _atomic ("r+b": created empty by it, and not truncated again, which would make ext4 flush
    # the file when it is closed) or a file inside a temp folder, which _atomic fsyncs before publishing. Sidecar
    # members are created exclusively: two names that land on one file (a case-insensitive disk) fail. File
    # ranges (data.envi of the container, members kept as ranges) are copied by the kernel, and each block's
    # writeback starts as it lands (spec/container.md#copies, #writeback).
    make_folders(path.parent)  # not Path.mkdir(parents=True): it recurses once per missing level
    with open(path, mode) as f, ThreadPoolExecutor(1, thread_name_prefix="hsi-crc") as pool:
        crc = None if expected is None else OverlappedCrc(str(path), pool)
        try:
            for chunk in chunks:
                if isinstance(chunk, FileSpan):
                    f.flush()
                    start = f.tell()
                    copy_range(chunk, f.fileno(), start, on_block=None if crc is None else crc.add_landed,
                               writeback=True)
                    f.seek(start + chunk.size)
                else:
                    pending = None if crc is None else crc.add_view(memoryview(chunk))
                    start = f.tell()
                    f.write(chunk)
                    if memoryview(chunk).nbytes >= _WRITEBACK_BYTES:
                        f.flush()
                        start_writeback(f.fileno(), start, memoryview(chunk).nbytes)
                    if pending is not None:
                        pending.result()  # the view must stay valid until its CRC is done
            if crc is not None and expected is not None:
                f.flush()
                _check_crc(expected, crc.result())
        finally:
            if crc is not None:
                crc.close()


def _check_crc(expected: tuple[str, int], found: int) -> None:
    name, crc = expected
    if found != crc:
        raise MemberCrcError(name, f"the data has CRC-32 {found:08x}, the central directory says {crc:08x}")
