"""kerchunk references of ``.hsi`` containers: their images as zarr arrays over byte ranges (spec/refs.md).

``write_references`` (``hsi-conform refs SRC -o refs.json``) and ``combine_references`` (``refs --combine``) write
reference sets that ``xr.open_dataset("reference://", engine="zarr", ...)``, kerchunk and VirtualiZarr read
without hsi-conform. Needs the ``[refs]`` extra (kerchunk, zarr, xarray).
"""

from __future__ import annotations

from hsi_conform.refs.build import References, container_references, references, write_references
from hsi_conform.refs.combine import combine_references
from hsi_conform.refs.zarr_v2 import chunk_shape

__all__ = ["References", "chunk_shape", "combine_references", "container_references", "references",
           "write_references"]
