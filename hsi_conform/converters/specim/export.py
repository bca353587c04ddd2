"""Write a dataset as a SPECIM folder: restore the original camera folder, or synthesise a Lumo-style one.

Restore (the container came from SPECIM: it holds the restore manifest): every file listed in the manifest is
written from the member that holds its bytes (``Metadata/specim/<path>``, or ``data.envi`` for the recording's
raw data), its size and SHA-256 are checked against the manifest, and its modification time is set back. Any
mismatch (for example a cube edited after import) raises :class:`~hsi_conform.errors.ContainerError`; nothing
is published then.

Synthesis (any other container) writes ``capture/<id>.hdr`` (the container header, verbatim),
``capture/<id>.raw`` (the cube bytes) and ``capture/DARKREF_<id>``/``WHITEREF_<id>`` pairs from ``Reference/``.
What cannot be carried: previews, the thumbnail, ``Exploration/`` and ``Metadata/`` members (a
:class:`SpecimExportWarning` names them), and the Lumo ``metadata/<id>.xml``, ``manifest.xml``, ``.log`` and
``.png`` files, which only the camera software can produce. Container-only header fields stay in the ``.hdr``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from hsi_conform._atomic import atomic_folder
from hsi_conform._walk import make_folders
from hsi_conform.container.write import iter_slabs
from hsi_conform.container.zipwrite import member_parts
from hsi_conform.converters.base import EnviArray, HsiDataset, Payload, payload_bytes, payload_chunks
from hsi_conform.converters.specim.table import SpecimTable
from hsi_conform.errors import ConfigError, ContainerError
from hsi_conform.members import CUBE_DATA, DATA_SUFFIX, preview_stem, reference_stem

_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class SpecimExportWarning(UserWarning):
    """Members of the container that a synthesised SPECIM folder cannot carry."""


def publish_folder(dest: Path, build: Callable[[Path], None]) -> Path:
    """Build a folder in a temporary sibling of ``dest`` and move it into place atomically.

    Raises:
        ConfigError: ``dest`` exists and is not an empty directory.
    """
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ConfigError(f"destination {str(dest)!r} exists and is not an empty directory")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_folder(dest) as tmp:
        build(tmp)
    return dest


def manifest_of(dataset: HsiDataset, table: SpecimTable) -> dict[str, Any] | None:
    """Return the restore manifest of a dataset imported from SPECIM (None when it has none).

    Raises:
        ContainerError: the manifest is not the JSON this converter writes.
    """
    payload = dataset.members.get(table.manifest)
    if payload is None:
        return None
    try:
        manifest = json.loads(payload_bytes(payload))
    except (ValueError, OSError) as exc:
        raise ContainerError(table.manifest, f"not a readable manifest: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != table.manifest_format:
        raise ContainerError(table.manifest, f"not a {table.manifest_format} manifest")
    if manifest.get("version") != table.manifest_version:
        raise ContainerError(table.manifest, f"manifest version {manifest.get('version')!r} is not supported")
    return manifest


def safe_relative(path: object, member: str) -> PurePosixPath:
    """Return a manifest path as a relative path that stays inside the destination on any OS.

    The path is judged by the name policy every writer uses (:func:`~hsi_conform.container.zipwrite.member_parts`).

    Raises:
        ContainerError: the path is not a string.
        MemberNameError: the policy refuses the path (absolute, ``..``, a drive, a backslash, a control character,
            ...); a ContainerError.
    """
    if not isinstance(path, str):
        raise ContainerError(member, f"the manifest path {path!r} is not a string")
    return PurePosixPath(*member_parts(path))


def restore_folder(dataset: HsiDataset, dest: Path, manifest: dict[str, Any], table: SpecimTable) -> Path:
    """Restore the original SPECIM folder byte for byte (see the module docstring).

    Raises:
        ContainerError: a member is missing, a path is unsafe, or restored bytes differ from the original.
        ConfigError: ``dest`` exists and is not an empty directory.
    """
    files = manifest.get("files")
    dirs = manifest.get("dirs", [])
    if not isinstance(files, list) or not isinstance(dirs, list):
        raise ContainerError(table.manifest, "the manifest lists no files")

    def build(tmp: Path) -> None:
        for d in dirs:
            make_folders(tmp / safe_relative(d, table.manifest))
        for record in files:
            if not isinstance(record, dict):
                raise ContainerError(table.manifest, "a file record is not an object")
            _restore_file(dataset, tmp, record, table)

    return publish_folder(dest, build)


def _restore_file(dataset: HsiDataset, tmp: Path, record: dict[str, Any], table: SpecimTable) -> None:
    rel = safe_relative(record.get("path"), table.manifest)
    member = str(record.get("member") or f"{table.originals}/{rel}")
    target = tmp / rel
    make_folders(target.parent)
    size, digest = _write(target, member_chunks(dataset, member))
    if size != record.get("size") or digest != record.get("sha256"):
        raise ContainerError(member, f"restoring {rel} gives {size} bytes with sha256 {digest}, the original had "
                             f"{record.get('size')} bytes with sha256 {record.get('sha256')}")
    mtime = record.get("mtime_ns")
    if isinstance(mtime, int):
        os.utime(target, ns=(mtime, mtime))


def member_chunks(dataset: HsiDataset, member: str) -> Iterable[bytes | memoryview]:
    """Return the bytes of a container member of the dataset as chunks (arrays are streamed in slabs).

    Raises:
        ContainerError: the dataset has no such member.
    """
    if member == CUBE_DATA:
        return _payload_or_array(dataset.cube_raw, dataset.cube)
    for name, ref in dataset.references.items():
        if member == reference_stem(name) + DATA_SUFFIX:
            return _payload_or_array(ref.raw, ref.array)
    if member in dataset.members:
        return payload_chunks(dataset.members[member])
    raise ContainerError(member, "missing: the SPECIM folder cannot be restored without it")


def _payload_or_array(payload: Payload | None, array: np.ndarray[Any, Any]) -> Iterator[bytes | memoryview]:
    if payload is not None:
        yield from payload_chunks(payload)
    else:
        yield from iter_slabs(array)


def _write(target: Path, chunks: Iterable[bytes | memoryview]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(target, "xb") as f:
        for chunk in chunks:
            f.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def recording_id(dataset: HsiDataset, dest: Path) -> str:
    """Return the id used for synthesised file names: ``measurement`` when it is a safe name, else the folder's."""
    entry = dataset.header.get("measurement")
    value = entry.value_raw.strip(" \t") if entry is not None and not entry.is_list else ""
    return value if _SAFE_ID.fullmatch(value) else dest.name


