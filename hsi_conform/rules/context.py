"""The validation context: everything a rule may look at, computed once and lazily.

Rules receive a :class:`CheckContext`. It never raises for content problems: a member that is missing,
compressed or not an ENVI header simply yields ``None`` from the accessors (the rule that owns that problem
reports it; the others skip).

A ``.hsi`` file is opened once, when the context is made: the structure, every member, every mapped array and
the CRC pass read that one descriptor (:attr:`CheckContext.source`), so a file replaced while the rules run
cannot give a verdict mixed from two files (spec/safety.md#batches). A URL or a file object is opened once too,
as a remote :class:`~hsi_conform.remote.ranges.RangeReader` that every read goes through (spec/remote.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container, CubeLayout, MemberInfo
from hsi_conform.container.source import SourceFile
from hsi_conform.container.zipread import ZipStructure, read_zip_structure
from hsi_conform.errors import ContainerError, FieldValueError, HsiConformError
from hsi_conform.fields import Scope
from hsi_conform.finding import Location
from hsi_conform.header import Header
from hsi_conform.header.model import Diagnostic, Entry, Span
from hsi_conform.limits import Limits
from hsi_conform.members import MemberPair
from hsi_conform.remote import RangeReader, is_url, open_reader

T = TypeVar("T")

#: The scopes in their order (root first): the order of :meth:`CheckContext.envi_pairs`.
_SCOPE_RANK = {scope: rank for rank, scope in enumerate(Scope)}


class Content(StrEnum):
    """How much of the member data validation reads."""

    NONE = "none"
    """Metadata only: never reads cube bytes (constant time in the cube size)."""
    CRC = "crc"
    """Also streams every member once to verify its CRC-32."""
    FULL = "full"
    """Also reads the data for the ``DAT`` rules (NaN/Inf, dead bands, references)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOptions:
    """Options of one validation run.

    Attributes:
        content: the content tier.
        limits: resource limits (entries, central directory size, member names, header size; spec/safety.md#limits).
        storage_options: options of the fsspec filesystem of a URL input (credentials, endpoint, ``anon``...).
    """

    content: Content = Content.NONE
    limits: Limits = field(default_factory=Limits)
    storage_options: Mapping[str, Any] = field(default_factory=dict, hash=False)


