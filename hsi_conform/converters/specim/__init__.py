"""SPECIM IQ / Lumo capture folders: the converter and its folder, header, reference, table and export parts."""

from __future__ import annotations

from hsi_conform.converters.specim.converter import SpecimConverter

__all__ = ["SpecimConverter"]
