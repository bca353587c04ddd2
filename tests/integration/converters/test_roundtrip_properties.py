"""Property: every generated valid container survives container -> X -> container member for member."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from hsi_conform.converters import convert
from hsi_conform.testing.generate import ValidContainer
from hsi_conform.testing.strategies import valid_containers
from tests._support import member_digests

LOSSLESS = {"hdf5": "out.h5", "tiff": "out.tif", "envi": "out.img"}


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_containers())
def test_lossless_converters_round_trip_every_member(container: ValidContainer) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.hsi"
        source.write_bytes(container.data)
        expected = member_digests(source, directories=False)
        for fmt, name in LOSSLESS.items():
            middle = convert(source, Path(tmp) / fmt / name, to_format=fmt)
            # thumbnail=False: a source without thumbnail.jpg comes back without one (an existing one is a member)
            back = convert(middle, Path(tmp) / f"back-{fmt}.hsi", from_format=fmt, to_format="hsi", thumbnail=False)
            assert member_digests(back, directories=False) == expected, fmt
