"""CRC-32 arithmetic without the bytes: the CRC of a concatenation, and of a run of zero bytes.

zipcraft derives the CRC of a member whose payload ends in a hole of gigabytes (``Entry.sparse``) and of the
nested members of a quoted-overlap bomb from these, in O(log n) rather than by reading n bytes. Only the
standard library is used, like the rest of :mod:`hsi_conform.testing.zipcraft`, which exports both functions.
"""

from __future__ import annotations

__all__ = ["crc32_combine", "crc32_zeros"]

_CRC_POLY = 0xEDB88320


def _gf2_times(matrix: list[int], vector: int) -> int:
    total = 0
    row = 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, row) for row in matrix]


def _shift_zeros(register: int, nbytes: int) -> int:
    # zlib's crc32_combine trick: feeding zero bytes is a linear map, applied by repeated squaring.
    odd = [_CRC_POLY] + [1 << k for k in range(31)]  # one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while nbytes:
        even = _gf2_square(odd)
        if nbytes & 1:
            register = _gf2_times(even, register)
        nbytes >>= 1
        if not nbytes:
            break
        odd = _gf2_square(even)
        if nbytes & 1:
            register = _gf2_times(odd, register)
        nbytes >>= 1
    return register


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """Return ``crc32(a + b)`` from ``crc32(a)``, ``crc32(b)`` and ``len(b)`` in O(log len(b)).

    Args:
        crc1: CRC-32 of the first part.
        crc2: CRC-32 of the second part.
        len2: Length of the second part in bytes.

    Returns:
        The CRC-32 of the concatenation.
    """
    return _shift_zeros(crc1, len2) ^ crc2


def crc32_zeros(crc: int, n: int) -> int:
    """Return ``zlib.crc32(bytes(n), crc)`` without materialising the zeros.

    Args:
        crc: CRC-32 of the preceding bytes.
        n: Number of zero bytes.

    Returns:
        The continued CRC-32.
    """
    return _shift_zeros(crc ^ 0xFFFFFFFF, n) ^ 0xFFFFFFFF if n else crc
