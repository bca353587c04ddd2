"""The converter registry: the ``hsi_conform.converters`` entry-point group, scanned lazily, and ``convert``.

Every plugin is checked against :class:`~hsi_conform.converters.base.Converter` when it is loaded (its ClassVars
present and typed, an instance passing the runtime protocol check); one that fails to import or does not satisfy
the protocol is skipped with a ``RuntimeWarning``, so it never breaks the others.

Options (:func:`split_options`) are routed by the tables the converters declare (``read_options`` and
``write_options``): an option goes to every side that declares it, so one both declare reaches both (each parses it
with its own :class:`~hsi_conform.converters.base.OptionSpec`); an option neither declares is a
:class:`~hsi_conform.errors.UnknownOptionError` naming what each side accepts.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from hsi_conform._atomic import sweep_beside
from hsi_conform._lock import lock
from hsi_conform._outputs import refuse_output_on_input
from hsi_conform._walk import make_folders
from hsi_conform.converters.base import (
    NO_OPTIONS,
    Converter,
    HsiDataset,
    OptionSpec,
    resolve_options,
)
from hsi_conform.converters.guard import (
    check_deferred_crcs,
    crc_judged,
    guard_write,
    judge_source,
    record_source_report,
    source_inputs,
)
from hsi_conform.errors import (
    ConverterNotFoundError,
    ConverterUnavailableError,
    DestinationExistsError,
    HsiConformError,
    InputUnreadableError,
    OutputUnwritableError,
    UnknownOptionError,
)

GROUP = "hsi_conform.converters"

__all__ = ["GROUP", "Conversion", "Converter", "HsiDataset", "Registered", "convert", "convert_with", "detect",
           "format_for", "get_converter", "missing_requirements", "output_paths", "protocol_problems", "registered",
           "run_conversion", "split_options"]


@dataclass(frozen=True, slots=True)
class Registered:
    """A converter known to the registry (not yet imported)."""

    name: str
    entry_point: EntryPoint

    def load(self) -> type[Converter]:
        """Import the converter class and check that it satisfies the protocol.

        Raises:
            TypeError: the entry point does not name a class satisfying :class:`Converter`.
            Exception: whatever importing the plugin raises.
        """
        cls = self.entry_point.load()
        problems = protocol_problems(cls)
        if problems:
            raise TypeError(f"{self.entry_point.value} does not satisfy the Converter protocol: {'; '.join(problems)}")
        checked: type[Converter] = cls
        return checked


def _is_names(value: object) -> bool:
    return isinstance(value, tuple) and all(isinstance(v, str) for v in value)


def _is_option_table(value: object) -> bool:
    return isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, OptionSpec)
                                              for k, v in value.items())


#: The protocol's ClassVars and what their values must be.
_CLASSVARS: dict[str, Callable[[object], bool]] = {
    "name": lambda v: isinstance(v, str) and bool(v),
    "description": lambda v: isinstance(v, str),
    "suffixes": _is_names,
    "requires": _is_names,
    "extra": lambda v: v is None or isinstance(v, str),
    "read_options": _is_option_table,
    "write_options": _is_option_table,
}
_METHODS = ("can_read", "source_files", "read", "write")


def protocol_problems(cls: object) -> list[str]:
    """Return what keeps ``cls`` from being a converter class (empty when it satisfies :class:`Converter`).

    The ClassVars must be set on the class (not only on instances) with values of the declared types, the methods
    must be there, and an instance made without arguments must pass ``isinstance(instance, Converter)``.
    """
    if not isinstance(cls, type):
        return [f"{cls!r} is not a class"]
    attrs: dict[str, object] = {}
    for klass in reversed(cls.__mro__):  # the class's own attributes, as inheritance resolves them
        attrs.update(vars(klass))
    problems = [f"missing {name}" for name in (*_CLASSVARS, *_METHODS) if name not in attrs]
    problems += [f"{name} has the wrong type ({type(attrs[name]).__name__})"
                 for name, ok in _CLASSVARS.items() if name in attrs and not ok(attrs[name])]
    if problems:
        return problems
    try:
        instance = cls()
    except Exception as exc:  # a plugin's constructor is foreign code
        return [f"cannot be created without arguments ({type(exc).__name__}: {exc})"]
    return [] if isinstance(instance, Converter) else ["an instance does not satisfy the protocol"]


def registered() -> dict[str, Registered]:
    """Return every converter in the entry-point group by name (duplicates: the first wins, with a warning)."""
    found: dict[str, Registered] = {}
    for ep in _group_entry_points():
        if ep.name in found:
            warnings.warn(f"converter {ep.name!r} is registered twice; using {found[ep.name].entry_point.value}",
                          RuntimeWarning, stacklevel=2)
            continue
        found[ep.name] = Registered(ep.name, ep)
    return found


#: The group's entry points and the state of ``sys.path`` they were listed under (see :func:`_group_entry_points`).
_listed: tuple[tuple[tuple[str, int], ...], tuple[EntryPoint, ...]] | None = None


def _group_entry_points() -> tuple[EntryPoint, ...]:
    """Return the group's entry points, sorted; listed again only when ``sys.path`` or a folder on it changed.

    Listing them reads the metadata of every installed distribution (about 20 ms here, and a conversion asks twice:
    detection and the writer). A plugin installed meanwhile adds a folder to a folder on ``sys.path`` (changing its
    modification time) or a folder to ``sys.path``: either lists the group again.
    """
    global _listed
    state = _path_state()
    if _listed is None or _listed[0] != state:
        _listed = state, tuple(sorted(entry_points(group=GROUP), key=lambda e: (e.name, e.value)))
    return _listed[1]


def _path_state() -> tuple[tuple[str, int], ...]:
    state = []
    for entry in sys.path:
        try:
            mtime = os.stat(entry or ".").st_mtime_ns
        except OSError:  # a missing folder or a file that does not exist yet
            mtime = -1
        state.append((entry, mtime))
    return tuple(state)


def missing_requirements(cls: type[Converter]) -> tuple[str, ...]:
    """Return the import names a converter needs that are not installed."""
    return tuple(r for r in cls.requires if importlib.util.find_spec(r) is None)


def get_converter(name: str) -> Converter:
    """Return an instance of the converter called ``name``.

    Raises:
        ConverterNotFoundError: no converter has that name (or it is broken: a warning says why).
        ConverterUnavailableError: its optional dependencies are missing (the message names the pip command).
    """
    entry = registered().get(name)
    if entry is None:
        raise ConverterNotFoundError(name, tuple(registered()))
    cls = _load(entry)
    if cls is None:
        raise ConverterNotFoundError(name, tuple(registered()))
    missing = missing_requirements(cls)
    if missing:
        raise ConverterUnavailableError(name, missing, extra=cls.extra)
    return cls()


def detect(source: Path) -> Converter:
    """Return the converter that can read ``source``.

    Raises:
        ConverterNotFoundError: no installed converter recognises it (the message lists the candidates).
        ConverterUnavailableError: only converters whose dependencies are missing recognise it.
    """
    unavailable: list[tuple[str, tuple[str, ...], str | None]] = []
    for entry in registered().values():
        cls = _load(entry)
        if cls is None:
            continue
        if missing_requirements(cls):
            if source.suffix.lower() in cls.suffixes:
                unavailable.append((entry.name, missing_requirements(cls), cls.extra))
            continue
        converter = cls()
        if converter.can_read(source):
            return converter
    if unavailable:
        name, missing, extra = unavailable[0]
        raise ConverterUnavailableError(name, missing, extra=extra)
    raise ConverterNotFoundError(str(source), tuple(registered()))


def format_for(dest: Path) -> str:
    """Return the converter whose ``suffixes`` ClassVar claims the destination's suffix (the first by name)."""
    suffix = dest.suffix.lower()
    for entry in registered().values():
        cls = _load(entry)
        if cls is not None and suffix and suffix in cls.suffixes:
            return entry.name
    raise ConverterNotFoundError(str(dest), tuple(registered()))


