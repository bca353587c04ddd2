"""The ``legacy`` converter: VEsolve / imanto pro style processed float32 ENVI exports (spec/legacy-mapping.md).

No public description of these exports exists, so the importer accepts exactly what the plain ENVI importer
accepts (:mod:`hsi_conform.converters.envi`) and keeps everything else. Decisions (data in
``converters/legacy.toml``):

* **Detection.** A folder is a legacy dataset when its top level holds exactly one ENVI pair whose ``data type``
  is listed in the table (float32) and that is not an exported container (no ``<name>.hsi.d/``). Single files
  are left to the ``envi`` converter; ``--from legacy`` reads one anyway.
* **Side files.** Every file of the dataset folder except the data file (the original header included) is kept
  verbatim as ``Metadata/legacy/<relative path>``; symlinks are not followed. Given a single file, the side files
  are the siblings named ``<base>.*`` only (a folder of many datasets is not swept into one container).
* **Data.** float32 bytes go verbatim into ``data.envi``; ``data.hdr`` is normalised as by the ``envi`` importer.
* **Quantisation** (``quantize="int16"|"uint16"``, lossy by choice). Stored integers are
  ``round(value * scale)``; ``reflectance scale factor`` becomes ``scale`` times the source's own factor (1 if
  absent), so ``value = stored / scale`` as SPy and ENVI apply it. ``scale`` is the largest 4-significant-digit
  number that maps the largest magnitude into the table's range (int16 ±32767; uint16 0..65534, negative values
  clip to 0 and are counted). The data are streamed twice in slabs (range, then conversion into a temporary
  file that is mapped, never held in memory); the maximum absolute error actually introduced is measured (in
  the source's data units) and reported in the dataset notes, with the bound ``0.5 / scale`` that holds when
  nothing was clipped. NaN and infinities refuse quantisation (:class:`QuantizationError`), unless the header's
  ``data ignore value`` is NaN: pixels equal to a declared ``data ignore value`` (NaN included) become the
  table's ignore code (int16 -32768, uint16 65535), which is written as the new ``data ignore value``.
* **Export** is not offered: write a legacy import with ``--to envi`` or ``--to hsi``.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hsi_conform.container.source import read_block
from hsi_conform.container.write import SLAB_BYTES
from hsi_conform.converters.base import NO_OPTIONS, Blob, ConverterBase, HsiDataset, OptionSpec, mapping_table, optional
from hsi_conform.converters.envi import (
    EnviFiles,
    find_pair,
    read_header_file,
    read_pair,
    walk_files,
)
from hsi_conform.converters.envi import (
    table as envi_table,
)
from hsi_conform.errors import ConfigError, HsiConformError, InputUnreadableError, QuantizationError
from hsi_conform.header import Header, parse_header


@dataclass(frozen=True, slots=True, kw_only=True)
class Quantization:
    """What a quantisation did.

    Attributes:
        target: ``int16`` or ``uint16``.
        scale: stored = round(value * scale).
        max_abs_error: the largest ``|stored / scale - value|`` over all quantised values (source units).
        bound: ``0.5 / scale``; ``max_abs_error <= bound`` unless values were clipped.
        clipped: values outside the representable range (clipped to it).
        ignored: values equal to the ``data ignore value`` (mapped to the ignore code).
    """

    target: str
    scale: float
    max_abs_error: float
    bound: float
    clipped: int
    ignored: int

    def note(self) -> str:
        """Return the sentence for the dataset notes."""
        text = (f"quantised float to {self.target}: reflectance scale factor x{self.scale!r}, "
                f"max abs error {self.max_abs_error:.6g} (bound {self.bound:.6g})")
        if self.clipped:
            text += f"; {self.clipped} values clipped"
        if self.ignored:
            text += f"; {self.ignored} ignore values mapped"
        return text


def legacy_table() -> dict[str, Any]:
    """Return the mapping table ``converters/legacy.toml``."""
    return mapping_table("legacy")


class LegacyConverter(ConverterBase):
    """VEsolve / imanto pro processed float32 ENVI export folder (read only)."""

    name: ClassVar[str] = "legacy"
    description: ClassVar[str] = "VEsolve / imanto pro float32 ENVI export folder (side files kept; quantize=int16)"
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    suffixes: ClassVar[tuple[str, ...]] = ()
    writes: ClassVar[bool] = False
    read_options: ClassVar[Mapping[str, OptionSpec]] = {
        "quantize": OptionSpec(help="store the float cube as integers with a reflectance scale factor",
                               parse=optional(str), choices=tuple(legacy_table()["quantize"])),
    }

    def can_read(self, source: Path) -> bool:
        """Return whether ``source`` is a folder holding exactly one float32 ENVI pair at its top level."""
        return source.is_dir() and not source.is_symlink() and _folder_pair(source) is not None

    def source_files(self, source: Path) -> list[Path]:
        """Return every file :meth:`read` reads for ``source``."""
        pair, side = _locate(source)
        return [pair.data, *side.values()]

    def read(self, source: Path, options: Mapping[str, Any] = NO_OPTIONS) -> HsiDataset:
        """Import a legacy export: verbatim float data (or quantised), every side file under ``Metadata/legacy/``.

        Options (:attr:`read_options`):
            quantize: None (default: verbatim float), ``int16`` or ``uint16``.

        Raises:
            InputUnreadableError: no (single) float ENVI pair, or an unreadable pair.
            ConfigError: an unknown ``quantize`` target.
            QuantizationError: the data cannot be quantised (non-finite values).
        """
        quantize = self.parsed_read_options(options)["quantize"]
        pair, side = _locate(source)
        dataset = read_pair(pair, original_member=None)
        folder = legacy_table()["files"]["side_file_folder"]
        for rel, path in side.items():
            dataset.members[f"{folder}/{rel}"] = Blob(path, 0, path.stat().st_size)
        dataset.notes.append(f"{len(side)} source files kept under {folder}/ (original header included)")
        if quantize:
            dataset.notes.append(quantize_dataset(dataset, quantize).note())
        return dataset

    def write(self, dataset: HsiDataset, dest: Path, options: Mapping[str, Any] = NO_OPTIONS) -> Path:
        """Refuse: legacy exports are read only.

        Raises:
            ConfigError: always.
        """
        raise ConfigError("the legacy converter only reads; write with --to envi or --to hsi")


def _folder_pair(folder: Path) -> EnviFiles | None:
    suffix = envi_table()["files"]["header_suffix"]
    pairs = []
    with contextlib.suppress(OSError):
        for entry in sorted(folder.iterdir()):
            if entry.name.lower().endswith(suffix) and not entry.is_symlink():
                pair = find_pair(entry)
                if pair is not None:
                    pairs.append(pair)
    if len(pairs) != 1 or pairs[0].sidecar is not None:
        return None
    try:
        header = parse_header(read_header_file(pairs[0].header))
        data_type = header.value("data type")
    except (HsiConformError, ValueError, OSError):
        return None
    return pairs[0] if data_type is not None and int(data_type) in legacy_table()["detect"]["data_types"] else None


def _locate(source: Path) -> tuple[EnviFiles, dict[str, Path]]:
    """Return the pair and the side files (relative path → file) of a folder or a header/data file."""
    if source.is_dir():
        pair = _folder_pair(source)
        if pair is None:
            raise InputUnreadableError(str(source), "the folder does not hold exactly one float ENVI pair")
        side = {rel: p for rel, p in walk_files(source) if p != pair.data}
        return pair, side
    pair = find_pair(source)
    if pair is None:
        raise InputUnreadableError(str(source), "not an ENVI header or data file with its partner file")
    base = pair.header.name[: -len(envi_table()["files"]["header_suffix"])].lower()
    stem = base.rsplit(".", 1)[0] if Path(base).suffix.lower() in envi_table()["files"]["data_extensions"] else base
    side = {p.name: p for p in sorted(pair.header.parent.iterdir())
            if p.is_file() and not p.is_symlink() and p != pair.data and p.name.lower().startswith(stem + ".")}
    return pair, side


# -- quantisation -------------------------------------------------------------------------------------------

def quantize_dataset(dataset: HsiDataset, target: str) -> Quantization:
    """Replace the dataset's float cube by an integer one (see the module docstring) and update ``data.hdr``.

    Raises:
        ConfigError: ``target`` is not in the table.
        QuantizationError: the cube is not floating point or holds undeclared NaN/infinities.
    """
    specs = legacy_table()["quantize"]
    if target not in specs:
        raise ConfigError(f"quantize must be one of {', '.join(specs)} (got {target!r})")
    spec = specs[target]
    cube = dataset.cube
    if cube.dtype.kind != "f":
        raise QuantizationError(f"the cube is {cube.dtype}, not floating point")
    ignore = _ignore_value(dataset.header)
    lo, hi = _value_range(cube, ignore)
    scale = choose_scale(lo, hi, int(spec["low"]), int(spec["high"]))
    out, result = _convert(cube, spec, target, scale, ignore)
    _update_header(dataset.header, spec, scale, ignore is not None)
    dataset.cube, dataset.cube_raw = out, None
    return result


def choose_scale(lo: float, hi: float, low: int, high: int) -> float:
    """Return the largest 4-significant-digit scale mapping ``[lo, hi]`` into ``[low, high]`` (clipping aside)."""
    reach = max(hi if high > 0 else 0.0, 0.0)
    if low < 0:
        reach = max(reach, -lo)
    if reach <= 0 or not math.isfinite(reach):
        return 1.0
    exact = min(high, -low if low < 0 else high) / reach
    digits = 3 - math.floor(math.log10(exact))
    scale = math.floor(exact * 10**digits) / 10**digits
    return float(f"{scale:.4g}") if scale > 0 else exact


def _ignore_value(header: Header) -> float | None:
    value = header.value("data ignore value")
    return None if value is None else float(value)


def _slabs(cube: np.ndarray[Any, Any]) -> Iterator[slice]:
    """Yield slices along the first storage axis, each about half a write slab of float32 source data."""
    row = max(1, cube.nbytes // max(cube.shape[0], 1))
    step = max(1, SLAB_BYTES // (2 * row))
    for start in range(0, cube.shape[0], step):
        yield slice(start, start + step)


def _ignored(slab: np.ndarray[Any, Any], ignore: float | None) -> np.ndarray[Any, Any]:
    if ignore is None:
        return np.zeros(slab.shape, dtype=bool)
    mask: np.ndarray[Any, Any] = np.isnan(slab) if math.isnan(ignore) else slab == ignore
    return mask


def _value_range(cube: np.ndarray[Any, Any], ignore: float | None) -> tuple[float, float]:
    lo, hi, bad = math.inf, -math.inf, 0
    for part in _slabs(cube):
        slab = read_block(cube[part]).astype(np.float64, copy=False)
        keep = ~_ignored(slab, ignore)
        finite = np.isfinite(slab)
        bad += int(np.count_nonzero(keep & ~finite))
        values = slab[keep & finite]
        if values.size:
            lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
    if bad:
        raise QuantizationError("the cube holds NaN or infinite values and no NaN 'data ignore value'", bad)
    return (0.0, 0.0) if lo > hi else (lo, hi)


def _convert(cube: np.ndarray[Any, Any], spec: dict[str, Any], target: str, scale: float,
             ignore: float | None) -> tuple[np.ndarray[Any, Any], Quantization]:
    fd, name = tempfile.mkstemp(prefix="hsi-legacy-", suffix=".envi")
    os.close(fd)
    try:
        out = np.memmap(name, dtype=np.dtype(spec["dtype"]), mode="w+", shape=cube.shape)
        worst, clipped, ignored = 0.0, 0, 0
        for part in _slabs(cube):
            slab = read_block(cube[part]).astype(np.float64, copy=False)
            skip = _ignored(slab, ignore)
            q = np.rint(slab * scale)
            clipped += int(np.count_nonzero(~skip & ((q < spec["low"]) | (q > spec["high"]))))
            q = np.clip(np.where(skip, 0.0, q), spec["low"], spec["high"])
            if np.any(~skip):
                worst = max(worst, float(np.max(np.abs(q / scale - slab)[~skip])))
            q[skip] = spec["ignore"]
            ignored += int(np.count_nonzero(skip))
            out[part] = q.astype(out.dtype)
        out.flush()
        del out
        mapped = np.memmap(name, dtype=np.dtype(spec["dtype"]), mode="r", shape=cube.shape)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)  # the mapping stays valid (POSIX); elsewhere the temp folder keeps it
    return mapped, Quantization(target=target, scale=scale, max_abs_error=worst, bound=0.5 / scale,
                                clipped=clipped, ignored=ignored)


def _update_header(header: Header, spec: dict[str, Any], scale: float, has_ignore: bool) -> None:
    factor = header.value("reflectance scale factor")
    header.set("data type", int(spec["data_type"]))
    header.set("byte order", 0)
    header.set("header offset", 0)
    header.set("reflectance scale factor", scale * (float(factor) if factor else 1.0))
    if has_ignore:
        header.set("data ignore value", int(spec["ignore"]))
