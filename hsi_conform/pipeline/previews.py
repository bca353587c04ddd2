"""Previews and levels of detail: block means (or modes) of the cube, written beside it (spec/previews.md#previews).

D4.1 §2.2 stores ``preview.envi`` and ``preview_<lod>.envi`` (with their headers) "to make large files viewable".
hsi-conform computes level ``f`` as the mean over ``f`` x ``f`` pixels of every band (the mode for classification
and mask data), names it ``preview_<f>``, and writes ``preview`` as the coarsest level: longest side at most 256
pixels, and no finer than any ``preview_<f>``. Every level keeps the cube's data type, byte order and interleave,
and its header carries the layout plus the spectral fields of the bands it holds.

Each level is a :class:`~hsi_conform.container.write.ComputedCube` computed from the full-resolution cube while it
is written (:mod:`._blocks`), so memory does not grow with the cube and no level inherits another's rounding.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container
from hsi_conform.container.thumbnail import MAX_SIDE, display_bands, image_view, wavelengths_nm
from hsi_conform.container.write import ComputedCube, cube_header_fields, interleave_of
from hsi_conform.errors import DatasetError, HsiConformError, InvalidArgumentError
from hsi_conform.fields import Interleave
from hsi_conform.header import Header, build_header_text
from hsi_conform.members import MemberKind, classify_member, envi_names, preview_stem
from hsi_conform.pipeline._blocks import Kind, check_dtype, check_factor, check_kind, reduce_lines, reduced_size
from hsi_conform.pipeline.output import Content, local_array, publish

__all__ = ["DEFAULT_LODS", "RGB", "BandChoice", "Kind", "block_reduce", "coarsest_factor", "level_plan",
           "preview_levels", "write_previews"]

Array = np.ndarray[Any, Any]

#: The factors written by default as ``preview_2``, ``preview_4`` and ``preview_8``.
DEFAULT_LODS: tuple[int, ...] = (2, 4, 8)
#: The band choice that keeps the thumbnail's display bands (spec/previews.md#thumbnail-bands).
RGB = "rgb"
BandChoice = Sequence[int] | str | None
"""Bands of the previews: None for all, 1-based band numbers, or ``"rgb"``."""
#: Spectral fields carried from ``data.hdr`` into each preview header, in this order (per-band ones subset).
_CARRIED = ("wavelength units", "wavelength", "fwhm")
_PER_BAND = frozenset({"wavelength", "fwhm"})


def coarsest_factor(lines: int, samples: int, lods: Iterable[int] = ()) -> int:
    """Return the factor of ``preview``, the coarsest level (spec/previews.md#levels).

    It is the smallest factor that brings the longest side to at most 256 pixels, or the largest of ``lods``
    when that is coarser, so that every ``preview_<f>`` has at least the detail of ``preview``.

    Raises:
        InvalidArgumentError: a factor that is not an integer >= 1.
    """
    fits = math.ceil(max(lines, samples) / MAX_SIDE)
    return max(1, fits, *(check_factor(f) for f in lods))


def level_plan(lines: int, samples: int, lods: Iterable[int] = DEFAULT_LODS) -> tuple[tuple[str, int], ...]:
    """Return the levels to write as ``(lod identifier, factor)``: ``("", coarsest)`` then each factor ascending.

    The identifier is the factor in decimal (``preview_4``); ``preview`` (identifier ``""``) is always written,
    also when its factor is one of ``lods`` (spec/previews.md#names).

    Raises:
        InvalidArgumentError: a factor that is not an integer >= 1.
    """
    factors = sorted({check_factor(f) for f in lods})
    return (("", coarsest_factor(lines, samples, factors)), *((str(f), f) for f in factors))


def block_reduce(array: Array, factor: int, *, interleave: Interleave | str = Interleave.BSQ,
                 kind: Kind = "mean", ignore: float | None = None) -> Array:
    """Return a cube reduced over ``factor`` x ``factor`` pixels, in the same storage order and dtype.

    Args:
        array: the cube in the storage order of ``interleave`` (a memmap is read in line slabs).
        factor: the block side in pixels; partial blocks at the right and bottom edges are reduced over the
            pixels they have (spec/previews.md#edges).
        interleave: the storage order of ``array`` (and of the result).
        kind: ``"mean"`` (integers rounded half away from zero, NaN ignored) or ``"mode"`` (the most frequent
            value; ties: the smallest).
        ignore: the ``data ignore value``: left out of every block; a block of nothing else is that value
            (spec/previews.md#ignore).

    Raises:
        DatasetError: ``array`` is not a 3-D array of numbers (complex: mean only).
        InvalidArgumentError: a factor below 1, an unknown kind or interleave.
    """
    il = interleave_of(interleave)
    cube = _level_cube(_image(array, il, check_kind(kind)), check_factor(factor), None, il, kind, ignore)
    return cube.rows(0, cube.shape[0])


def preview_levels(array: Array, lods: Iterable[int] = DEFAULT_LODS, *,
                   interleave: Interleave | str = Interleave.BSQ, kind: Kind = "mean",
                   ignore: float | None = None) -> dict[str, Array]:
    """Return every preview level of a cube, keyed as ``write_container(previews=...)`` takes them.

    Args:
        array: the cube in the storage order of ``interleave``.
        lods: the factors of the ``preview_<f>`` levels.
        interleave: the storage order of ``array`` and of the levels.
        kind: ``"mean"`` or ``"mode"`` (see :func:`block_reduce`).
        ignore: the ``data ignore value`` (see :func:`block_reduce`).

    Returns:
        ``{"": coarsest, "2": level 2, ...}``: ``""`` is ``preview``, the coarsest level.

    Raises:
        DatasetError, InvalidArgumentError: as :func:`block_reduce`.
    """
    il = interleave_of(interleave)
    image = _image(array, il, check_kind(kind))
    done: dict[int, Array] = {}
    out: dict[str, Array] = {}
    for lod, factor in level_plan(image.shape[0], image.shape[1], lods):
        if factor not in done:
            cube = _level_cube(image, factor, None, il, kind, ignore)
            done[factor] = cube.rows(0, cube.shape[0])
        out[lod] = done[factor] if lod == "" else done[factor].copy()
    return out


def write_previews(source: Container | str | os.PathLike[str], dest: str | os.PathLike[str], *,
                   lods: Iterable[int] = DEFAULT_LODS, bands: BandChoice = None, kind: Kind = "mean") -> Path:
    """Write ``dest``: the container ``source`` with its previews computed again (spec/previews.md#previews).

    Every ``preview*`` member of the source is replaced by the levels written; every other member is copied byte
    for byte (the thumbnail is rendered when the source has none).

    Args:
        source: an open container, or the path of one.
        dest: the new ``.hsi`` file (never the source).
        lods: the factors of the ``preview_<f>`` levels (``preview`` is always written).
        bands: None for every band, 1-based band numbers (``default bands`` numbering), or ``"rgb"`` for the
            thumbnail's display bands; the previews hold them in the cube's band order.
        kind: ``"mean"`` for measurements, ``"mode"`` for classification or mask data.

    Returns:
        The destination path.

    Raises:
        InvalidArgumentError: a factor below 1, a band out of range, an unknown ``bands`` or ``kind``.
        DatasetError: the cube's type has no reduction (complex data with the mode).
        OutputIsInputError, NoSpaceError, InUseError, OutputUnwritableError: as
            :func:`hsi_conform.pipeline.output.publish`.
    """
    if isinstance(source, Container):
        return _write(source, dest, lods, bands, check_kind(kind))
    with open_container(source) as container:
        return _write(container, dest, lods, bands, check_kind(kind))


@dataclass(frozen=True, slots=True)
class _Bands:
    """The bands of the previews (0-based, ascending) and their ``default bands`` (1-based, or None)."""

    chosen: tuple[int, ...]
    default: tuple[int, ...] | None


def _write(source: Container, dest: str | os.PathLike[str], lods: Iterable[int], bands: BandChoice,
           kind: Kind) -> Path:
    layout = source.layout
    plan = level_plan(layout.lines, layout.samples, lods)
    selection = _select_bands(source.header, layout.bands, bands)
    image = _image(local_array(source.cube, "writing previews"), layout.interleave, kind)
    fields = _preview_fields(source.header, layout.bands, selection)
    ignore = _ignore_value(source.header)
    if ignore is not None:
        fields["data ignore value"] = source.header.value("data ignore value")
    add: dict[str, Content] = {}
    for lod, factor in plan:
        cube = _level_cube(image, factor, selection.chosen, layout.interleave, kind, ignore)
        header_name, data_name = envi_names(preview_stem(lod))
        text = build_header_text(cube_header_fields(cube, layout.interleave, fields))
        add[header_name] = text.encode("utf-8")
        add[data_name] = cube
    stale = [name for name in source.names if name not in add and _is_preview(name)]
    return publish(source, dest, add=add, drop=stale)


def _ignore_value(header: Header) -> float | None:
    """Return the header's ``data ignore value`` (None when absent or invalid: then nothing is left out)."""
    try:
        value = header.value("data ignore value")
    except HsiConformError:
        return None
    return None if value is None else float(value)


def _is_preview(name: str) -> bool:
    return classify_member(name).kind in (MemberKind.PREVIEW_HEADER, MemberKind.PREVIEW_DATA)


def _image(array: Array, interleave: Interleave, kind: Kind) -> Array:
    if array.ndim != 3:
        raise DatasetError(f"a cube has 3 dimensions, this array has {array.ndim}")
    check_dtype(array.dtype, kind)
    return image_view(array, interleave)


def _level_cube(image: Array, factor: int, bands: Sequence[int] | None, interleave: Interleave,
                kind: Kind, ignore: float | None = None) -> ComputedCube:
    """Return one level as a cube computed slab by slab in ``interleave``'s storage order."""
    lines, samples, count = image.shape
    chosen = tuple(range(count)) if bands is None else tuple(bands)
    out_lines = reduced_size(lines, factor)
    shape = interleave.shape(out_lines, reduced_size(samples, factor), len(chosen))

    def compute(start: int, stop: int) -> Array:
        if interleave is Interleave.BSQ:  # rows are bands: every line of a few bands
            return reduce_lines(image, factor, 0, out_lines, chosen[start:stop], kind, ignore).transpose(2, 0, 1)
        block = reduce_lines(image, factor, start, stop, chosen, kind, ignore)
        return block.transpose(0, 2, 1) if interleave is Interleave.BIL else block

    return ComputedCube(shape, image.dtype, compute)


def _select_bands(header: Header, count: int, bands: BandChoice) -> _Bands:
    """Resolve the ``bands`` argument against the cube (spec/previews.md#bands).

    Raises:
        InvalidArgumentError: an unknown word, a band number out of 1..count, or no band at all.
    """
    default = _default_bands(header, count)
    if bands is None:
        return _Bands(tuple(range(count)), default)
    if isinstance(bands, str):
        if bands.strip().lower() != RGB:
            raise InvalidArgumentError(f"bands must be band numbers or {RGB!r}, not {bands!r}")
        shown = display_bands(count, default_bands=default, wavelengths=wavelengths_nm(header, count))
        chosen = tuple(sorted(set(shown)))
        return _Bands(chosen, tuple(chosen.index(b) + 1 for b in shown))
    numbers = list(bands)
    bad = [b for b in numbers if isinstance(b, bool) or not isinstance(b, int | np.integer) or not 1 <= b <= count]
    if bad or not numbers:
        raise InvalidArgumentError(f"bands are 1-based band numbers in 1..{count}; got {bad or 'none'}")
    chosen = tuple(sorted({int(b) - 1 for b in numbers}))
    kept = default is not None and all(b - 1 in chosen for b in default)
    return _Bands(chosen, tuple(chosen.index(b - 1) + 1 for b in default) if kept and default else None)


def _default_bands(header: Header, count: int) -> tuple[int, ...] | None:
    """Return the header's valid ``default bands`` (1-based), or None."""
    try:
        value = header.value("default bands")
    except HsiConformError:
        return None
    if not isinstance(value, list | tuple) or len(value) not in (1, 3):
        return None
    numbers = tuple(int(b) for b in value)
    return numbers if all(1 <= b <= count for b in numbers) else None


def _preview_fields(header: Header, count: int, selection: _Bands) -> dict[str, object]:
    """Return the fields of a preview header beyond its layout (spec/previews.md#preview-headers).

    Per-band lists are subset item by item, their text kept as written in ``data.hdr``; a field the cube's
    header lacks, or whose value is invalid, is left out.
    """
    fields: dict[str, object] = {}
    for key in _CARRIED:
        entry = header.get(key)
        if entry is None or not _valid(header, key):
            continue
        if key in _PER_BAND:
            if entry.items is None or not entry.closed or len(entry.items) != count:
                continue
            fields[key] = [entry.items[b] for b in selection.chosen]
        elif entry.items is None:
            fields[key] = entry.value_raw
    if selection.default is not None:
        fields["default bands"] = list(selection.default)
    return fields


def _valid(header: Header, key: str) -> bool:
    try:
        return header.value(key) is not None
    except HsiConformError:
        return False
