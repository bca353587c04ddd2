"""Copies of file ranges: the kernel copy, the buffered fallback, truncated sources, mapped arrays as spans."""

from __future__ import annotations

import errno
import os
import sys
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hsi_conform
from hsi_conform import _copy
from hsi_conform._copy import BLOCK, FileSpan, copy_range
from hsi_conform.container.source import SourceFile, array_span, map_array
from hsi_conform.errors import InputUnreadableError


def _payload(size: int) -> bytes:
    return np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[Path, bytes]]:
    data = _payload(2 * BLOCK + 12345)
    path = tmp_path / "src.bin"
    path.write_bytes(data)
    yield path, data


def _copy_file(src: Path, dst: Path, offset: int, size: int, **kw: Any) -> list[tuple[int, int]]:
    blocks: list[tuple[int, int]] = []
    fd = os.open(src, os.O_RDONLY)
    out = os.open(dst, os.O_WRONLY | os.O_CREAT)
    try:
        copy_range(FileSpan(fd, offset, size, str(src)), out, 7, on_block=lambda o, n: blocks.append((o, n)), **kw)
    finally:
        os.close(fd)
        os.close(out)
    return blocks


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "buffered"])
def test_a_range_lands_where_asked_in_blocks(source: tuple[Path, bytes], tmp_path: Path, kernel: bool) -> None:
    src, data = source
    dst = tmp_path / "dst.bin"
    blocks = _copy_file(src, dst, 100, len(data) - 100, kernel=kernel)
    assert dst.read_bytes() == b"\0" * 7 + data[100:]
    assert blocks == [(7, BLOCK), (7 + BLOCK, BLOCK), (7 + 2 * BLOCK, len(data) - 100 - 2 * BLOCK)]


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "buffered"])
def test_writeback_starts_for_every_block_as_it_lands(source: tuple[Path, bytes], tmp_path: Path, kernel: bool,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    src, data = source
    started: list[tuple[int, int]] = []
    real = _copy.start_writeback

    def spy(fd: int, offset: int, size: int) -> None:
        started.append((offset, size))
        real(fd, offset, size)

    monkeypatch.setattr(_copy, "start_writeback", spy)
    dst = tmp_path / "dst.bin"
    blocks = _copy_file(src, dst, 100, len(data) - 100, kernel=kernel, writeback=True)
    assert dst.read_bytes() == b"\0" * 7 + data[100:]
    assert started == blocks == [(7, BLOCK), (7 + BLOCK, BLOCK), (7 + 2 * BLOCK, len(data) - 100 - 2 * BLOCK)]
    started.clear()
    _copy_file(src, dst, 0, 10, kernel=kernel)
    assert started == []  # only when asked: a destination that is fsynced when complete


def test_writeback_is_a_hint_that_never_fails(tmp_path: Path) -> None:
    if sys.platform.startswith("linux"):
        assert _copy._sync_file_range() is not None
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 10000)
    fd = os.open(path, os.O_RDONLY)
    try:
        _copy.start_writeback(fd, 0, 10000)  # read-only descriptors too: the page cache is the file's
        _copy.start_writeback(fd, 5000, 0)
    finally:
        os.close(fd)
    _copy.start_writeback(fd, 0, 10)  # a closed descriptor: the error is ignored (fsync reports real ones)
    assert path.read_bytes() == b"x" * 10000


