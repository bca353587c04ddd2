"""One descriptor per input; reads of mapped arrays with pread (hsi_conform.container.source)."""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path

import numpy as np
import pytest

from hsi_conform.container import source as source_module
from hsi_conform.container.source import SourceFile, map_array, read_block, read_into
from hsi_conform.errors import InputUnreadableError

SHAPE = (7, 5, 18)


def _mapped(tmp_path: Path) -> tuple[np.ndarray, np.memmap]:  # type: ignore[type-arg]
    expected = (np.arange(np.prod(SHAPE)) % 1000).astype(">u2").reshape(SHAPE)
    path = tmp_path / "cube.bin"
    path.write_bytes(b"head" * 3 + b"x" + expected.tobytes() + b"tail")
    with SourceFile.open(path) as f:
        mapped = map_array(f, np.dtype(">u2"), 13, SHAPE)
    return expected, mapped


def _random_blocks(rng: random.Random, shape: tuple[int, ...], count: int) -> list[tuple[slice, ...]]:
    blocks = []
    for _ in range(count):
        starts = [rng.randrange(n) for n in shape]
        blocks.append(tuple(slice(s, rng.randrange(s, n) + 1) for s, n in zip(starts, shape, strict=True)))
    return blocks


@pytest.mark.parametrize("small_reads", [False, True], ids=["large-reads", "tiny-reads"])
def test_every_block_of_every_axis_order_reads_back_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            small_reads: bool) -> None:
    if small_reads:  # force the per-row and piecewise paths
        monkeypatch.setattr(source_module, "MAX_READ", 64)
        monkeypatch.setattr(source_module, "_SCRATCH_READ", 48)
        monkeypatch.setattr(source_module, "_SMALL_READ", 8)
    expected, mapped = _mapped(tmp_path)
    rng = random.Random(11)
    for order in itertools.permutations(range(3)):
        view, want = mapped.transpose(order), expected.transpose(order)
        for sel in _random_blocks(rng, view.shape, 30):
            got = read_block(view[sel])
            assert got.dtype == want.dtype and got.flags.c_contiguous
            assert np.array_equal(got, want[sel])
            out = np.empty(want[sel].shape, dtype=want.dtype)
            read_into(view[sel], out)
            assert np.array_equal(out, want[sel])


def test_arrays_in_memory_are_returned_as_numpy_would() -> None:
    array = np.arange(24).reshape(2, 3, 4)
    assert read_block(array) is array
    assert np.array_equal(read_block(array.transpose(2, 0, 1)), array.transpose(2, 0, 1))


def test_a_truncated_file_raises_instead_of_faulting(tmp_path: Path) -> None:
    _, mapped = _mapped(tmp_path)
    os.truncate(tmp_path / "cube.bin", 100)
    with pytest.raises(InputUnreadableError) as info:
        read_block(mapped)
    assert info.value.path == str(tmp_path / "cube.bin")
    assert np.array_equal(read_block(mapped[:1, :1]), np.asarray(mapped[:1, :1]))  # still there: readable


def test_a_mapping_outlives_the_closed_source_and_keeps_its_file(tmp_path: Path) -> None:
    expected, mapped = _mapped(tmp_path)  # the source was closed when map_array returned
    os.replace(tmp_path / "cube.bin", tmp_path / "moved.bin")
    (tmp_path / "cube.bin").write_bytes(b"\0" * 1000)  # another file under the old name
    assert np.array_equal(read_block(mapped), expected)


def test_exact_range_reads(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(100)))
    with SourceFile.open(path) as f:
        assert f.read(90, 20) == bytes(range(90, 100))
        assert f.read_range(10, 5) == bytes(range(10, 15))
        with pytest.raises(InputUnreadableError):
            f.read_range(90, 20)
    assert f.closed
