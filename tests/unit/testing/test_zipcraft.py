from __future__ import annotations

import hashlib
import io
import struct
import typing
import zipfile
import zlib
from pathlib import Path

import pytest

from hsi_conform.testing.zipcraft import Entry, build, crc32_combine, crc32_zeros, quoted_overlap_bomb, write


@pytest.mark.parametrize("n", [0, 1, 7, 4096, 100_003])
def test_crc32_zeros(n: int) -> None:
    seed = zlib.crc32(b"prefix")
    assert crc32_zeros(seed, n) == zlib.crc32(bytes(n), seed)


def test_crc32_combine() -> None:
    a, b = b"hello ", b"hyperspectral world"
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_defaults_build_a_valid_archive() -> None:
    data = build([Entry(b"data.hdr", b"ENVI\n"), Entry("mäsk.envi", b"\x00" * 10), Entry(b"Reference/")])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        assert z.namelist() == ["data.hdr", "mäsk.envi", "Reference/"]
        infos = z.infolist()
        assert infos[1].flag_bits & 0x800
        assert infos[2].is_dir()
        assert z.read("data.hdr") == b"ENVI\n"


def test_local_overrides_only_touch_the_local_header() -> None:
    data = build([Entry(b"a.envi", b"abc", l_csize=10, l_crc=0xDEADBEEF, l_name=b"b.envi")])
    sig, _, _, _, _, _, crc, csize, usize, nlen, _ = struct.unpack_from("<4s5H3L2H", data)
    assert (sig, crc, csize, usize, data[30 : 30 + nlen]) == (b"PK\x03\x04", 0xDEADBEEF, 10, 3, b"b.envi")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        (info,) = z.infolist()
        assert (info.filename, info.CRC, info.compress_size) == ("a.envi", zlib.crc32(b"abc"), 3)


def test_descriptor_flag_blanks_local_values() -> None:
    data = build([Entry(b"a", b"abc", flags=8)])
    assert struct.unpack_from("<3L", data, 14) == (0, 0, 0)


def test_end_record_overrides() -> None:
    data = build([Entry(b"a", b"x")], comment=b"hi", comment_len=9, eocd_count=7, cd_offset=5, eocd_disk=2)
    eocd = data.rindex(b"PK\x05\x06")
    assert struct.unpack_from("<4H2LH", data, eocd + 4) == (2, 0, 7, 7, 47, 5, 9)
    assert data.endswith(b"hi")


def test_prepend_shifts_offsets_and_cd_order() -> None:
    data = build([Entry(b"a", b"1"), Entry(b"b", b"2")], prepend=b"JUNK", cd_order=[1, 0])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.namelist() == ["b", "a"]
        assert z.read("a") == b"1"
        assert z.getinfo("a").header_offset == 4


def test_cd_only_entry_and_between() -> None:
    data = build([Entry(b"a", b"1"), Entry(b"ghost", write_local=False, offset=0)], between_cd_and_eocd=b"XX")
    assert data.count(b"PK\x03\x04") == 1
    assert b"XXPK\x05\x06" in data


def test_zip64_archive_is_readable_by_zipfile() -> None:
    data = build([Entry(b"a", b"abc", zip64=True)], zip64=True)
    assert b"PK\x06\x06" in data and b"PK\x06\x07" in data
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.read("a") == b"abc"


def test_write_leaves_holes(tmp_path: Path) -> None:
    path = tmp_path / "sparse.zip"
    size = write(path, [Entry(b"big.envi", b"ab", sparse=50 << 20)])
    assert path.stat().st_size == size > 50 << 20
    assert path.stat().st_blocks * 512 < 1 << 20
    with zipfile.ZipFile(path) as z:
        assert crc32_zeros(zlib.crc32(b"ab"), 50 << 20) == z.getinfo("big.envi").CRC
    small = [Entry(b"a", b"abc", sparse=5)]
    write(path, small)
    assert path.read_bytes() == build(small)


def test_quoted_overlap_bomb_inflates() -> None:
    data = quoted_overlap_bomb(6, 20_000)
    assert len(data) < 2_000
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        assert len(infos) == 6
        assert sum(i.file_size for i in infos) > 6 * 20_000
        first = infos[0]
        nlen, xlen = struct.unpack_from("<HH", data, first.header_offset + 26)
        start = first.header_offset + 30 + nlen + xlen
        plain = zlib.decompressobj(-15).decompress(data[start : start + first.compress_size])
        assert len(plain) == first.file_size
        assert zlib.crc32(plain) == first.CRC
    with pytest.raises(ValueError):
        quoted_overlap_bomb(0, 10)


def test_the_bytes_of_a_crafted_archive_stay_the_same() -> None:
    # Pinned from the single-module zipcraft before its records moved to _zip_records.py: every field path once.
    entries = [Entry(b"data.hdr", b"ENVI\n"), Entry("\u00e9.txt", b"x", comment=b"c"),
               Entry(b"data.envi", b"abc", sparse=3, zip64=True), Entry(b"lying", b"q", l_csize=9, flags=8),
               Entry(b"dir/"), Entry(b"ghost", write_local=False, offset=7)]
    data = build(entries, prepend=b"\xff\xd8\xff", comment=b"hi", cd_order=[5, 0, 1, 2, 3, 4, 0])
    assert (len(data), hashlib.sha256(data).hexdigest()) == (
        630, "6adcf0b44b34ae71fab3e31e063d7934f3f162a5eef8048a65554e5715ed40a2")


def test_entry_type_hints_resolve_for_hypothesis_builds() -> None:
    hints = typing.get_type_hints(Entry)
    assert hints["name"] == bytes | str and hints["sparse"] is int
