"""CRC-32, the ZIP checksum, at the machine's speed (spec/container.md#copies).

``zlib.crc32`` of CPython's bundled zlib runs at 0.5-2.5 GB/s; ISA-L's (the ``isal`` package, extra
``hsi-conform[fast-crc]``) computes the same value with carry-less multiplication at several times that. The CRC
tier of ``validate``, every conversion of a container (its source is checked first) and every container writer
compute one over every byte, so the faster one is used when it is installed; without it nothing changes but the
speed. Both release the GIL, so a worker thread can overlap the CRC with a copy.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

__all__ = ["IMPLEMENTATION", "crc32"]


def _best() -> tuple[Callable[[Any, int], int], str]:
    try:
        from isal.isal_zlib import crc32 as isal_crc32
    except ImportError:  # the extra is not installed: zlib's, same values
        return zlib.crc32, "zlib"
    return isal_crc32, "isal"


#: ``crc32(data, value)``: the CRC-32 of a bytes-like object, continuing from ``value`` (0 to start).
#: IMPLEMENTATION: which one it is, ``"isal"`` or ``"zlib"``.
crc32, IMPLEMENTATION = _best()
