"""Micro-services of a test-only distribution (``hsi_test_services-0.1.dist-info`` beside this file).

Tests put this folder on ``sys.path``; ``importlib.metadata`` then finds the entry points of the dist-info, exactly
as it finds those of an installed distribution.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hsi_conform.container.reader import Container

NOT_CALLABLE = 42
CALLS: list[tuple[str, tuple[int, ...]]] = []


def double(container: Container, data: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Return twice the data, in its type (the shape is kept)."""
    CALLS.append((str(container.path), data.shape))
    return (data * 2).astype(data.dtype)


def first_band(container: Container, data: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], dict[str, object]]:
    """Return the first band only, and one line fewer (the size changes), with the band's wavelength."""
    return np.ascontiguousarray(data[1:, :, :1]), {"wavelength": [container.header.value("wavelength")[0]]}


def fails(container: Container, data: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Fail as a buggy service does."""
    raise RuntimeError("the service broke")


def not_a_cube(container: Container, data: np.ndarray[Any, Any]) -> object:
    """Return something that is no cube."""
    return [1, 2, 3]