def synthesise_folder(dataset: HsiDataset, dest: Path, table: SpecimTable) -> Path:
    """Write a Lumo-style folder for a dataset that did not come from SPECIM (see the module docstring).

    Raises:
        ConfigError: ``dest`` exists and is not an empty directory.
    """
    rec_id = recording_id(dataset, dest)
    fmt = table.export
    refs: list[tuple[str, EnviArray]] = []
    dropped = [reference_stem(n) for n in dataset.references if n not in table.export_references]
    for name, ref in dataset.references.items():
        if name in table.export_references:
            refs.append((table.export_references[name], ref))
    dropped += [preview_stem(k) for k in dataset.previews]
    dropped += [m for m in dataset.members if m != table.manifest]

    def build(tmp: Path) -> None:
        _write_pair(tmp, fmt["header"].format(id=rec_id), fmt["data"].format(id=rec_id),
                    dataset.header.to_bytes(), _payload_or_array(dataset.cube_raw, dataset.cube))
        for prefix, ref in refs:
            _write_pair(tmp, fmt["reference_header"].format(prefix=prefix, id=rec_id),
                        fmt["reference_data"].format(prefix=prefix, id=rec_id),
                        ref.header.to_bytes(), _payload_or_array(ref.raw, ref.array))

    published = publish_folder(dest, build)
    if dropped:
        warnings.warn(f"a SPECIM folder cannot carry these container members: {', '.join(sorted(dropped))}",
                      SpecimExportWarning, stacklevel=3)
    return published


def _write_pair(tmp: Path, header: str, data: str, header_bytes: bytes,
                chunks: Iterable[bytes | memoryview]) -> None:
    for rel, content in ((header, [header_bytes]), (data, chunks)):
        target = tmp / rel
        make_folders(target.parent)  # any depth: Path.mkdir(parents=True) recurses
        _write(target, content)
