"""Converter plugins: discovered lazily through the ``hsi_conform.converters`` entry-point group.

Built-in converters register through the same group as third-party ones (see pyproject.toml), so a plugin
package only needs an entry point to appear in ``hsi-conform formats`` and ``hsi-conform convert``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hsi_conform.converters.base import Converter, ConverterBase, HsiDataset, OptionSpec
from hsi_conform.converters.registry import (
    GROUP,
    Conversion,
    Registered,
    convert,
    detect,
    format_for,
    get_converter,
    missing_requirements,
    registered,
    run_conversion,
    split_options,
)
from hsi_conform.errors import UnknownOptionError

__all__ = ["GROUP", "Conversion", "Converter", "ConverterBase", "HsiDataset", "OptionSpec", "Registered",
           "UnknownOptionError", "convert", "detect", "format_for", "get_converter", "missing_requirements",
           "registered", "run_conversion", "split_options"]

if TYPE_CHECKING:  # mypy proves that every built-in satisfies the protocol; the registry checks plugins at load
    from hsi_conform.converters.envi import EnviConverter
    from hsi_conform.converters.hdf5 import Hdf5Converter
    from hsi_conform.converters.hsi import HsiConverter
    from hsi_conform.converters.legacy import LegacyConverter
    from hsi_conform.converters.specim import SpecimConverter
    from hsi_conform.converters.tiff import TiffConverter

    _BUILTINS: tuple[type[Converter], ...] = (EnviConverter, Hdf5Converter, HsiConverter, LegacyConverter,
                                             SpecimConverter, TiffConverter)
