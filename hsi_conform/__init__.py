"""hsi-conform: reference toolkit for the HyperImage ``.hsi`` hyperspectral container.

The public API::

    header = hsi_conform.parse_header(data)      # lossless header model + syntax diagnostics
    with hsi_conform.open("x.hsi") as c:         # strict ZIP reader, zero-copy cube memmap
        c.cube, c.header.value("wavelength")
    report = hsi_conform.check("x.hsi")          # graded findings (never raises for content problems)
    with hsi_conform.open("s3://bucket/x.hsi") as c:   # any fsspec URL: ranged reads, a lazy cube (spec/remote.md)
        c.read_band(0)
"""

from __future__ import annotations

from hsi_conform._version import __version__
from hsi_conform.container.interop import to_spectral
from hsi_conform.container.reader import Container, CubeLayout
from hsi_conform.container.reader import open_container as open
from hsi_conform.container.write import write_container
from hsi_conform.header import Header, parse_header
from hsi_conform.validate import check, validate

__all__ = ["Container", "CubeLayout", "Header", "__version__", "check", "open", "parse_header", "to_spectral",
           "validate", "write_container"]
