"""Converter plugins: discovered lazily through the ``hsi_conform.converters`` entry-point group.

Built-in converters register through the same group as third-party ones (see pyproject.toml), so a plugin
package only needs an entry point to appear in ``hsi-conform formats`` and ``hsi-conform convert``.
"""

from __future__ import annotations

from hsi_conform.converters.base import Converter, HsiDataset
from hsi_conform.converters.registry import (
    GROUP,
    Registered,
    convert,
    detect,
    format_for,
    get_converter,
    missing_requirements,
    registered,
)

__all__ = ["GROUP", "Converter", "HsiDataset", "Registered", "convert", "detect", "format_for", "get_converter",
           "missing_requirements", "registered"]
