"""How a reference of ``Reference/`` applies to the cube (spec/calibration.md#references).

A reference with the cube's lines is applied pixel by pixel (snapshot sensors record one reference image); any
other line count is a push-broom reference, reduced to the mean over its lines for each (sample, band) and
broadcast over the cube's lines (often one line, or a few to be averaged). The calibration and the ``DAT004``
rule reduce references with these functions, so both judge the same white and dark.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hsi_conform.container.source import read_block

__all__ = ["MEAN_BLOCK_BYTES", "is_per_pixel", "line_mean", "reduced"]

#: Bytes of a reference read at once while it is averaged.
MEAN_BLOCK_BYTES = 8 << 20

Array = np.ndarray[Any, Any]


def is_per_pixel(reference_lines: int, cube_lines: int | None) -> bool:
    """Return whether a reference of ``reference_lines`` lines applies pixel by pixel to a cube of ``cube_lines``.

    Args:
        reference_lines: The reference's ``lines``.
        cube_lines: The cube's ``lines`` (None when unknown: every reference is then a push-broom one).
    """
    return cube_lines is not None and reference_lines == cube_lines


def line_mean(image: Array) -> Array:
    """Return the mean over the lines of a (lines, samples, bands) array, as float64 of shape (1, samples, bands).

    The array is read a block of lines at a time (a memmap stays lazy), so memory does not grow with its lines.
    """
    lines, samples, bands = image.shape
    total = np.zeros((1, samples, bands), dtype=np.float64)
    step = max(1, MEAN_BLOCK_BYTES // max(samples * bands * 8, 1))
    for start in range(0, lines, step):
        total += read_block(image[start : start + step]).sum(axis=0, dtype=np.float64, keepdims=True)
    total /= lines
    return total


def reduced(image: Array, cube_lines: int | None) -> Array:
    """Return what a (lines, samples, bands) reference applies: itself when per pixel, else its :func:`line_mean`."""
    return image if is_per_pixel(image.shape[0], cube_lines) else line_mean(image)