def test_an_unsupported_kernel_copy_falls_back_to_the_buffered_loop(source: tuple[Path, bytes], tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    src, data = source
    calls = []

    def refuse(*args: Any) -> int:
        calls.append(args)
        raise OSError(errno.ENOSYS, "copy_file_range is not implemented")

    monkeypatch.setattr(os, "copy_file_range", refuse, raising=False)
    monkeypatch.setattr(_copy, "_HAS_KERNEL_COPY", True)
    dst = tmp_path / "dst.bin"
    _copy_file(src, dst, 0, len(data))
    assert dst.read_bytes() == b"\0" * 7 + data
    assert len(calls) == 1  # refused once, then the rest went through the buffer


def test_a_copy_across_file_systems_falls_back(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        pytest.skip("no /dev/shm")
    data = _payload(BLOCK + 99)
    src = shm / f"hsi-conform-test-{os.getpid()}.bin"
    src.write_bytes(data)
    try:
        dst = tmp_path / "dst.bin"
        _copy_file(src, dst, 0, len(data))  # tmpfs -> the test folder: EXDEV on Linux, copied all the same
        assert dst.read_bytes() == b"\0" * 7 + data
    finally:
        src.unlink()


def test_a_refusal_after_a_partial_block_keeps_what_landed(source: tuple[Path, bytes], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    src, data = source
    real = os.copy_file_range
    state = {"calls": 0}

    def half_then_refuse(fd: int, out: int, count: int, src_off: int, dst_off: int) -> int:
        state["calls"] += 1
        if state["calls"] == 1:
            return real(fd, out, count // 2, src_off, dst_off)
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(os, "copy_file_range", half_then_refuse)
    dst = tmp_path / "dst.bin"
    blocks = _copy_file(src, dst, 0, len(data))
    assert dst.read_bytes() == b"\0" * 7 + data
    assert sum(n for _, n in blocks) == len(data)


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "buffered"])
def test_a_source_shorter_than_the_range_is_unreadable(source: tuple[Path, bytes], tmp_path: Path,
                                                        kernel: bool) -> None:
    src, data = source
    with pytest.raises(InputUnreadableError, match="truncated"):
        _copy_file(src, tmp_path / "dst.bin", 0, len(data) + 10, kernel=kernel)


def test_a_full_destination_is_an_os_error(source: tuple[Path, bytes]) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    src, data = source
    fd = os.open(src, os.O_RDONLY)
    out = os.open("/dev/full", os.O_WRONLY)
    try:
        with pytest.raises(OSError) as info:
            copy_range(FileSpan(fd, 0, len(data), str(src)), out, 0)
        assert not isinstance(info.value, InputUnreadableError)
    finally:
        os.close(fd)
        os.close(out)


def test_arrays_mapped_from_a_file_are_spans_of_it(tmp_path: Path) -> None:
    path = tmp_path / "cube.bin"
    cube = np.arange(4 * 6 * 8, dtype="<u2").reshape(4, 6, 8)
    path.write_bytes(b"H" * 96 + cube.tobytes())
    with SourceFile.open(path) as f:
        mapped = map_array(f, np.dtype("<u2"), 96, cube.shape)
    with array_span(mapped[1:3]) as span:
        assert span is not None and (span.offset, span.size) == (96 + 6 * 8 * 2, 2 * 6 * 8 * 2)
    own = np.memmap(path, dtype="<u2", mode="r", offset=96, shape=cube.shape)
    with array_span(own[2:]) as span:
        if span is None:
            pytest.skip("no /proc/self/maps: arrays are copied through memory")
        assert (span.offset, span.size) == (96 + 2 * 6 * 8 * 2, 2 * 6 * 8 * 2)
        assert os.pread(span.fd, span.size, span.offset) == cube[2:].tobytes()
    for no_span in (own[:, 1:], np.array(cube), np.memmap(path, dtype="<u2", mode="c", offset=96, shape=cube.shape)):
        with array_span(no_span) as span:
            assert span is None


def test_a_memmap_whose_file_was_replaced_is_copied_from_memory(tmp_path: Path) -> None:
    path = tmp_path / "cube.bin"
    cube = np.arange(2 * 3 * 4096, dtype="<u2").reshape(2, 3, 4096)
    path.write_bytes(cube.tobytes())
    own = np.memmap(path, dtype="<u2", mode="r", shape=cube.shape)
    other = tmp_path / "other.bin"
    other.write_bytes(bytes(cube.nbytes))
    os.replace(other, path)  # the map still holds the old file; the path names a new one
    with array_span(own) as span:
        assert span is None
    out = hsi_conform.write_container(tmp_path / "x.hsi", own, interleave="bsq")
    with hsi_conform.open(out) as c:
        np.testing.assert_array_equal(c.cube, cube)


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "buffered"])
def test_a_container_written_from_a_memmap_holds_its_bytes_and_crc(tmp_path: Path, kernel: bool,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_copy, "_HAS_KERNEL_COPY", kernel and hasattr(os, "copy_file_range"))
    cube = np.random.default_rng(1).integers(0, 60000, (40, 16, 4096)).astype("<u2")  # 5 MiB: the CRC overlaps
    raw = tmp_path / "cube.img"
    raw.write_bytes(cube.tobytes())
    mapped = np.memmap(raw, dtype="<u2", mode="r", shape=cube.shape)
    out = hsi_conform.write_container(tmp_path / "x.hsi", mapped, interleave="bil",
                                      members={"Metadata/notes.bin": raw})
    with zipfile.ZipFile(out) as zf:
        assert zlib.crc32(cube.tobytes()) == zf.getinfo("data.envi").CRC
        assert zf.read("Metadata/notes.bin") == raw.read_bytes()
        assert zf.testzip() is None
    with hsi_conform.open(out) as c:
        np.testing.assert_array_equal(c.cube, cube)


def test_the_crc_function_gives_zlibs_values() -> None:
    from hsi_conform import _crc32

    data = _payload(3 << 20)
    assert _crc32.crc32(data, 0) == zlib.crc32(data)
    assert _crc32.crc32(memoryview(data)[5:], _crc32.crc32(data[:5], 0)) == zlib.crc32(data)
    assert _crc32.crc32(b"", 0) == 0
    assert _crc32.IMPLEMENTATION in ("isal", "zlib")
