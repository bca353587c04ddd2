"""The HDF5 writer writes into space it reserved first: the reservation must bound the file (spec/safety.md#faults)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hsi_conform.container.write import write_container
from hsi_conform.converters import convert, get_converter
from hsi_conform.converters.hdf5 import WriteOptions, output_bound
from hsi_conform.testing.samples import write_sample_container

pytest.importorskip("h5py")

OPTIONS: list[dict[str, Any]] = [{}, {"compression": "gzip"}, {"chunks": "none"}, {"chunks": "1,1,1"},
                                 {"chunks": "7,3,5", "compression": "gzip"}, {"checksum": False}]


def noise(path: Path, shape: tuple[int, int, int], interleave: str) -> Path:
    """A container whose cube does not compress (the worst case for a compressed file's size)."""
    cube = np.random.default_rng(11).integers(0, 1 << 16, size=shape, dtype=np.uint16)
    return write_container(path, cube, interleave=interleave)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sources")
    return {
        "noise-bsq": noise(root / "bsq.hsi", (40, 30, 20), "bsq"),  # chunks with padded edges
        "noise-bip": noise(root / "bip.hsi", (9, 7, 33), "bip"),
        "sample": write_sample_container(root / "sample.hsi", lines=24, samples=16, bands=12),
    }


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
@pytest.mark.parametrize("source", ["noise-bsq", "noise-bip", "sample"])
def test_the_reserved_space_bounds_the_file(sources: dict[str, Path], tmp_path: Path, source: str,
                                           options: dict[str, Any]) -> None:
    src = sources[source]
    bound = output_bound(get_converter("hsi").read(src), WriteOptions.parse(options))
    out = convert(src, tmp_path / "x.h5", allow_nonconformant=True, **options)  # noise has no wavelengths
    assert out.stat().st_size <= bound
    assert [p.name for p in tmp_path.iterdir()] == ["x.h5"]  # truncated to what HDF5 used, no temp left
