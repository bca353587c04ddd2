"""Atheris target: the ENVI header parser.

:func:`hsi_conform.parse_header` documents one exception, :class:`~hsi_conform.errors.NotAnEnviHeaderError`, and
a lossless model (``header.to_bytes()`` returns the input). Any other exception, or a failed round trip, is a bug.
"""

from __future__ import annotations

from hsi_conform.errors import InternalError, NotAnEnviHeaderError
from hsi_conform.header import parse_header


def warm_up() -> None:
    """Import everything the target runs, so that instrumentation sees it."""
    test_one_input(b"ENVI\nsamples = 1\nwavelength = {1, 2}\n")


def test_one_input(data: bytes) -> None:
    """Parse ``data``; raise on anything but a documented outcome.

    Raises:
        InternalError: the header does not reproduce its input.
    """
    try:
        header = parse_header(data)
    except NotAnEnviHeaderError:
        return
    if header.to_bytes() != data:
        raise InternalError(f"round trip: the model changed {len(data)} bytes")