class CheckContext:
    """What the rules of one input share (see the module docstring)."""

    def __init__(self, path: Path | str, options: CheckOptions | None = None, *,
                 reader: RangeReader | None = None) -> None:
        """Open the input: a path, a URL (a ``str``), or the name of an already opened ``reader``.

        Raises:
            InputUnreadableError: a URL that cannot be read.
            MissingDependencyError: a URL that needs a package that is not installed.
            OSError: a path that cannot be read.
        """
        self.path = path
        self.options = options or CheckOptions()
        self.structure: ZipStructure | None = None
        #: The input, opened once: a local file, or a remote reader (None for an expanded folder).
        self.source: RangeReader | None = reader
        self.container: Container | None = None
        self.open_error: str | None = None
        self._headers: dict[str, Header | None] = {}
        self._layouts: dict[str, CubeLayout | None] = {}
        self._pairs: list[MemberPair] | None = None
        self._memo: dict[str, Any] = {}
        self._shared: dict[Callable[[CheckContext], Any], Any] = {}
        self.header_errors: dict[str, str] = {}
        #: Header members larger than ``limits.max_header_bytes``, with their sizes: never read, never parsed.
        self.oversized_headers: dict[str, int] = {}
        self._open()

    def _open(self) -> None:
        target: Path | str = self.path
        if self.source is None and is_url(self.path):
            self.source = open_reader(self.path, self.options.storage_options)
        if self.source is not None:  # remote: read through the ranged reader
            self.structure = read_zip_structure(self.source, limits=self.options.limits)
            target = self.source.name
        else:
            target = self.path if isinstance(self.path, Path) else Path(self.path)  # parsed once
            if target.is_file():
                local = self.source = SourceFile.open(target)
                with local.file() as f:
                    self.structure = read_zip_structure(f, limits=self.options.limits)
        if self.structure is not None and self.structure.fatal:
            self.open_error = "not a readable ZIP archive"
            return
        try:
            self.container = open_container(target, structure=self.structure, source=self.source,
                                            limits=self.options.limits, any_folder=True)
        except HsiConformError as exc:
            self.open_error = str(exc)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Return ``compute()``, computed once per context (rules share parses, scans and field lists)."""
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value

    def shared(self, compute: Callable[[CheckContext], T]) -> T:
        """Return ``compute(self)``, computed once per context and kept by the function itself.

        What :meth:`memo` does for a value every input has once (the issues by code, the known fields...), without
        a key to build or a closure to make: some hundred rules per input ask for such values.
        """
        try:
            value: T = self._shared[compute]
        except KeyError:
            value = self._shared[compute] = compute(self)
        return value

    # -- members -------------------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Member names (empty when the container could not be opened)."""
        return self.container.names if self.container else ()

    def has(self, name: str) -> bool:
        """Whether the container has a member of that exact name."""
        return self.container is not None and name in self.container

    def info(self, name: str) -> MemberInfo | None:
        """Where a member's bytes are, or None."""
        return self.container.info(name) if self.has(name) and self.container else None

    def read(self, name: str, limit: int = 16 << 20) -> bytes | None:
        """Return a member's bytes, or None when missing, compressed or larger than ``limit``."""
        if not self.has(name) or self.container is None:
            return None
        try:
            return self.container.read_bytes(name, limit=limit)
        except ContainerError:
            return None

    def read_prefix(self, name: str, size: int) -> bytes | None:
        """Return the first ``size`` bytes of a member, or None when it is missing or compressed."""
        if not self.has(name) or self.container is None:
            return None
        try:
            return self.container.read_prefix(name, size)
        except ContainerError:
            return None

    # -- headers -------------------------------------------------------------------------------------------
    def header(self, name: str) -> Header | None:
        """Return the parsed ENVI header member, or None (missing, unreadable or not an ENVI header)."""
        if name not in self._headers:
            self._headers[name] = self._parse(name)
        return self._headers[name]

    def _parse(self, name: str) -> Header | None:
        if self.container is None or not self.has(name):
            return None
        size = self.container.info(name).size
        if size > self.options.limits.max_header_bytes:  # judged by its size alone: the bytes are never read
            self.oversized_headers[name] = size
            return None
        try:
            return self.container.read_header(name)
        except ContainerError as exc:
            self.header_errors[name] = exc.reason
            return None

    def envi_pairs(self) -> list[MemberPair]:
        """Every ENVI header of the container with its data member and scope, root first."""
        if self._pairs is None:
            self._pairs = self._find_pairs()
        return list(self._pairs)

    def _find_pairs(self) -> list[MemberPair]:
        pairs = [p for p in map(MemberPair.of, self.names) if p is not None]
        return sorted(pairs, key=lambda p: (_SCOPE_RANK[p.scope], p.header))

    def layout(self, header_name: str) -> CubeLayout | None:
        """Return the data layout a header declares, or None when a layout field is missing or invalid."""
        if header_name not in self._layouts:
            header = self.header(header_name)
            try:
                self._layouts[header_name] = None if header is None else CubeLayout.from_header(header)
            except FieldValueError:
                self._layouts[header_name] = None
        return self._layouts[header_name]


# -- locations -------------------------------------------------------------------------------------------------

def span_location(member: str, header: Header, span: Span, *, field: str | None = None,
                  item: int | None = None) -> Location:
    """Return the location of a span of a header member: line, column, end, byte offset and excerpt."""
    line, column = header.position(span.start)
    end_line, end_column = header.position(span.end)
    return Location(member=member, line=line, column=column, end_line=end_line, end_column=end_column,
                    offset=header.byte_offset(span.start), field=field, item=item,
                    excerpt=header.source_line(line))


def entry_location(member: str, header: Header, entry: Entry, *, item: int | None = None) -> Location:
    """Return the location of an entry's value, or of one of its list items."""
    span = entry.value_span
    if item is not None:
        spans = entry.item_spans()
        if 0 <= item < len(spans):
            span = spans[item]
    if span.start == span.end:
        span = entry.key_span
    return span_location(member, header, span, field=entry.key, item=item)


def diagnostic_location(member: str, header: Header, d: Diagnostic) -> Location:
    """Return the location of a parser diagnostic."""
    return Location(member=member, line=d.line, column=d.column, end_line=d.end_line, end_column=d.end_column,
                    offset=d.offset, field=d.key, item=d.item, excerpt=header.source_line(d.line))
