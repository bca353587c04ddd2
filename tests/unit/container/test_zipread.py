from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsi_conform.container.zipread import (
    ISSUE_CODES,
    ZipLimits,
    ZipStructure,
    iter_member_crc,
    read_zip_structure,
)
from hsi_conform.testing.zipcraft import Entry as E
from hsi_conform.testing.zipcraft import build as B
from hsi_conform.testing.zipcraft import quoted_overlap_bomb, write

HDR = b"ENVI\nsamples = 4\nlines = 3\nbands = 2\ndata type = 1\ninterleave = bsq\n"
CUBE = bytes(range(24))
SYMLINK = 0o120777 << 16


def good() -> list[E]:
    return [E(b"data.hdr", HDR), E(b"data.envi", CUBE)]


def read(data: bytes, **kw: object) -> ZipStructure:
    return read_zip_structure(io.BytesIO(data), **kw)  # type: ignore[arg-type]


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def patch(data: bytes, offset: int, fmt: str, *values: int) -> bytes:
    buf = bytearray(data)
    struct.pack_into(fmt, buf, offset if offset >= 0 else len(buf) + offset, *values)
    return bytes(buf)


def zip64_good() -> bytes:
    return B(good(), zip64=True)


def zipfile_bytes(build: Callable[[zipfile.ZipFile], None]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        build(z)
    return buf.getvalue()


def _plain_files(z: zipfile.ZipFile) -> None:
    z.writestr("a.hdr", HDR)
    z.writestr("b/", "")
    for i in range(5):
        z.writestr(f"m{i}.bin", bytes(i))


def _force_zip64(z: zipfile.ZipFile) -> None:
    z.writestr("data.hdr", HDR)
    with z.open("data.envi", "w", force_zip64=True) as f:
        f.write(CUBE)


class _Unseekable(io.RawIOBase):
    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        data = bytes(b)  # type: ignore[call-overload]
        self.buf += data
        return len(data)


def descriptor_archive() -> bytes:
    sink = _Unseekable()
    with zipfile.ZipFile(sink, "w") as z, z.open("data.envi", "w") as f:
        f.write(CUBE)
    return bytes(sink.buf)


DD = b"PK\x07\x08" + struct.pack("<LLL", zlib.crc32(CUBE), len(CUBE), len(CUBE))
UPATH = "mäsk.envi".encode()
UPATH_EXTRA = struct.pack("<HHBL", 0x7075, 5 + len(UPATH), 1, zlib.crc32(b"m_sk.envi")) + UPATH
SAME_UPATH = struct.pack("<HHBL", 0x7075, 5 + 9, 1, zlib.crc32(b"m_sk.envi")) + b"m_sk.envi"

CASES: list[tuple[str, Callable[[], bytes], set[str]]] = [
    ("clean", lambda: B(good()), set()),
    ("clean-dirs", lambda: B([E(b"Reference/"), *good(), E(b"Reference/white.hdr", HDR)]), set()),
    ("clean-zip64", zip64_good, set()),
    ("clean-zipfile", lambda: zipfile_bytes(_plain_files), set()),
    ("clean-force-zip64-lfh-only", lambda: zipfile_bytes(_force_zip64), set()),
    (
        "clean-lfh-extra-differs",
        lambda: B([E(b"data.envi", CUBE, l_extra=struct.pack("<HH", 0xCAFE, 6) + bytes(6))]),
        set(),
    ),
    ("clean-unicode-path-same", lambda: B([E(b"m_sk.envi", CUBE, extra=SAME_UPATH)]), set()),
    ("clean-nested-zip-member", lambda: B([*good(), E(b"Metadata/cam.zip", B([E(b"a", b"x")]))]), set()),
    ("clean-empty-archive", lambda: B([]), set()),
    ("not-a-zip", lambda: b"hello, this is not a zip file at all", {"not-a-zip"}),
    ("not-a-zip-empty", lambda: b"", {"not-a-zip"}),
    ("no-eocd-cut-in-cd", lambda: B(good())[:-30], {"no-eocd"}),
    ("no-eocd-long-trailer", lambda: B(good(), append=b"G" * 100_000), {"no-eocd"}),
    ("truncated", lambda: B(good())[:-5], {"truncated"}),
    (
        "multiple-eocd-fake-in-comment",
        lambda: B(good(), comment=B([E(b"evil.envi", b"x")])),
        {"multiple-eocd", "comment-present"},
    ),
    (
        "comment-length-long",
        lambda: B(good(), comment=b"hello", comment_len=50),
        {"comment-length", "comment-present"},
    ),
    (
        "comment-length-short",
        lambda: B(good(), comment=b"hello", comment_len=2),
        {"comment-present", "trailing-data"},
    ),
    ("comment-present", lambda: B(good(), comment=b"hi"), {"comment-present"}),
    ("multidisk-eocd", lambda: B(good(), eocd_disk=1), {"multidisk"}),
    ("multidisk-member", lambda: B([E(b"data.envi", CUBE, disk_start=1)]), {"multidisk"}),
    ("count-mismatch", lambda: B(good(), eocd_count=7), {"count-mismatch"}),
    ("cd-bounds-offset", lambda: B(good(), cd_offset=5), {"cd-bounds"}),
    ("cd-bounds-junk", lambda: B(good(), between_cd_and_eocd=b"JUNK" * 4), {"cd-bounds"}),
    (
        "zip64-locator-missing",
        lambda: patch(B(good()), -22 + 8, "<HH", 0xFFFF, 0xFFFF),
        {"zip64-locator", "count-mismatch"},
    ),
    ("zip64-locator-bad", lambda: patch(zip64_good(), -22 - 20 + 8, "<Q", 3), {"zip64-locator"}),
    ("zip64-eocd-classic-disagrees", lambda: patch(zip64_good(), -22 + 8, "<HH", 5, 5), {"zip64-eocd"}),
    ("zip64-eocd-record-size", lambda: patch(zip64_good(), -22 - 20 - 56 + 4, "<Q", 40), {"zip64-eocd"}),
    ("prefix-data", lambda: B(good(), prepend=b"\xff\xd8\xff\xe0JFIF"), {"prefix-data"}),
    ("trailing-data", lambda: B(good(), append=b"GARBAGE" * 10), {"trailing-data"}),
    (
        "gap",
        lambda: B(
            [
                E(b"data.hdr", HDR + b"HIDDEN", csize=len(HDR), usize=len(HDR), crc=zlib.crc32(HDR)),
                E(b"data.envi", CUBE),
            ]
        ),
        {"gap"},
    ),
    ("overlap-repeated-cd", lambda: B(good(), cd_order=[0, 1, 0]), {"overlap", "duplicate-name"}),
    ("overlap-bomb", lambda: quoted_overlap_bomb(4, 5000), {"overlap", "compressed"}),
    (
        "lfh-missing",
        lambda: B([E(b"data.hdr", HDR), E(b"data.envi", CUBE, offset=7)]),
        {"lfh-missing", "gap"},
    ),
    (
        "lfh-name-mismatch",
        lambda: B([E(b"data.hdr", HDR, l_name=b"evil.envi"), E(b"data.envi", CUBE)]),
        {"lfh-name-mismatch"},
    ),
    ("lfh-mismatch-csize", lambda: B([*good(), E(b"x.envi", CUBE, l_csize=10)]), {"lfh-mismatch"}),
    ("lfh-mismatch-crc", lambda: B([*good(), E(b"x.envi", CUBE, l_crc=0xDEADBEEF)]), {"lfh-mismatch"}),
    ("lfh-mismatch-method", lambda: B([*good(), E(b"x.envi", CUBE, l_method=8)]), {"lfh-mismatch"}),
    ("lfh-mismatch-flags", lambda: B([*good(), E(b"x.envi", CUBE, l_flags=1)]), {"lfh-mismatch"}),
    (
        "lfh-mismatch-descriptor",
        lambda: B([E(b"data.envi", CUBE, flags=8, data_descriptor=DD[:4] + bytes(12))]),
        {"data-descriptor", "lfh-mismatch"},
    ),
    (
        "compressed-deflate",
        lambda: B([E(b"data.envi", deflate(CUBE * 10), method=8, plain=CUBE * 10)]),
        {"compressed"},
    ),
    ("compressed-method-7", lambda: B([E(b"data.envi", CUBE, method=7)]), {"compressed"}),
    ("stored-size", lambda: B([E(b"data.envi", CUBE, usize=10**6)]), {"stored-size"}),
    ("encrypted-bit0", lambda: B([E(b"data.envi", bytes(12) + CUBE, flags=1)]), {"encrypted"}),
    ("encrypted-strong", lambda: B([E(b"data.envi", CUBE, flags=0x41)]), {"encrypted"}),
    (
        "encrypted-aes",
        lambda: B(
            [
                E(
                    b"data.envi",
                    CUBE,
                    method=99,
                    extra=struct.pack("<HHHH3sBH", 0x9901, 7, 2, 0, b"AE", 3, 0)[:11],
                )
            ]
        ),
        {"encrypted"},
    ),
    ("patched-data", lambda: B([E(b"data.envi", CUBE, flags=0x20)]), {"patched-data"}),
    (
        "data-descriptor-signed",
        lambda: B([E(b"data.envi", CUBE, flags=8, data_descriptor=DD)]),
        {"data-descriptor"},
    ),
    (
        "data-descriptor-unsigned",
        lambda: B([E(b"data.envi", CUBE, flags=8, data_descriptor=DD[4:])]),
        {"data-descriptor"},
    ),
    ("data-descriptor-zipfile", descriptor_archive, {"data-descriptor"}),
    ("version-needed", lambda: B([E(b"data.envi", CUBE, version_needed=99)]), {"version-needed"}),
    (
        "extra-corrupt",
        lambda: B([E(b"data.envi", CUBE, extra=struct.pack("<HH", 0x1234, 100) + b"\0\0")]),
        {"extra-corrupt"},
    ),
    (
        "extra-corrupt-duplicate-id",
        lambda: B([E(b"data.envi", CUBE, extra=struct.pack("<HH", 0xCAFE, 0) * 2)]),
        {"extra-corrupt"},
    ),
    ("unicode-path-extra", lambda: B([E(b"m_sk.envi", CUBE, extra=UPATH_EXTRA)]), {"unicode-path-extra"}),
    (
        "data-bounds",
        lambda: B([E(b"data.hdr", HDR), E(b"data.envi", CUBE, csize=10**6, usize=10**6)]),
        {"data-bounds"},
    ),
    ("dir-with-data", lambda: B([E(b"Reference/", b"hidden payload")]), {"dir-with-data"}),
    (
        "special-file-symlink",
        lambda: B([E(b"Reference/white.envi", b"/etc/passwd", external_attr=SYMLINK)]),
        {"special-file"},
    ),
    ("special-file-fifo", lambda: B([E(b"pipe", external_attr=0o010644 << 16)]), {"special-file"}),
    ("setuid", lambda: B([E(b"run.sh", b"#!/bin/sh\n", external_attr=0o104755 << 16)]), {"setuid"}),
    ("name-traversal", lambda: B([*good(), E(b"../evil.txt", b"x")]), {"name-traversal"}),
    ("name-traversal-nested", lambda: B([E(b"Reference/../../evil.txt", b"x")]), {"name-traversal"}),
    ("name-absolute", lambda: B([E(b"/var/evil_abs.txt", b"x")]), {"name-absolute"}),
    ("name-backslash", lambda: B([E(b"Reference\\white.hdr", b"x")]), {"name-backslash"}),
    ("name-backslash-traversal", lambda: B([E(b"..\\evil.txt", b"x")]), {"name-backslash", "name-traversal"}),
    ("name-drive-relative", lambda: B([E(b"C:evil", b"x")]), {"name-drive"}),
    ("name-drive-absolute", lambda: B([E(b"C:\\evil", b"x")]), {"name-drive", "name-backslash"}),
    ("name-drive-unc", lambda: B([E(b"\\\\server\\share\\x", b"x")]), {"name-drive", "name-backslash"}),
    ("name-control-nul", lambda: B([*good(), E(b"data.hdr\x00.evil", b"pwned")]), {"name-control"}),
    ("name-control-newline", lambda: B([E(b"data\n.hdr", HDR)]), {"name-control"}),
    ("name-empty", lambda: B([E(b"", b"x")]), {"name-empty"}),
    ("name-empty-component", lambda: B([E(b"a//b", b"x")]), {"name-empty"}),
    ("name-dot-component", lambda: B([E(b"./a", b"x")]), {"name-empty"}),
    ("name-too-long", lambda: B([E((b"x" * 99 + b"/") * 12 + b"y", b"x")]), {"name-too-long"}),
    ("name-too-deep", lambda: B([E(b"x/" * 64 + b"y", b"x")]), {"name-too-deep"}),
    (
        "name-component-too-long",
        lambda: B([E(b"Exploration/" + b"a" * 300, b"x")]),
        {"name-component-too-long"},
    ),
    ("name-reserved-con", lambda: B([E(b"CON.hdr", HDR)]), {"name-reserved"}),
    ("name-reserved-trailing-dot", lambda: B([E(b"data.hdr.", HDR)]), {"name-reserved"}),
    ("name-reserved-trailing-space", lambda: B([E(b"Reference /a", HDR)]), {"name-reserved"}),
    ("name-nonportable", lambda: B([E(b"what?.txt", b"x")]), {"name-nonportable"}),
    ("name-nonportable-colon", lambda: B([E(b"x/a:b", b"x")]), {"name-nonportable"}),
    ("name-nonascii-noflag", lambda: B([E("mäsk.envi".encode(), CUBE, flags=0)]), {"name-nonascii-noflag"}),
    ("name-encoding", lambda: B([E(b"m\xe4sk.envi", CUBE, flags=0x800)]), {"name-encoding"}),
    ("name-not-nfc", lambda: B([E("ma\u0308sk.envi", CUBE)]), {"name-not-nfc"}),
    (
        "duplicate-name",
        lambda: B([E(b"data.envi", b"FIRST"), E(b"data.envi", b"SECOND")]),
        {"duplicate-name"},
    ),
    ("name-case-collision", lambda: B([*good(), E(b"Data.hdr", HDR)]), {"name-case-collision"}),
    (
        "name-unicode-collision-nfd",
        lambda: B([E("m\u00e4sk", b"a"), E("ma\u0308sk", b"b")]),
        {"name-unicode-collision", "name-not-nfc"},
    ),
    (
        "name-unicode-collision-fold",
        lambda: B([E("STRASSE", b"a"), E("straße", b"b")]),
        {"name-unicode-collision"},
    ),
    (
        "file-dir-conflict",
        lambda: B([E(b"Reference", b"x"), E(b"Reference/white.hdr", HDR)]),
        {"file-dir-conflict"},
    ),
    (
        "file-dir-conflict-explicit",
        lambda: B([E(b"Reference/"), E(b"Reference", b"x")]),
        {"file-dir-conflict"},
    ),
    (
        "symlink-write-through",
        lambda: B([E(b"link", b"../outside", external_attr=SYMLINK), E(b"link/pwned.txt", b"x")]),
        {"special-file", "file-dir-conflict"},
    ),
]

LIMIT_CODES = {"too-many-entries", "cd-too-large"}


@pytest.mark.parametrize(("case_id", "builder", "expected"), CASES, ids=[c[0] for c in CASES])
def test_case_codes(case_id: str, builder: Callable[[], bytes], expected: set[str]) -> None:
    structure = read(builder())
    assert set(structure.codes) == expected
    assert all(i.code in ISSUE_CODES for i in structure.issues)


def test_every_code_has_a_case() -> None:
    covered = set().union(*(c[2] for c in CASES)) | LIMIT_CODES
    assert covered == set(ISSUE_CODES)


@pytest.mark.parametrize(
    "data",
    [b"", b"PK", B(good())[:-5], B(good(), cd_offset=5), B(good())[:100] + B(good())[-22:]],
    ids=["empty", "pk", "truncated", "cd-offset", "cut-middle"],
)
def test_fatal_structures(data: bytes) -> None:
    structure = read(data)
    assert structure.fatal
    assert structure.members == ()
    assert structure.issues


def test_issue_offsets() -> None:
    base = B(good())
    assert [i.offset for i in read(B(good(), prepend=b"JUNK")).issues] == [0]
    assert [i.offset for i in read(B(good(), append=b"TAIL")).issues] == [len(base)]
    lying = B([E(b"data.hdr", HDR), E(b"x.envi", CUBE, l_csize=10)])
    (issue,) = read(lying).issues
    assert issue.offset == 30 + 8 + len(HDR)
    assert issue.member == "x.envi"
    hidden = B([E(b"a", b"xyHIDDEN", csize=2, usize=2, crc=zlib.crc32(b"xy")), E(b"b", b"z")])
    (gap,) = read(hidden).issues
    assert gap.code == "gap"
    assert gap.offset == 30 + 1 + 2


def test_structure_fields() -> None:
    data = B(good(), comment=b"")
    s = read(data)
    assert not s.fatal
    assert s.size == len(data)
    assert s.eocd_offset == len(data) - 22
    assert s.cd_offset == 2 * 30 + 8 + 9 + len(HDR) + len(CUBE)
    hdr = s.member("data.hdr")
    assert hdr is not None
    assert hdr.data_offset == 38
    assert hdr.data_end == 38 + len(HDR)
    assert not hdr.is_dir
    assert hdr.unix_mode == 0o100644
    assert s.member("missing") is None


@pytest.mark.parametrize(
    "data",
    [
        B(good()),
        B([E(b"data.envi", CUBE, l_extra=struct.pack("<HH", 0xCAFE, 6) + bytes(6))]),
        zipfile_bytes(_force_zip64),
        zipfile_bytes(_plain_files),
    ],
    ids=["zipcraft", "lfh-extra", "force-zip64", "zipfile"],
)
def test_data_offset_matches_zipfile(data: bytes) -> None:
    s = read(data)
    assert not s.issues
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
    assert [m.name for m in s.members] == [i.filename for i in infos]
    for m, info in zip(s.members, infos, strict=True):
        nlen, xlen = struct.unpack_from("<HH", data, info.header_offset + 26)
        assert m.data_offset == info.header_offset + 30 + nlen + xlen
        assert m.compressed_size == info.compress_size
        assert data[m.data_offset : m.data_end] == zipfile.ZipFile(io.BytesIO(data)).read(info)


def test_force_zip64_member_resolves_local_extra() -> None:
    s = read(zipfile_bytes(_force_zip64))
    envi = s.member("data.envi")
    assert envi is not None
    assert envi.local_extra is not None and envi.local_extra[:2] == b"\x01\x00"
    assert envi.extra == b""


def test_sparse_zip64_member(tmp_path: Path) -> None:
    big = (1 << 32) + 123
    path = tmp_path / "big.zip"
    size = write(path, [E(b"data.hdr", HDR), E(b"data.envi", b"ab", sparse=big - 2), E(b"tail.txt", b"t")])
    assert path.stat().st_size == size > big
    s = read_zip_structure(path)
    assert s.issues == ()
    assert s.zip64
    envi, tail = s.members[1], s.members[2]
    assert envi.compressed_size == envi.uncompressed_size == big
    assert envi.data_offset == 38 + len(HDR) + 30 + 9 + 20
    assert tail.local_header_offset == envi.data_offset + big
    assert tail.data_offset == tail.local_header_offset + 30 + 8  # only its CD entry needs ZIP64
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        assert [i.file_size for i in infos] == [len(HDR), big, 1]
        assert infos[2].header_offset == tail.local_header_offset
        assert z.read("tail.txt") == b"t"
    assert dict((m.name, c) for m, c in iter_member_crc(path, s, [tail])) == {"tail.txt": tail.crc}


def test_iter_member_crc_finds_bad_crc(tmp_path: Path) -> None:
    data = B([E(b"data.hdr", HDR), E(b"data.envi", CUBE * 100, crc=0xDEADBEEF), E(b"empty", b"")])
    s = read(data)
    assert s.issues == ()
    results = list(iter_member_crc(io.BytesIO(data), s, chunk=7))
    assert [(m.name, c == m.crc) for m, c in results] == [
        ("data.hdr", True),
        ("data.envi", False),
        ("empty", True),
    ]
    assert results[1][1] == zlib.crc32(CUBE * 100)
    path = tmp_path / "a.zip"
    path.write_bytes(data)
    assert [c for _, c in iter_member_crc(path, s)] == [c for _, c in results]


def test_iter_member_crc_skips_unreadable_members() -> None:
    data = B([E(b"data.hdr", HDR), E(b"data.envi", CUBE, offset=7)])
    s = read(data)
    assert [m.name for m, _ in iter_member_crc(io.BytesIO(data), s)] == ["data.hdr"]
    with pytest.raises(ValueError):
        list(iter_member_crc(io.BytesIO(data), s, chunk=0))


def test_limits() -> None:
    data = B([E(f"m{i}".encode(), b"x") for i in range(5)])
    assert read(data, limits=ZipLimits(max_entries=3)).codes == {"too-many-entries"}
    assert len(read(data, limits=ZipLimits(max_entries=3)).members) == 3
    s = read(data, limits=ZipLimits(max_cd_size=10))
    assert s.codes == {"cd-too-large"}
    assert s.fatal
    assert read(
        B([E(b"abc/defgh", b"x")]), limits=ZipLimits(max_name_bytes=5, max_component_bytes=4)
    ).codes == {
        "name-too-long",
        "name-component-too-long",
    }


def test_concatenated_archives_are_flagged() -> None:
    s = read(B(good()) + B([E(b"evil.envi", b"x")]))
    assert {"multiple-eocd", "cd-bounds"} <= s.codes


def test_path_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.hsi"
    path.write_bytes(B(good()))
    assert read_zip_structure(path) == read_zip_structure(str(path))
    with pytest.raises(OSError):
        read_zip_structure(tmp_path / "missing.hsi")


def test_every_truncation_is_reported() -> None:
    data = B(good(), comment=b"")
    for n in range(len(data)):
        s = read(data[:n])
        assert s.fatal or s.issues, n


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_random_byte_flips_never_raise(data: st.DataObject) -> None:
    buf = bytearray(B([*good(), E(b"Reference/"), E("mäsk.envi", CUBE)], zip64=data.draw(st.booleans())))
    for _ in range(data.draw(st.integers(1, 6))):
        buf[data.draw(st.integers(0, len(buf) - 1))] = data.draw(st.integers(0, 255))
    s = read(bytes(buf))
    assert all(i.code in ISSUE_CODES for i in s.issues)
    list(iter_member_crc(io.BytesIO(bytes(buf)), s))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(blob: bytes) -> None:
    s = read(blob + B(good()) if blob[:1] == b"\x00" else blob)
    assert all(i.code in ISSUE_CODES for i in s.issues)


class _CountingFile(io.BytesIO):
    """A file object that counts its reads (spec/container.md#one-read-for-the-tail)."""

    reads = 0

    def read(self, size: int | None = -1, /) -> bytes:
        self.reads += 1
        return super().read(size)


def test_a_small_archive_is_read_in_one_read() -> None:
    data = B([E(b"data.hdr", b"ENVI\n"), E(b"data.envi", b"\x00" * 64)])
    f = _CountingFile(data)
    s = read_zip_structure(f)
    assert not s.fatal and [m.name for m in s.members] == ["data.hdr", "data.envi"]
    assert f.reads == 1
    assert read_zip_structure(io.BytesIO(data)) == s


def test_local_headers_before_the_tail_are_read_on_their_own() -> None:
    data = B([E(b"data.hdr", b"ENVI\n"), E(b"data.envi", b"\x00" * 200_000)])
    f = _CountingFile(data)
    s = read_zip_structure(f)
    # The tail once, then each local header before it: its fixed part, then its name and extra field.
    assert not s.fatal and f.reads == 1 + 2 * 2
    assert s.members[1].data_offset == data.index(b"data.envi") + len(b"data.envi")


def test_the_structure_holds_exactly_the_bytes_of_its_tail() -> None:
    data = B([E(b"data.hdr", b"ENVI\n"), E(b"data.envi", b"\x00" * 200_000)])
    s = read_zip_structure(io.BytesIO(data))
    start = s.tail_offset
    assert start == len(data) - len(s.tail) > 0 and s.tail == data[start:]
    assert s.held(start, 4) == data[start : start + 4]
    assert s.held(len(data) - 3, 3) == data[-3:]
    assert s.held(len(data) - 3, 4) is None  # runs past the end
    assert s.held(start - 1, 2) is None  # starts before the tail
    assert s.held(0, 5) is None
    assert read_zip_structure(io.BytesIO(data)) == s  # not part of the equality
