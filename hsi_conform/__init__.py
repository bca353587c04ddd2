"""hsi-conform: reference toolkit for the HyperImage ``.hsi`` hyperspectral container."""

from __future__ import annotations

__version__ = "0.1.0"
