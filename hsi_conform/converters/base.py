"""The converter interface and the one neutral dataset every conversion goes through.

Every format converts to and from :class:`HsiDataset` (the header model, lazily opened arrays, references,
previews and every other member kept as bytes or as a lazy file range), so N formats need 2N functions, never
N² pairwise ones (STYLE.md §8).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from hsi_conform._resources import data_file
from hsi_conform.header import Header

#: Bytes per chunk when members are copied.
CHUNK = 8 << 20


@dataclass(frozen=True, slots=True)
class Blob:
    """A byte range of a file, copied lazily (member data is never loaded whole unless asked)."""

    file: Path
    offset: int
    size: int

    def read(self) -> bytes:
        """Return the bytes (for small members)."""
        with open(self.file, "rb") as f:
            f.seek(self.offset)
            data = f.read(self.size)
        if len(data) != self.size:
            raise OSError(f"{self.file} is shorter than expected")
        return data

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """Yield the bytes in chunks of at most ``size``."""
        with open(self.file, "rb") as f:
            f.seek(self.offset)
            left = self.size
            while left > 0:
                data = f.read(min(size, left))
                if not data:
                    raise OSError(f"{self.file} is shorter than expected")
                left -= len(data)
                yield data


Payload = bytes | Blob
"""The content of a member: bytes in memory, or a lazy range of a file."""


def payload_bytes(payload: Payload) -> bytes:
    """Return the bytes of a payload."""
    return payload if isinstance(payload, bytes) else payload.read()


def payload_size(payload: Payload) -> int:
    """Return the size of a payload in bytes."""
    return len(payload) if isinstance(payload, bytes) else payload.size


def payload_chunks(payload: Payload) -> Iterator[bytes]:
    """Yield a payload in chunks."""
    if isinstance(payload, bytes):
        yield payload
    else:
        yield from payload.chunks()


@dataclass(kw_only=True)
class EnviArray:
    """An ENVI image of the container (a reference or a preview): its header and its data.

    Attributes:
        header: the lossless header model (written back verbatim).
        array: the data in the header's storage order; a memmap stays lazy.
        raw: the exact data member bytes when they are not just the array (e.g. an embedded header
            offset); writers prefer it so that members round-trip byte for byte.
    """

    header: Header
    array: np.ndarray[Any, Any]
    raw: Payload | None = None


@dataclass(kw_only=True)
class HsiDataset:
    """The neutral in-memory form of a container.

    Attributes:
        header: ``data.hdr`` as the lossless model; writers that emit ENVI text write ``header.to_bytes()``.
        cube: ``data.envi`` as an array in the header's storage order (a memmap stays lazy).
        cube_raw: the exact ``data.envi`` bytes when they are more than the array (a non-zero
            ``header offset``); None means the array's bytes are the member.
        references: ``{"white": ..., "black": ...}``.
        previews: ``{"": preview.envi, "<lod>": preview_<lod>.envi}``.
        members: every other member by container path (thumbnail, Exploration/, Metadata/, unknown ones),
            kept verbatim.
        order: the member order of the source container, restored by the container writer.
        notes: what a reader inferred or could not carry (shown to the user, kept in provenance).
    """

    header: Header
    cube: np.ndarray[Any, Any]
    cube_raw: Payload | None = None
    references: dict[str, EnviArray] = field(default_factory=dict)
    previews: dict[str, EnviArray] = field(default_factory=dict)
    members: dict[str, Payload] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def member_names(self) -> list[str]:
        """Return every container member name this dataset writes, in container order."""
        names = ["data.hdr", "data.envi"]
        for key in self.references:
            names += [f"Reference/{key}.hdr", f"Reference/{key}.envi"]
        for lod in self.previews:
            base = f"preview_{lod}" if lod else "preview"
            names += [f"{base}.hdr", f"{base}.envi"]
        names += list(self.members)
        rank = {n: i for i, n in enumerate(self.order)}
        return sorted(names, key=lambda n: (rank.get(n, len(rank)), names.index(n)))


@runtime_checkable
class Converter(Protocol):
    """A format plugin (registered in the ``hsi_conform.converters`` entry-point group).

    Class attributes:
        name: the entry-point name, used by ``--from``/``--to``.
        description: one line for ``hsi-conform formats``.
        requires: the import names the converter needs (e.g. ``("h5py",)``).
        extra: the ``pip install hsi-conform[<extra>]`` that provides them, if any.
        suffixes: (optional) file suffixes the format owns; ``convert`` picks the writer of a destination by
            them, and ``detect`` names a converter whose extra is missing by them.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    requires: ClassVar[tuple[str, ...]]
    extra: ClassVar[str | None]

    def can_read(self, source: Path) -> bool:
        """Return whether ``source`` looks like this format (cheap: names and magic bytes only)."""
        ...

    def read(self, source: Path) -> HsiDataset:
        """Read ``source`` into the neutral dataset (arrays stay lazy where the format allows)."""
        ...

    def write(self, dataset: HsiDataset, dest: Path, **options: Any) -> Path:
        """Write the dataset to ``dest`` (published atomically) and return the path written."""
        ...


def mapping_table(name: str) -> dict[str, Any]:
    """Return the declarative mapping table ``converters/<name>.toml`` (shipped in the wheel)."""
    with data_file("converters", f"{name}.toml").open("rb") as f:
        return tomllib.load(f)


def atomic_target(dest: Path) -> Path:
    """Return a temporary sibling path for ``dest`` (same directory, so ``os.replace`` is atomic)."""
    return dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
