"""The converter interface and the one neutral dataset every conversion goes through.

Every format converts to and from :class:`HsiDataset` (the header model, lazily opened arrays, references,
previews and every other member kept as bytes or as a lazy file range), so N formats need 2N functions, never
N² pairwise ones (spec/README.md#converters).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple, Protocol, runtime_checkable

import numpy as np

from hsi_conform._atomic import temp_name
from hsi_conform._copy import FileSpan
from hsi_conform._resources import data_file
from hsi_conform._signals import checkpoint
from hsi_conform._walk import files_under
from hsi_conform.container._file_name import NameIndex, member_parts
from hsi_conform.container.source import SourceFile
from hsi_conform.converters.digested import PLACEHOLDER_SHA256 as PLACEHOLDER_SHA256
from hsi_conform.converters.digested import Digested as Digested
from hsi_conform.errors import ConfigError, MemberNameError
from hsi_conform.errors import UnknownOptionError as UnknownOptionError  # its earlier home
from hsi_conform.header import Header
from hsi_conform.members import CUBE_DATA, CUBE_HEADER, MANDATORY, envi_names, preview_stem, reference_stem

#: Bytes per chunk when members are copied.
CHUNK = 8 << 20


@dataclass(frozen=True, slots=True)
class Blob:
    """A byte range of a file, copied lazily (member data is never loaded whole unless asked).

    Reads raise :class:`~hsi_conform.errors.InputUnreadableError` when the file ends before the range does (it
    was truncated after it was read into a dataset).
    """

    file: Path
    offset: int
    size: int

    def read(self) -> bytes:
        """Return the bytes (for small members)."""
        with SourceFile.open(self.file) as f:
            return f.read_range(self.offset, self.size)

    def spans(self) -> Iterator[FileSpan]:
        """Yield the range as one :class:`~hsi_conform._copy.FileSpan` of the file, open meanwhile.

        For writers that copy it with :func:`~hsi_conform._copy.copy_range` (which raises when the file ends early).
        """
        with SourceFile.open(self.file) as f:
            yield FileSpan(f.fileno(), self.offset, self.size, str(self.file))

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """Yield the bytes in chunks of at most ``size``."""
        with SourceFile.open(self.file) as f:
            for start in range(self.offset, self.offset + self.size, size):
                checkpoint()  # a signal stops a writer between two chunks
                yield f.read_range(start, min(size, self.offset + self.size - start))


Payload = bytes | Blob | Digested
"""The content of a member: bytes in memory, a lazy range of a file, or bytes made from digests of other members."""


def payload_bytes(payload: Payload) -> bytes:
    """Return the bytes of a payload."""
    return payload if isinstance(payload, bytes) else payload.read()


def payload_size(payload: Payload) -> int:
    """Return the size of a payload in bytes."""
    return len(payload) if isinstance(payload, bytes) else payload.size


def payload_spans(payload: Payload) -> Iterator[bytes | FileSpan]:
    """Yield a payload for a container writer: bytes, or the file range of a :class:`Blob` (copied by the kernel)."""
    if isinstance(payload, bytes):
        yield payload
    else:
        yield from payload.spans()


def payload_chunks(payload: Payload) -> Iterator[bytes]:
    """Yield a payload in chunks."""
    if isinstance(payload, bytes):
        yield payload
    else:
        yield from payload.chunks()


class MemberCrc(NamedTuple):
    """Where a container member's bytes are and the CRC-32 its central directory gives them."""

    file: Path
    offset: int
    size: int
    crc: int


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
        compression: how the source stored the cube: None (uncompressed) or ``"jpegxl"`` (spec/jpegxl.md; the
            dataset holds the decoded cube and its plain header either way).
        crcs: the CRC-32 of each stored member of a source ``.hsi`` file, with its range, by member name: a writer
            that copies a member verbatim checks it from the bytes it copies (spec/safety.md#crc-while-copying).
    """

    header: Header
    cube: np.ndarray[Any, Any]
    cube_raw: Payload | None = None
    references: dict[str, EnviArray] = field(default_factory=dict)
    previews: dict[str, EnviArray] = field(default_factory=dict)
    members: dict[str, Payload] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    compression: str | None = None
    crcs: dict[str, MemberCrc] = field(default_factory=dict)

    def member_names(self) -> list[str]:
        """Return every container member name this dataset writes, in container order."""
        names = list(MANDATORY)
        for key in self.references:
            names += envi_names(reference_stem(key))
        for lod in self.previews:
            names += envi_names(preview_stem(lod))
        names += list(self.members)
        rank = {n: i for i, n in enumerate(self.order)}
        return sorted(names, key=lambda n: (rank.get(n, len(rank)), names.index(n)))


def dataset_members(dataset: HsiDataset) -> dict[str, Payload | np.ndarray[Any, Any]]:
    """Return every member of the dataset by container path: bytes, lazy ranges or arrays to stream.

    This is what every writer writes: for an ENVI pair, the raw bytes when the dataset has them, else the array.
    """
    out: dict[str, Payload | np.ndarray[Any, Any]] = {
        CUBE_HEADER: dataset.header.to_bytes(),
        CUBE_DATA: dataset.cube_raw if dataset.cube_raw is not None else dataset.cube,
    }
    arrays = [(reference_stem(k), v) for k, v in dataset.references.items()]
    arrays += [(preview_stem(k), v) for k, v in dataset.previews.items()]
    for base, item in arrays:
        header_name, data_name = envi_names(base)
        out[header_name] = item.header.to_bytes()
        out[data_name] = item.raw if item.raw is not None else item.array
    out.update(dataset.members)
    return out


def member_paths(names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Return each name's path components (``member_parts`` of the name policy), the names checked together too.

    Raises:
        MemberNameError: a name the name policy refuses, or one used both as a file and as a folder (``a`` and
            ``a/b``: no file system or HDF5 file holds both).
    """
    index = NameIndex()
    paths = {}
    for name in names:
        paths[name] = member_parts(name)
        if any(code == "file-dir-conflict" for code, _ in index.add(name)):
            raise MemberNameError(name, ["file-dir-conflict"])
    return paths


#: The empty option mapping (read-only, so one instance can be the default of every ``read`` and ``write``).
NO_OPTIONS: Mapping[str, Any] = MappingProxyType({})

_NONE_WORDS = ("", "none", "null")
_TRUE_WORDS = ("1", "true", "yes", "on")
_FALSE_WORDS = ("0", "false", "no", "off")


def parse_flag(text: str) -> bool:
    """Parse a command-line boolean (``true``/``false``, ``yes``/``no``, ``on``/``off``, ``1``/``0``).

    Raises:
        ValueError: any other word.
    """
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueError(f"expected a boolean ({'/'.join(_TRUE_WORDS)} or {'/'.join(_FALSE_WORDS)}), got {text!r}")


def optional(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Return a parser that reads ``none`` (or an empty value) as None and anything else with ``parse``."""

    def parse_optional(text: str) -> Any:
        return None if text.strip().lower() in _NONE_WORDS else parse(text)

    parse_optional.__wrapped__ = parse  # type: ignore[attr-defined]  # what option_type names
    return parse_optional


#: How ``formats`` names the type of a parser (spec/cli-tools.md#formats).
_TYPE_NAMES: Mapping[Callable[[str], Any], str] = MappingProxyType({
    str: "text", int: "integer", float: "number", parse_flag: "boolean"})


def option_text(value: Any) -> str:
    """Return how a typed option value is written on the command line (``none``, ``true``, ``2,4,4``)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ",".join(option_text(v) for v in value)
    return str(value)


@dataclass(frozen=True, slots=True)
class Need:
    """What an option needs of another option of the same table to have an effect (spec/cli-tools.md#needs).

    Attributes:
        option: the other option's name.
        values: the values it must have; empty: any value but None (the option is set).
    """

    option: str
    values: tuple[Any, ...] = ()

    def met(self, resolved: Mapping[str, Any]) -> bool:
        """Return whether the resolved options meet this need."""
        value = resolved.get(self.option)
        return value is not None if not self.values else value in self.values

    def describe(self) -> str:
        """Return the need in words: ``compression is set`` or ``profile is gdal``."""
        if not self.values:
            return f"{self.option} is set"
        return f"{self.option} is {' or '.join(option_text(v) for v in self.values)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionSpec:
    """One option a converter's ``read`` or ``write`` accepts (declared in its ``read_options``/``write_options``).

    Attributes:
        help: one line for ``hsi-conform formats``.
        default: the value when the option is not given.
        parse: turns the command line's string (``--option KEY=VALUE``) into the typed value (raising ValueError
            when it cannot); values that are not strings (from Python callers) are taken as they are.
        choices: the allowed values after parsing, when not empty (the default is always allowed).
        needs: what the option needs of the others to have an effect: a value other than its default that lacks
            one is a usage error saying why (``level`` without ``compression``).
        type: how ``formats`` names the values it takes (default: from ``parse``, see :func:`option_type`).
    """

    help: str
    default: Any = None
    parse: Callable[[str], Any] = str
    choices: tuple[Any, ...] = ()
    needs: tuple[Need, ...] = ()
    type: str = ""

    def value(self, name: str, given: Any) -> Any:
        """Return the typed value of option ``name`` given as ``given``.

        Raises:
            ConfigError: the string does not parse, or the value is not one of the choices.
        """
        value = given
        if isinstance(given, str):
            try:
                value = self.parse(given)
            except ValueError as exc:
                raise ConfigError(f"option {name}={given}: {exc}") from exc
        if self.choices and value != self.default and value not in self.choices:
            allowed = ", ".join(option_text(c) for c in self.choices)
            raise ConfigError(f"option {name} must be one of {allowed}, not {option_text(value)}")
        return value


def resolve_options(table: Mapping[str, OptionSpec], given: Mapping[str, Any], role: str) -> dict[str, Any]:
    """Return every option of ``table``: the given ones parsed and checked, the others at their default.

    Args:
        table: a converter's ``read_options`` or ``write_options``.
        given: the options passed (strings from the command line, or typed values); already parsed values
            parse to themselves.
        role: who takes them, for messages (``"envi writer"``).

    Raises:
        UnknownOptionError: an option the table does not declare.
        ConfigError: a value that does not parse or is not allowed.
    """
    unknown = sorted(set(given) - set(table))
    if unknown:
        raise UnknownOptionError(unknown, {role: tuple(table)})
    resolved = {name: spec.value(name, given[name]) if name in given else spec.default
                for name, spec in table.items()}
    check_needs(table, resolved, role)
    return resolved


def check_needs(table: Mapping[str, OptionSpec], resolved: Mapping[str, Any], role: str) -> None:
    """Refuse an option set away from its default whose :attr:`OptionSpec.needs` are not met.

    Such an option would change nothing (``level`` without ``compression``), so it is a usage error that says why
    rather than silently ignored (spec/cli-tools.md#needs).

    Raises:
        ConfigError: the first such option, with what it needs and what was given instead.
    """
    for name, spec in table.items():
        if resolved[name] == spec.default:
            continue
        for need in spec.needs:
            if not need.met(resolved):
                raise ConfigError(f"{role} option {name}={option_text(resolved[name])} has no effect unless "
                                  f"{need.describe()} (it is {option_text(resolved.get(need.option))})")


def option_type(spec: OptionSpec) -> str:
    """Return how ``formats`` names an option's values: its declared ``type``, else from its parser.

    ``optional(int)`` is ``integer or none``; a parser this table does not know is ``text``.
    """
    if spec.type:
        return spec.type
    parse, suffix = spec.parse, ""
    inner = getattr(parse, "__wrapped__", None)
    if inner is not None:
        parse, suffix = inner, " or none"
    return _TYPE_NAMES.get(parse, "text") + suffix


@runtime_checkable
class Converter(Protocol):
    """A format plugin (registered in the ``hsi_conform.converters`` entry-point group).

    The registry checks every plugin against this protocol when it loads it (and skips, with a warning, one that
    does not satisfy it). :class:`ConverterBase` supplies the defaults of the optional parts.

    Class attributes:
        name: the entry-point name, used by ``--from``/``--to``.
        description: one line for ``hsi-conform formats``.
        suffixes: file suffixes the format owns (may be empty); ``convert`` picks the writer of a destination by
            them, and ``detect`` names a converter whose extra is missing by them.
        requires: the import names the converter needs (e.g. ``("h5py",)``).
        extra: the ``pip install hsi-conform[<extra>]`` that provides them, if any.
        read_options: the options ``read`` accepts, by name.
        write_options: the options ``write`` accepts, by name.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]
    requires: ClassVar[tuple[str, ...]]
    extra: ClassVar[str | None]
    read_options: ClassVar[Mapping[str, OptionSpec]]
    write_options: ClassVar[Mapping[str, OptionSpec]]

    def can_read(self, source: Path) -> bool:
        """Return whether ``source`` looks like this format (cheap: names and magic bytes only)."""
        ...

    def source_files(self, source: Path) -> list[Path]:
        """Return every file :meth:`read` reads for ``source`` (for migration journals and checksums)."""
        ...

    def read(self, source: Path, options: Mapping[str, Any]) -> HsiDataset:
        """Read ``source`` into the neutral dataset (arrays stay lazy where the format allows).

        ``options`` holds values of ``read_options`` (parsed by the registry; a converter may parse them again
        with :func:`resolve_options`, which leaves typed values as they are).
        """
        ...

    def write(self, dataset: HsiDataset, dest: Path, options: Mapping[str, Any]) -> Path:
        """Write the dataset to ``dest`` (published atomically) and return the path written.

        ``options`` holds values of ``write_options``, as for :meth:`read`.
        """
        ...


class ConverterBase:
    """Defaults for the optional parts of :class:`Converter`; built-ins and plugins may subclass it.

    A subclass still declares ``name`` and ``description`` and implements ``can_read``, ``read`` and ``write``.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    read_options: ClassVar[Mapping[str, OptionSpec]] = NO_OPTIONS
    write_options: ClassVar[Mapping[str, OptionSpec]] = NO_OPTIONS
    #: Whether :meth:`write` writes (False: a read-only format whose ``write`` refuses; ``formats`` says so).
    writes: ClassVar[bool] = True

    def source_files(self, source: Path) -> list[Path]:
        """Return ``source`` itself, or every regular file of a folder (symbolic links neither listed nor followed)."""
        return files_under(source) if source.is_dir() else [source]

    def outputs(self, dest: Path) -> tuple[Path, ...]:
        """Return every path :meth:`write` creates or replaces for ``dest`` (default: ``dest`` itself).

        Optional: ``convert`` refuses, before reading anything, a conversion whose outputs include an input
        (spec/safety.md#output-is-input); a converter that writes beside ``dest`` (the ENVI pair) lists those too.
        """
        return (dest,)

    def parsed_read_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Return every read option (given ones checked, the others at their default); see :func:`resolve_options`."""
        return resolve_options(self.read_options, options, f"{self.name} reader")

    def parsed_write_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Return every write option (given ones checked, the others at their default); see :func:`resolve_options`."""
        return resolve_options(self.write_options, options, f"{self.name} writer")


def mapping_table(name: str) -> dict[str, Any]:
    """Return the declarative mapping table ``converters/<name>.toml`` (shipped in the wheel)."""
    with data_file("converters", f"{name}.toml").open("rb") as f:
        return tomllib.load(f)


def atomic_target(dest: Path) -> Path:
    """Return a fresh temp name beside ``dest`` (kept for converters written against it).

    The built-in writers publish through :func:`hsi_conform._atomic.atomic_path` instead, which also creates the
    temp exclusively, fsyncs, renames and cleans up (spec/container.md#crash-safety).
    """
    return temp_name(dest)
