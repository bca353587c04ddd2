"""A member made from the SHA-256 of other members, written after them (spec/specim-mapping.md#manifest-last).

A restore manifest lists the SHA-256 of every file it can restore. Hashing every file before the writer starts is
a pass over every byte that a copy makes anyway: a :class:`Digested` payload says which members it needs the
digests of, and the container writer that copies those members hashes them as they land and renders the member
after them. Whoever reads the payload otherwise gets the same bytes with the files hashed here.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from hsi_conform.errors import DatasetError, InputUnreadableError

__all__ = ["PLACEHOLDER_SHA256", "Digested", "file_sha256", "is_whole_file"]

#: The SHA-256 a :class:`Digested` member is sized with before the real ones are known (64 hex digits, as every one).
PLACEHOLDER_SHA256 = "0" * 64


@dataclass(frozen=True, slots=True, eq=False)
class Digested:
    """A member made from the SHA-256 of whole files that other members hold byte for byte (a restore manifest).

    A writer that copies those members anyway takes their digests from the bytes it copies and writes this member
    after them (:meth:`with_digests`); any other reader of the payload gets it with the files hashed here
    (:meth:`read`). Digests are 64 hex digits, so the size is known before any is computed
    (spec/specim-mapping.md#manifest-last).

    Attributes:
        sources: The file each named member holds whole and verbatim, by member name.
        render: Makes the bytes from the hex SHA-256 of every source, by member name.
    """

    sources: Mapping[str, Path]
    render: Callable[[Mapping[str, str]], bytes]

    @property
    def size(self) -> int:
        """Bytes of the member (whatever the digests are)."""
        return len(self.render(dict.fromkeys(self.sources, PLACEHOLDER_SHA256)))

    def with_digests(self, digests: Mapping[str, str]) -> bytes:
        """Return the bytes made from ``digests``; a source missing from it is hashed from its file.

        Raises:
            InputUnreadableError: a source file cannot be read.
            DatasetError: ``render`` gave another size than it does with 64-digit placeholders (a bug in it).
        """
        known = {name: digests.get(name) or file_sha256(path) for name, path in self.sources.items()}
        data = self.render(known)
        if len(data) != self.size:  # a render whose size depends on more than the digests' length
            raise DatasetError(f"a digested member rendered {len(data)} bytes, {self.size} were announced")
        return data

    def read(self) -> bytes:
        """Return the bytes, every source hashed from its file."""
        return self.with_digests({})

    def spans(self) -> Iterator[bytes]:
        """Yield the bytes (as :meth:`read`)."""
        yield self.read()

    def chunks(self) -> Iterator[bytes]:
        """Yield the bytes (as :meth:`read`)."""
        yield self.read()


def is_whole_file(path: Path, found: tuple[Path, int, int] | None) -> bool:
    """Return whether the file range ``found`` is all of ``path`` as it is now (so its digest is the file's)."""
    if found is None or found[1] != 0:
        return False
    try:
        return os.path.samefile(found[0], path) and os.stat(path).st_size == found[2]
    except OSError:
        return False


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a whole file, in a streaming pass.

    Raises:
        InputUnreadableError: the file cannot be read.
    """
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        raise InputUnreadableError.from_os_error(str(path), exc) from None


