"""The ``specim`` converter: SPECIM IQ and Lumo Recorder/Scanner folders (FX10/FX17/FENIX/SWIR) <-> container.

Import (spec/specim-mapping.md#import) is lossless by construction:

* ``capture/<id>.raw`` goes into ``data.envi`` byte for byte (streamed, never rotated);
* ``capture/<id>.hdr`` becomes ``data.hdr``, normalised to D4.1 (:mod:`~hsi_conform.converters.specim.header`);
* ``DARKREF_``/``WHITEREF_``/``WHITEDARKREF_`` become ``Reference/black``, ``white`` and ``whitedark``; multi-line
  references are averaged to one float32 line (:mod:`~hsi_conform.converters.specim.refs`);
* every original file is kept under ``Metadata/specim/<relative path>``, except the recording's raw data, whose
  bytes are ``data.envi`` already (kept once, not twice);
* ``Metadata/specim.json`` lists every file (path, size, sha256, mtime, the member holding it) so that export
  restores the camera folder byte for byte and verifies it.

The ``thumbnail.jpg`` of the container is rendered from the cube by the container writer, like every writer's
(spec/previews.md#writers), not re-encoded from the vendor PNG (which is kept under ``Metadata/specim/``).

Not done: the IQ orientation (readers transpose and flip) is not recorded as a ``read procedures`` entry.
All vendor facts live in ``converters/specim.toml``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from hsi_conform.converters.base import NO_OPTIONS, Blob, ConverterBase, Digested, HsiDataset, OptionSpec
from hsi_conform.converters.guard import guard_write
from hsi_conform.converters.specim.export import manifest_of, restore_folder, synthesise_folder
from hsi_conform.converters.specim.folder import Recording, describe, locate, looks_like_specim, walk
from hsi_conform.converters.specim.header import normalise_header
from hsi_conform.converters.specim.refs import load_reference, open_pair
from hsi_conform.converters.specim.table import SpecimTable, specim_table
from hsi_conform.errors import ConfigError
from hsi_conform.members import CUBE_DATA, MANDATORY

__all__ = ["MODES", "SpecimConverter", "read_specim", "write_specim"]

#: Export modes: ``auto`` restores when the container holds the restore manifest and synthesises otherwise.
MODES = ("auto", "restore", "synthesise")


class SpecimConverter(ConverterBase):
    """SPECIM IQ and Lumo Recorder/Scanner dataset folders (FX10, FX17, FX50, AisaFENIX, SWIR)."""

    name: ClassVar[str] = "specim"
    description: ClassVar[str] = "SPECIM IQ and Lumo Recorder/Scanner dataset folders (FX10/FX17/FENIX/SWIR)"
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    suffixes: ClassVar[tuple[str, ...]] = ()
    write_options: ClassVar[Mapping[str, OptionSpec]] = {
        "mode": OptionSpec(help="restore the original folder byte for byte, or synthesise a Lumo-style one (lossy); "
                                "auto restores when the container holds the manifest", default="auto", choices=MODES),
    }

    def can_read(self, source: Path) -> bool:
        """Return whether ``source`` is a SPECIM dataset folder (directory listings only, no file is read)."""
        return looks_like_specim(Path(source), specim_table())

    def source_files(self, source: Path) -> list[Path]:
        """Return every file :meth:`read` reads for ``source`` (the whole folder, symbolic links excepted)."""
        root = Path(source)
        return [root / rel for rel in walk(root)[0]]

    def read(self, source: Path, options: Mapping[str, Any] = NO_OPTIONS) -> HsiDataset:
        """Read a SPECIM folder into the neutral dataset (the cube stays a lazy memmap; options: none).

        Raises:
            InputUnreadableError: not a SPECIM folder, an unreadable header, or a data file whose size differs
                from what its header describes (truncated or corrupt).
            ConfigError: an option.
        """
        self.parsed_read_options(options)
        return read_specim(Path(source))

    def write(self, dataset: HsiDataset, dest: Path, options: Mapping[str, Any] = NO_OPTIONS) -> Path:
        """Write a SPECIM folder at ``dest`` (published atomically) and return it.

        Options (:attr:`write_options`):
            mode: ``auto`` (default), ``restore`` (the byte-exact original folder; fails without the manifest) or
                ``synthesise`` (a Lumo-style ``capture/`` folder; lossy, see
                :mod:`~hsi_conform.converters.specim.export`).

        Raises:
            ConfigError: an unknown option or mode, ``restore`` without a manifest, or ``dest`` exists and is not
                empty.
            ContainerError: a restored file differs from the original (sha256) or a member is missing.
        """
        mode = self.parsed_write_options(options)["mode"]
        return write_specim(dataset, Path(dest), mode=str(mode))


def read_specim(source: Path) -> HsiDataset:
    """Return the neutral dataset of a SPECIM folder (see the module docstring)."""
    table = specim_table()
    rec = locate(source, table)
    cube = open_pair(rec.capture)
    header, notes = normalise_header(cube.vendor, table, measurement=rec.id)
    notes = [f"{rec.capture.header.relative_to(rec.root).as_posix()}: {n}" for n in notes]
    dataset = HsiDataset(header=header, cube=cube.array, cube_raw=cube.blob)
    for name, pair in rec.references.items():
        rel = pair.header.relative_to(rec.root).with_name(pair.data.name).as_posix()
        dataset.references[name], ref_notes = load_reference(pair, rel, table)
        notes += ref_notes
    _keep_originals(dataset, rec, table, notes)
    dataset.notes = notes
    dataset.order = list(MANDATORY)
    return dataset


def _keep_originals(dataset: HsiDataset, rec: Recording, table: SpecimTable, notes: list[str]) -> None:
    """Add every original file under ``Metadata/specim/`` and the restore manifest (which keeps the notes too).

    The manifest is a :class:`~hsi_conform.converters.base.Digested` member: the SHA-256 of each original is
    taken from its bytes as the container writer copies them, and the manifest is written after them
    (spec/specim-mapping.md#manifest-last).
    """
    files, dirs, skipped = walk(rec.root)
    raw_rel = rec.capture.data.relative_to(rec.root).as_posix()
    records: list[dict[str, Any]] = []
    sources: dict[str, Path] = {}
    for rel in files:
        record = describe(rec.root, rel)
        entry: dict[str, Any] = {"path": rel, "size": record.size, "mtime_ns": record.mtime_ns}
        if rel == raw_rel:
            entry["member"] = CUBE_DATA
        else:
            entry["member"] = f"{table.originals}/{rel}"
            dataset.members[entry["member"]] = Blob(rec.root / rel, 0, record.size)
        sources[entry["member"]] = rec.root / rel
        records.append(entry)
    notes += [f"{rel}: a symbolic link or special file, not kept" for rel in skipped]
    manifest = {"format": table.manifest_format, "version": table.manifest_version, "layout": rec.layout,
                "folder": rec.root.name, "id": rec.id, "dirs": dirs, "notes": list(notes)}
    dataset.members[table.manifest] = Digested(sources, functools.partial(_manifest_text, manifest, records))


def _manifest_text(manifest: dict[str, Any], records: list[dict[str, Any]], digests: Mapping[str, str]) -> bytes:
    """Return the manifest's JSON, each file with the SHA-256 of the member holding it."""
    files = [entry | {"sha256": digests[entry["member"]]} for entry in records]
    text = json.dumps(manifest | {"files": files}, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    return text.encode("utf-8")


def write_specim(dataset: HsiDataset, dest: Path, *, mode: str = "auto") -> Path:
    """Write a dataset as a SPECIM folder (see :meth:`SpecimConverter.write`).

    Raises:
        OutputIsInputError, MemberNameError, DataBudgetError: see
            :func:`~hsi_conform.converters.guard.guard_write` (nothing is written).
    """
    if mode not in MODES:
        raise ConfigError(f"specim export mode {mode!r} is not one of {', '.join(MODES)}")
    guard_write(dataset, (dest,))
    table = specim_table()
    manifest = manifest_of(dataset, table) if mode != "synthesise" else None
    if manifest is not None:
        return restore_folder(dataset, dest, manifest, table)
    if mode == "restore":
        raise ConfigError(f"the container has no {table.manifest}: the original SPECIM folder cannot be restored")
    return synthesise_folder(dataset, dest, table)
