"""The read pipeline: what a container means, computed at read time (spec/pipeline.md).

D4.1 stores raw data with its references and asks readers to re-enact the processing: calibration to reflectance,
the header's ``read procedures``, previews (levels of detail) and the thumbnail. Every stage streams in line
slabs, so memory does not grow with the cube; results are written as new containers through :mod:`.output`.
"""

from __future__ import annotations
