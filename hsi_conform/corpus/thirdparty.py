"""The third-party test set: real ENVI files written by other tools, with the outcomes a correct import has.

``fixtures/third-party/<dataset>/`` holds each dataset's files as their upstream repository has them;
``expected.toml`` says per dataset which file is the header, which the data file GDAL reads with it, whether the
import must succeed or be refused, the rule ids of the written container's errors and the fields that must survive;
``SOURCES`` records each file's repository, commit, path, licence and SHA-256. The expectations are what a correct
tool does (issue 12), so tests compare them with today's behaviour; GDAL's read of the data file (rasterio) is the
reference for pixels and georeferencing.
"""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from hsi_conform._resources import data_folder
from hsi_conform.header import parse_header

__all__ = ["EXPECTED", "SOURCES", "THIRD_PARTY", "Dataset", "Reference", "SourceFile", "field_value",
           "load_datasets", "read_sources", "reference"]

THIRD_PARTY = data_folder("fixtures") / "third-party"
EXPECTED = "expected.toml"
SOURCES = "SOURCES"

Import = Literal["ok", "refused"]


@dataclass(frozen=True, slots=True)
class Dataset:
    """One dataset of the set and what must happen to it (the keys of ``expected.toml``)."""

    name: str
    folder: Path
    header: str
    data: str | None
    outcome: Import
    errors: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    visible: tuple[str, ...] = ()
    sidecars: tuple[str, ...] = ()
    decoys: tuple[str, ...] = ()
    georeferenced: bool = False
    wavelengths: bool = False
    items: tuple[int, ...] = ()
    reason: str = ""

    @property
    def header_path(self) -> Path:
        """The header file given to the converter."""
        return self.folder / self.header

    @property
    def data_path(self) -> Path | None:
        """The data file GDAL reads with the header (None when the set has none)."""
        return None if self.data is None else self.folder / self.data

    @property
    def imports(self) -> bool:
        """Whether the import must succeed."""
        return self.outcome == "ok"

    @property
    def exit_code(self) -> int:
        """The exit code of ``hsi-conform convert HEADER out.hsi``: 3 refused, 1 nonconformant output, 0 otherwise."""
        if not self.imports:
            return 3
        return 1 if self.errors else 0


_LISTS = ("errors", "absent", "fields", "visible", "sidecars", "decoys", "items")


def load_datasets(root: Path = THIRD_PARTY) -> list[Dataset]:
    """Read ``expected.toml`` under ``root``: one :class:`Dataset` per table, in file order.

    Raises:
        ValueError: a table names an unknown key or an ``import`` other than ``ok``/``refused``.
    """
    tables = tomllib.loads((root / EXPECTED).read_text(encoding="utf-8"))
    return [_dataset(root, name, table) for name, table in tables.items()]


def _dataset(root: Path, name: str, table: dict[str, Any]) -> Dataset:
    known = {"header", "data", "import", "georeferenced", "wavelengths", "reason", *_LISTS}
    unknown = sorted(set(table) - known)
    if unknown or table.get("import") not in ("ok", "refused"):
        raise ValueError(f"{EXPECTED} [{name}]: unknown keys {unknown} or import not ok/refused")
    lists = {key: tuple(table.get(key, ())) for key in _LISTS}
    return Dataset(name=name, folder=root / name, header=table["header"], data=table.get("data"),
                   outcome=table["import"], georeferenced=bool(table.get("georeferenced", False)),
                   wavelengths=bool(table.get("wavelengths", False)), reason=table.get("reason", ""), **lists)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One line of ``SOURCES``: a file of the set and where it comes from."""

    path: str
    sha256: str
    source: str
    upstream_path: str
    repository: str
    commit: str
    licence: str


def read_sources(root: Path = THIRD_PARTY) -> list[SourceFile]:
    """Parse ``SOURCES``: ``source NAME REPOSITORY COMMIT LICENCE`` lines, then ``file PATH SHA256 NAME PATH``.

    Raises:
        ValueError: a line of neither form, or a file of an undeclared source.
    """
    sources: dict[str, tuple[str, str, str]] = {}
    files: list[SourceFile] = []
    for number, line in enumerate((root / SOURCES).read_text(encoding="utf-8").splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "source" and len(words) == 5:
            sources[words[1]] = (words[2], words[3], words[4])
        elif words[0] == "file" and len(words) == 5 and words[3] in sources:
            repository, commit, licence = sources[words[3]]
            files.append(SourceFile(words[1], words[2], words[3], words[4], repository, commit, licence))
        else:
            raise ValueError(f"{SOURCES}:{number}: expected 'source' or 'file' line, got {line!r}")
    return files


def field_value(header_bytes: bytes, key: str) -> str | tuple[str, ...] | None:
    """Return a field's value as written: the items of a list, the stripped text of a scalar (None: absent).

    Values compare across a canonical rewrite this way: line breaks and blanks around list items do not count.
    """
    entry = parse_header(header_bytes).get(key)
    if entry is None:
        return None
    return entry.items if entry.is_list and entry.items is not None else entry.value_raw.strip()


@dataclass(frozen=True, slots=True)
class Reference:
    """GDAL's read of a dataset's data file, and the spectral lists of its header."""

    pixels: np.ndarray[Any, Any]
    crs: Any
    transform: tuple[float, ...]
    wavelength: tuple[float, ...] | None
    fwhm: tuple[float, ...] | None

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(bands, lines, samples)``."""
        bands, lines, samples = self.pixels.shape
        return bands, lines, samples


def reference(dataset: Dataset) -> Reference:
    """Read the dataset's data file with rasterio (GDAL finds the header) and its header's wavelength and fwhm.

    Raises:
        ValueError: the dataset has no data file.
    """
    if dataset.data_path is None:
        raise ValueError(f"{dataset.name} has no data file")
    rasterio = importlib.import_module("rasterio")
    with rasterio.open(dataset.data_path) as src:
        pixels, crs, transform = src.read(), src.crs, tuple(src.transform)[:6]
    header = parse_header(dataset.header_path.read_bytes())
    return Reference(pixels=pixels, crs=crs, transform=transform, wavelength=_floats(header.value("wavelength")),
                     fwhm=_floats(header.value("fwhm")))


def _floats(values: Any) -> tuple[float, ...] | None:
    return None if values is None else tuple(float(v) for v in values)
