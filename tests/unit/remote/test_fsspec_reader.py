"""The fsspec reader over ``memory://``: exact reads, kept bytes spliced in, errors that name the URL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

fsspec = pytest.importorskip("fsspec")

from hsi_conform.errors import InputUnreadableError, MissingDependencyError  # noqa: E402
from hsi_conform.remote import Retry, open_reader  # noqa: E402
from hsi_conform.remote.fsspec_reader import FsspecReader  # noqa: E402

DATA = os.urandom(3000)


@pytest.fixture
def url() -> Iterator[str]:
    fs = fsspec.filesystem("memory")
    fs.pipe("/reader-test/blob.bin", DATA)
    yield "memory://reader-test/blob.bin"
    fs.rm("/reader-test", recursive=True)


def test_reads_are_exact_and_short_only_at_the_end(url: str) -> None:
    reader = open_reader(url)
    assert reader.remote and reader.name == url and reader.size() == len(DATA)
    assert reader.read(10, 20) == DATA[10:30] and reader.read(2990, 100) == DATA[2990:] and reader.read(4000, 5) == b""
    assert reader.read_ranges([(0, 5), (100, 300), (2999, 3000)]) == [DATA[:5], DATA[100:300], DATA[2999:]]
    assert list(reader.iter_ranges((i, i + 100) for i in range(0, 3000, 100))) == [
        DATA[i : i + 100] for i in range(0, 3000, 100)]


@pytest.mark.parametrize(("kept", "wanted", "fetched"), [
    ([(0, 100)], (10, 50), 0), ([(0, 100)], (50, 200), 100), ([(100, 200)], (50, 150), 50),
    ([(0, 100), (150, 300)], (50, 250), 50), ([(0, 100), (50, 200)], (10, 150), 0),
    ([(0, 100), (50, 200)], (60, 199), 0), ([(500, 600)], (0, 3000), 3000),  # a kept span inside is not used
])
def test_kept_bytes_at_either_end_are_spliced_in(url: str, kept: list[tuple[int, int]], wanted: tuple[int, int],
                                                 fetched: int) -> None:
    reader = open_reader(url)
    assert isinstance(reader, FsspecReader)
    for span in kept:
        reader.prefetch([span])
    before = reader.bytes_read
    a, b = wanted
    assert reader.read(a, b - a) == DATA[a:b]
    assert reader.bytes_read - before == fetched


def test_a_missing_object_is_an_input_error_naming_the_url() -> None:
    with pytest.raises(InputUnreadableError) as info:
        open_reader("memory://nowhere//x.hsi", retry=Retry(attempts=1))
    assert info.value.path == "memory://nowhere//x.hsi"


def test_a_folder_is_not_a_container(url: str) -> None:
    with pytest.raises(InputUnreadableError) as info:
        open_reader("memory://reader-test")
    assert info.value.path == "memory://reader-test"


def test_an_unknown_protocol_is_an_input_error() -> None:
    with pytest.raises(InputUnreadableError) as info:
        open_reader("nosuchprotocol://x/y.hsi")
    assert info.value.path == "nosuchprotocol://x/y.hsi"


def test_a_protocol_whose_package_is_missing_says_what_to_install() -> None:
    try:
        import gcsfs  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("gcsfs is installed")
    with pytest.raises(MissingDependencyError) as info:
        open_reader("gs://bucket/x.hsi")
    assert info.value.requires == ("gcsfs",) and info.value.install_command == "pip install gcsfs"


def test_transient_failures_are_retried_with_backoff() -> None:
    assert list(Retry(attempts=4, backoff=0.25, cap=0.6).delays()) == [0.25, 0.5, 0.6]
    assert list(Retry(attempts=1).delays()) == []


@pytest.mark.parametrize(("kept", "wanted", "fetched"), [
    ([(0, 100)], (10, 50), 0), ([(0, 100)], (50, 200), 100), ([(100, 200)], (50, 150), 50),
    ([(0, 100), (150, 300)], (50, 250), 50), ([(500, 600)], (0, 3000), 3000), ([], (2990, 3100), 10),
])
def test_ranges_read_into_buffers_splice_kept_bytes_in(url: str, kept: list[tuple[int, int]],
                                                       wanted: tuple[int, int], fetched: int) -> None:
    reader = open_reader(url)
    assert isinstance(reader, FsspecReader)
    for span in kept:
        reader.prefetch([span])
    before = reader.bytes_read
    a, b = wanted
    buffers = [bytearray(b - a), bytearray(40)]
    counts = reader.read_ranges_into([(a, b), (1000, 1040)], buffers)
    assert counts == [len(DATA[a:b]), 40] and bytes(buffers[0][: counts[0]]) == DATA[a:b]
    assert bytes(buffers[1]) == DATA[1000:1040] and reader.bytes_read - before == fetched + 40
