"""hsi-conform: reference toolkit for the HyperImage ``.hsi`` hyperspectral container.

The public API::

    header = hsi_conform.parse_header(data)      # lossless header model + syntax diagnostics
"""

from __future__ import annotations

from hsi_conform.header import Header, parse_header

__version__ = "0.1.0"

__all__ = ["Header", "__version__", "parse_header"]
