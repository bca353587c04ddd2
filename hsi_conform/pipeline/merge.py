"""``merge:{ID:x:y, ...}``: place other cubes beside or over the cube (spec/procedures.md#merge).

An ID names a data member of the same container (``Exploration/tile.envi``, with its ``.hdr`` beside it) or, when
no member has that name, a container (``.hsi`` file or expanded folder) relative to the folder holding this one;
it never leaves that folder (no absolute path, no ``..``, no link pointing out). The canvas covers the cube and
every placed cube; the cube is painted first, then each ID in list order, so a later cube covers an earlier one
where they overlap; pixels no cube covers hold the fill value (``data ignore value`` when the header has one that
the data type can hold, else 0).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform._signals import checkpoint
from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container
from hsi_conform.errors import InputUnreadableError
from hsi_conform.header.procedures import MergeSource
from hsi_conform.pipeline.findings import inapplicable
from hsi_conform.pipeline.output import local_array
from hsi_conform.pipeline.stages import ArrayStage, Block, Span, Stage, member_cube
from hsi_conform.rules.fields_refs import link_problem

__all__ = ["Layer", "MergeStage", "OpenedSource", "fill_value", "open_source"]


@dataclass(frozen=True, slots=True)
class OpenedSource:
    """A cube to merge, opened: its stage and the container to close when done (None for a member)."""

    stage: Stage
    opened: Container | None


@dataclass(frozen=True, slots=True)
class Layer:
    """A cube painted on the canvas with its top-left corner at ``(top, left)``."""

    stage: Stage
    top: int
    left: int


def open_source(container: Container, source: MergeSource) -> OpenedSource:
    """Open the cube an ID names (see the module docstring) as a (lines, samples, bands) stage.

    Raises:
        InapplicableProcedureError: the ID leaves the folder (rule FLD023) or names nothing (FLD024).
        ContainerError, InputUnreadableError: the cube it names cannot be read.
    """
    if source.id in container:
        return OpenedSource(ArrayStage(member_cube(container, source.id)), None)
    other = open_container(_sibling(container, source.id))
    try:
        return OpenedSource(ArrayStage(local_array(other.bip(), "merging a cube")), other)
    except BaseException:
        other.close()
        raise


def _sibling(container: Container, ident: str) -> Path:
    """Return the container an ID names beside ``container``, refusing every way out of its folder."""
    problem = link_problem("read procedures", ident)
    if problem is not None:
        raise inapplicable(f"merge ID {ident!r} {problem}: it must stay inside the container's folder", "FLD023")
    folder = container.path.resolve().parent
    path = folder / ident
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of links
        raise inapplicable(f"merge ID {ident!r} cannot be resolved: {exc}", "FLD023") from exc
    if not resolved.is_relative_to(folder) or resolved == folder:
        raise inapplicable(f"merge ID {ident!r} leads outside the container's folder", "FLD023")
    if not os.path.lexists(path):
        raise inapplicable(f"merge ID {ident!r} is neither a member nor a container beside it", "FLD024")
    if not resolved.exists():
        raise InputUnreadableError(str(path), "a broken link")
    return path


def fill_value(dtype: np.dtype[Any], ignore: object) -> Any:
    """Return the value of uncovered canvas pixels: ``ignore`` when ``dtype`` holds it exactly, else 0."""
    if isinstance(ignore, int | float) and not isinstance(ignore, bool):
        with np.errstate(all="ignore"):  # a value the type cannot hold is simply not used
            value = np.array(ignore).astype(dtype)
        if value == ignore or (np.isnan(ignore) and np.isnan(value)):
            return value[()]
    return dtype.type(0)


@dataclass(frozen=True, slots=True)
class MergeStage:
    """The canvas of :mod:`merge <hsi_conform.pipeline.merge>`: layers painted in order over the fill value."""

    layers: tuple[Layer, ...]
    shape: tuple[int, int, int]
    dtype: np.dtype[Any]
    fill: Any

    @classmethod
    def build(cls, base: Stage, placed: Sequence[tuple[Stage, int, int]], fill: Any) -> MergeStage:
        """Return the canvas of ``base`` and the ``(stage, x, y)`` placed relative to its top-left corner."""
        lines, samples, bands = base.shape
        top = min(0, *(y for _, _, y in placed))
        left = min(0, *(x for _, x, _ in placed))
        bottom = max(lines, *(y + s.shape[0] for s, _, y in placed))
        right = max(samples, *(x + s.shape[1] for s, x, _ in placed))
        layers = (Layer(base, -top, -left), *(Layer(s, y - top, x - left) for s, x, y in placed))
        return cls(layers, (bottom - top, right - left, bands), base.dtype, fill)

    @property
    def origin(self) -> tuple[int, int]:
        """Where the cube's top-left pixel lies on the canvas: ``(line, sample)``."""
        return self.layers[0].top, self.layers[0].left

    @property
    def covers_all(self) -> bool:
        """Whether the layers cover every pixel of the canvas (no fill value is written)."""
        # The layers' edges cut the canvas into cells that are wholly covered or not: one test per cell, so the
        # cost does not grow with the canvas.
        rects = [(la.top, la.top + la.stage.shape[0], la.left, la.left + la.stage.shape[1]) for la in self.layers]
        rows = sorted({0, self.shape[0], *(r[0] for r in rects), *(r[1] for r in rects)})
        cols = sorted({0, self.shape[1], *(r[2] for r in rects), *(r[3] for r in rects)})
        return all(any(t <= y < b and lo <= x < hi for t, b, lo, hi in rects)
                   for y in rows[:-1] for x in cols[:-1])

    def read(self, lines: Span, samples: Span, bands: Span) -> Block:
        """Paint the part of each layer that falls in the block, in order."""
        out = np.full((lines[1] - lines[0], samples[1] - samples[0], bands[1] - bands[0]), self.fill, self.dtype)
        for layer in self.layers:
            checkpoint()
            rows = _overlap(lines, layer.top, layer.stage.shape[0])
            cols = _overlap(samples, layer.left, layer.stage.shape[1])
            if rows is None or cols is None:
                continue
            block = layer.stage.read((rows[0] - layer.top, rows[1] - layer.top),
                                     (cols[0] - layer.left, cols[1] - layer.left), bands)
            out[rows[0] - lines[0]:rows[1] - lines[0], cols[0] - samples[0]:cols[1] - samples[0]] = block
        return out


def _overlap(span: Span, start: int, size: int) -> Span | None:
    low, high = max(span[0], start), min(span[1], start + size)
    return (low, high) if low < high else None
