"""The converter registry: the ``hsi_conform.converters`` entry-point group, scanned lazily, and ``convert``."""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from hsi_conform.converters.base import Converter, HsiDataset
from hsi_conform.errors import ConverterNotFoundError, ConverterUnavailableError

GROUP = "hsi_conform.converters"

__all__ = ["GROUP", "Converter", "HsiDataset", "Registered", "convert", "detect", "format_for", "get_converter",
           "registered"]


@dataclass(frozen=True, slots=True)
class Registered:
    """A converter known to the registry (not yet imported)."""

    name: str
    entry_point: EntryPoint

    def load(self) -> type[Converter]:
        """Import the converter class."""
        cls: type[Converter] = self.entry_point.load()
        return cls


def registered() -> dict[str, Registered]:
    """Return every converter in the entry-point group by name (duplicates: the first wins, with a warning)."""
    found: dict[str, Registered] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: (e.name, e.value)):
        if ep.name in found:
            warnings.warn(f"converter {ep.name!r} is registered twice; using {found[ep.name].entry_point.value}",
                          RuntimeWarning, stacklevel=2)
            continue
        found[ep.name] = Registered(ep.name, ep)
    return found


def missing_requirements(cls: type[Converter]) -> tuple[str, ...]:
    """Return the import names a converter needs that are not installed."""
    return tuple(r for r in cls.requires if importlib.util.find_spec(r) is None)


def get_converter(name: str) -> Converter:
    """Return an instance of the converter called ``name``.

    Raises:
        ConverterNotFoundError: no converter has that name.
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
            if _guess_by_suffix(cls, source):
                unavailable.append((entry.name, missing_requirements(cls), cls.extra))
            continue
        converter = cls()
        if converter.can_read(source):
            return converter
    if unavailable:
        name, missing, extra = unavailable[0]
        raise ConverterUnavailableError(name, missing, extra=extra)
    raise ConverterNotFoundError(str(source), tuple(registered()))


def convert(source: str | Path, dest: str | Path, *, from_format: str | None = None, to_format: str | None = None,
            **options: Any) -> Path:
    """Convert ``source`` to ``dest`` through the neutral dataset.

    Args:
        source: file or folder to read.
        dest: file or folder to write (published atomically; missing parent folders are created).
        from_format: converter name of the source (detected when None).
        to_format: converter name of the destination (from the destination's suffix when None: ``.hsi``,
            ``.h5``/``.hdf5``, ``.tif``/``.tiff``, ``.hdr``/``.img`` for ENVI).
        options: format options passed to the destination converter's ``write``.

    Raises:
        ConverterNotFoundError: unknown format or undetectable source.
        ConverterUnavailableError: a needed optional dependency is missing.
    """
    src, dst = Path(source), Path(dest)
    reader = get_converter(from_format) if from_format else detect(src)
    writer = get_converter(to_format or format_for(dst))
    dataset = reader.read(src)
    dst.parent.mkdir(parents=True, exist_ok=True)  # the destination's folder is created, as `mkdir -p` would
    return writer.write(dataset, dst, **options)


def format_for(dest: Path) -> str:
    """Return the converter whose ``suffixes`` ClassVar claims the destination's suffix (the first by name)."""
    suffix = dest.suffix.lower()
    for entry in registered().values():
        cls = _load(entry)
        if cls is not None and suffix and suffix in getattr(cls, "suffixes", ()):
            return entry.name
    raise ConverterNotFoundError(str(dest), tuple(registered()))


def _guess_by_suffix(cls: type[Converter], source: Path) -> bool:
    suffixes = getattr(cls, "suffixes", ())
    return isinstance(suffixes, tuple) and source.suffix.lower() in suffixes


def _load(entry: Registered) -> type[Converter] | None:
    try:
        return entry.load()
    except Exception as exc:  # a broken plugin must not break the others
        warnings.warn(f"converter {entry.name!r} failed to load: {exc}", RuntimeWarning, stacklevel=3)
        return None