def split_options(reader: Converter, writer: Converter, options: Mapping[str, Any], *,
                  ignore_unknown: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parse ``options`` and split them into the reader's and the writer's, by their declared tables.

    An option both declare goes to both. Every declared option is in the result (the ones not given at their
    default), so the converters receive complete, typed mappings.

    Args:
        reader: the source converter (``read_options``).
        writer: the destination converter (``write_options``).
        options: strings from the command line, or typed values from Python.
        ignore_unknown: drop options neither declares instead of raising (``migrate``: they belong to another
            source format of the tree).

    Raises:
        UnknownOptionError: an option neither declares (unless ``ignore_unknown``); it names what each accepts.
        ConfigError: a value that does not parse or is not one of its choices.
    """
    roles = {f"{reader.name} reader": reader.read_options, f"{writer.name} writer": writer.write_options}
    unknown = sorted(k for k in options if all(k not in table for table in roles.values()))
    if unknown and not ignore_unknown:
        raise UnknownOptionError(unknown, {role: tuple(table) for role, table in roles.items()})
    read, write = ({k: v for k, v in options.items() if k in table} for table in roles.values())
    return (resolve_options(reader.read_options, read, f"{reader.name} reader"),
            resolve_options(writer.write_options, write, f"{writer.name} writer"))


@dataclass(frozen=True, slots=True)
class Conversion:
    """What one conversion did (what ``hsi-conform convert`` prints).

    Attributes:
        reader: the name of the source converter.
        writer: the name of the destination converter.
        written: the path the writer returned.
        notes: what the reader inferred or could not carry.
    """

    reader: str
    writer: str
    written: Path
    notes: tuple[str, ...]


def output_paths(writer: Converter, dest: Path) -> tuple[Path, ...]:
    """Return every path ``writer`` creates or replaces for ``dest`` (its optional ``outputs``, else ``dest``)."""
    outputs = getattr(writer, "outputs", None)
    return tuple(outputs(dest)) if callable(outputs) else (dest,)


def convert_with(reader: Converter, writer: Converter, source: Path, dest: Path,
                 options: Mapping[str, Any] = NO_OPTIONS, *, ignore_unknown: bool = False,
                 allow_nonconformant: bool = False, overwrite: bool = True) -> Conversion:
    """Convert ``source`` to ``dest`` with the given converters (the step :func:`convert` and ``migrate`` share).

    Before anything is read: the options are split and checked, no output may be an input, and a container source
    must conform. Before anything is written: the dataset passes :func:`~hsi_conform.converters.guard.guard_write`
    (names, byte budget). Missing parent folders of ``dest`` are created. See spec/safety.md#refused.

    Args:
        reader: the source converter.
        writer: the destination converter.
        source: what to read.
        dest: where to write.
        options: options of both, routed by their declared tables.
        ignore_unknown: drop options neither declares (``migrate``).
        allow_nonconformant: convert a nonconformant container source anyway; its report is kept in the output
            as ``Metadata/hsi-conform/source-report.json``.
        overwrite: replace what exists at the outputs (False: refuse, as the command line does without
            ``--overwrite``; checked after the output-is-input refusal, before the source is judged).

    An ``OSError`` of a converter becomes an :class:`~hsi_conform.errors.InputUnreadableError` while reading and an
    :class:`~hsi_conform.errors.OutputUnwritableError` while writing (both keep ``OSError`` as a base; the message
    names the file the operating system named).

    The write holds the lock of ``dest`` (:mod:`hsi_conform._lock`) and first removes what writers of ``dest``
    killed earlier left behind.

    Raises:
        UnknownOptionError: see :func:`split_options`.
        ConfigError: a bad option value.
        OutputIsInputError: an output is the source, one of its files, inside it or around it (exit 2).
        DestinationExistsError: ``overwrite`` is false and an output exists (exit 5).
        NonconformantSourceError: a container source does not conform (exit 1).
        MemberNameError: a member name that could land outside the destination (exit 1).
        DataBudgetError: members that share bytes or run past their file (exit 1).
        InputUnreadableError: the source cannot be read.
        OutputUnwritableError: the destination cannot be written.
        NoSpaceError: the output does not fit (a full disk, the file-size limit).
        InUseError: another conversion writes ``dest`` (nothing is written).
    """
    read_options, write_options = split_options(reader, writer, options, ignore_unknown=ignore_unknown)
    source, dest = Path(InputUnreadableError.checked_path(source)), Path(OutputUnwritableError.checked_path(dest))
    outputs = output_paths(writer, dest)
    with _os_errors(InputUnreadableError, source):
        refuse_output_on_input(outputs, source_inputs(source, reader.source_files(source)))
        existing = [path for path in outputs if path.exists() or path.is_symlink()]
        if existing and not overwrite:
            raise DestinationExistsError(str(dest if dest in existing else existing[0]))
        deferred = tuple(getattr(writer, "crc_checked", ()))  # CRCs the writer checks as it copies
        report = judge_source(reader.name, source, allow_nonconformant=allow_nonconformant, deferred=deferred)
        dataset = reader.read(source, read_options)
        check_deferred_crcs(reader.name, source, dataset, deferred)
    record_source_report(dataset, report)
    guard_write(dataset, outputs)
    with _os_errors(OutputUnwritableError, dest):
        make_folders(dest.parent)  # the destination's folder is created, as `mkdir -p` would (at any depth)
        with lock(dest), crc_judged(reader.name, source, deferred):
            sweep_beside(dest)
            written = writer.write(dataset, dest, write_options)
    return Conversion(reader.name, writer.name, written, tuple(dataset.notes))


@contextmanager
def _os_errors(error: type[InputUnreadableError | OutputUnwritableError], path: Path) -> Iterator[None]:
    """Re-raise an ``OSError`` that is not yet one of ours as ``error`` about ``path``."""
    try:
        yield
    except HsiConformError:
        raise
    except OSError as exc:
        raise error.from_os_error(str(path), exc) from exc


def run_conversion(source: str | Path, dest: str | Path, options: Mapping[str, Any] = NO_OPTIONS, *,
                   from_format: str | None = None, to_format: str | None = None,
                   allow_nonconformant: bool = False, overwrite: bool = True) -> Conversion:
    """Convert ``source`` to ``dest`` as :func:`convert` does, and return what happened (for the command line).

    The writer is resolved before the reader, so a bad destination is reported before the source is probed.

    Raises:
        ConverterNotFoundError: unknown format, a destination suffix no converter claims, or an undetectable
            source (``source`` of the error says which).
        ConverterUnavailableError: a needed optional dependency is missing.
        UnknownOptionError: an option neither converter declares.
        ConfigError: a bad option value.
        OutputIsInputError, NonconformantSourceError, MemberNameError, DataBudgetError: see :func:`convert_with`.
        InputUnreadableError: the source cannot be read.
        OutputUnwritableError: the destination cannot be written.
    """
    src, dst = Path(source), Path(dest)
    writer = get_converter(to_format or format_for(dst))
    with _os_errors(InputUnreadableError, src):  # detection probes the source
        reader = get_converter(from_format) if from_format else detect(src)
    return convert_with(reader, writer, src, dst, options, allow_nonconformant=allow_nonconformant,
                        overwrite=overwrite)


def convert(source: str | Path, dest: str | Path, *, from_format: str | None = None, to_format: str | None = None,
            allow_nonconformant: bool = False, **options: Any) -> Path:
    """Convert ``source`` to ``dest`` through the neutral dataset.

    Args:
        source: file or folder to read.
        dest: file or folder to write (published atomically; missing parent folders are created).
        from_format: converter name of the source (detected when None).
        to_format: converter name of the destination (from the destination's suffix when None: ``.hsi``,
            ``.h5``/``.hdf5``, ``.tif``/``.tiff``, ``.hdr``/``.img`` for ENVI).
        allow_nonconformant: convert a container source that does not conform anyway (its report is kept in the
            output as ``Metadata/hsi-conform/source-report.json``); by default it is refused.
        options: format options, typed values or strings as on the command line; each goes to the converter
            that declares it (``read_options`` of the source, ``write_options`` of the destination, or both).

    Raises:
        ConverterNotFoundError: unknown format or undetectable source.
        ConverterUnavailableError: a needed optional dependency is missing.
        UnknownOptionError: an option neither converter declares (a ConfigError; the message lists what each
            accepts).
        ConfigError: a bad option value.
        OutputIsInputError: an output is an input (nothing is read or written).
        NonconformantSourceError: the container source does not conform (nothing is written).
        MemberNameError: a member name that could land outside the destination (nothing is written).
        DataBudgetError: members that share bytes or run past their file (nothing is written).
        InputUnreadableError: the source cannot be read, or is not what its format requires.
        OutputUnwritableError: the destination cannot be written (its old content is kept).
        HsiConformError: any other documented refusal of a converter (e.g. a
            :class:`~hsi_conform.errors.DatasetError` for data the destination format cannot hold); no other
            exception escapes for any input.
    """
    return run_conversion(source, dest, options, from_format=from_format, to_format=to_format,
                          allow_nonconformant=allow_nonconformant).written


def _load(entry: Registered) -> type[Converter] | None:
    try:
        return entry.load()
    except Exception as exc:  # a broken or non-conforming plugin must not break the others
        warnings.warn(f"converter {entry.name!r} is skipped: {exc}", RuntimeWarning, stacklevel=3)
        return None
