from __future__ import annotations

import hashlib
import itertools
import os
import zipfile
import zlib
from pathlib import Path

import pytest

from hsi_conform.container import zipwrite
from hsi_conform.container.zipread import iter_member_crc, read_zip_structure
from hsi_conform.container.zipwrite import ContainerVerifyError, ContainerWriter

HDR = b"ENVI\nsamples = 4\nlines = 3\nbands = 2\ndata type = 1\ninterleave = bsq\n"
CUBE = bytes(range(256)) * 20


def write_sample(path: Path, src: Path) -> None:
    with ContainerWriter(path) as w:
        w.add_bytes("data.hdr", HDR)
        w.add_stream("data.envi", [CUBE[:1000], memoryview(CUBE)[1000:]], len(CUBE))
        w.add_directory("Reference")
        w.add_file("Reference/white.envi", src)
        w.add_bytes("Exploration/mäsk.envi", bytearray(b"\x01" * 33))
        w.add_bytes("Reference/white.hdr", HDR)


@pytest.fixture
def src(tmp_path: Path) -> Path:
    p = tmp_path / "src.bin"
    p.write_bytes(os.urandom(70_000))
    return p


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp-" in p.name)


def test_output_is_strictly_clean_and_zipfile_readable(tmp_path: Path, src: Path) -> None:
    out = tmp_path / "x.hsi"
    write_sample(out, src)
    s = read_zip_structure(out)
    assert s.issues == () and not s.fatal
    assert [m.name for m in s.members] == [
        "data.hdr",
        "data.envi",
        "Reference/",
        "Reference/white.envi",
        "Exploration/mäsk.envi",
        "Reference/white.hdr",
    ]
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        assert z.read("data.envi") == CUBE
        assert z.read("Reference/white.envi") == src.read_bytes()
        assert z.getinfo("Reference/").is_dir()
    assert all(c == m.crc for m, c in iter_member_crc(out, s))
    assert leftovers(tmp_path) == []


def test_envi_data_is_aligned(tmp_path: Path, src: Path) -> None:
    out = tmp_path / "x.hsi"
    write_sample(out, src)
    s = read_zip_structure(out)
    aligned = [m for m in s.members if m.name.endswith(".envi")]
    assert len(aligned) == 3
    assert all(m.data_offset is not None and m.data_offset % 4096 == 0 for m in aligned)
    assert all(m.extra == b"" for m in s.members)  # padding lives in the local header only
    hdr = s.member("data.hdr")
    assert hdr is not None and hdr.data_offset == 30 + 8


@pytest.mark.parametrize("align", [1, 64, 32768])
def test_other_alignments(tmp_path: Path, align: int) -> None:
    out = tmp_path / "x.hsi"
    with ContainerWriter(out, align=align, align_suffixes=(".envi", ".bin")) as w:
        w.add_bytes("a.hdr", b"x")
        info = w.add_bytes("b.bin", b"y" * 10)
    assert info.data_offset % align == 0
    assert read_zip_structure(out).issues == ()
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None


def test_written_member_info(tmp_path: Path) -> None:
    with ContainerWriter(tmp_path / "x.hsi") as w:
        info = w.add_stream("data.envi", [CUBE], len(CUBE))
    assert info.crc == zlib.crc32(CUBE)
    assert info.size == len(CUBE)
    assert info.local_header_offset == 0
    assert info.data_offset == 4096


def test_reproducible_bytes(tmp_path: Path, src: Path) -> None:
    a, b = tmp_path / "a.hsi", tmp_path / "b.hsi"
    write_sample(a, src)
    write_sample(b, src)
    assert a.read_bytes() == b.read_bytes()


def test_mtime_is_written(tmp_path: Path) -> None:
    out = tmp_path / "x.hsi"
    with ContainerWriter(out, mtime=(2024, 5, 17, 13, 45, 30)) as w:
        w.add_bytes("a", b"x")
    with zipfile.ZipFile(out) as z:
        assert z.getinfo("a").date_time == (2024, 5, 17, 13, 45, 30)


def test_non_ascii_name_sets_utf8_flag(tmp_path: Path) -> None:
    out = tmp_path / "x.hsi"
    with ContainerWriter(out) as w:
        w.add_bytes("ascii.txt", b"a")
        w.add_bytes("mäsk.envi", b"b")
    s = read_zip_structure(out)
    assert [m.flags & 0x800 for m in s.members] == [0, 0x800]
    with zipfile.ZipFile(out) as z:
        assert z.read("mäsk.envi") == b"b"


def test_exception_inside_with_publishes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "x.hsi"
    with pytest.raises(KeyError), ContainerWriter(out) as w:
        w.add_bytes("data.hdr", HDR)
        raise KeyError("boom")
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_existing_destination_survives_failure(tmp_path: Path) -> None:
    out = tmp_path / "x.hsi"
    out.write_bytes(b"OLD CONTENT")
    with pytest.raises(RuntimeError), ContainerWriter(out) as w:
        w.add_stream("data.envi", [CUBE], len(CUBE))
        raise RuntimeError("interrupted")
    assert out.read_bytes() == b"OLD CONTENT"
    assert leftovers(tmp_path) == []


def test_replaces_existing_destination(tmp_path: Path) -> None:
    out = tmp_path / "x.hsi"
    out.write_bytes(b"OLD")
    with ContainerWriter(out) as w:
        assert Path(w.temp_path).parent == tmp_path
        assert Path(w.temp_path).name.startswith(".x.hsi.tmp-")
        w.add_bytes("a", b"new")
    with zipfile.ZipFile(out) as z:
        assert z.read("a") == b"new"


@pytest.mark.parametrize(
    "name",
    [
        "../evil",
        "/abs",
        "a\\b",
        "C:x",
        "a\x00b",
        "",
        "a//b",
        "CON.hdr",
        "a?b",
        "ma\u0308sk",
        "x/" * 600 + "y",
        "a" * 256,
    ],
)
def test_illegal_names_refused_before_writing(tmp_path: Path, name: str) -> None:
    out = tmp_path / "x.hsi"
    with ContainerWriter(out) as w:
        first = w.add_bytes("ok.txt", b"1")
        with pytest.raises(ValueError):
            w.add_bytes(name, b"x")
        second = w.add_bytes("ok2.txt", b"2")  # the writer stays usable
    assert second.local_header_offset == first.data_offset + first.size  # nothing was written in between
    assert [m.name for m in read_zip_structure(out).members] == ["ok.txt", "ok2.txt"]


@pytest.mark.parametrize("second", ["data.hdr", "Data.hdr", "data.hdr/x", "data.hdr/"])
def test_duplicate_and_colliding_names_refused(tmp_path: Path, second: str) -> None:
    with ContainerWriter(tmp_path / "x.hsi") as w:
        w.add_bytes("data.hdr", HDR)
        with pytest.raises(ValueError):
            if second.endswith("/"):
                w.add_directory(second)
            else:
                w.add_bytes(second, b"x")


def test_stream_with_wrong_size_aborts(tmp_path: Path) -> None:
    out = tmp_path / "x.hsi"
    w = ContainerWriter(out)
    with pytest.raises(ValueError):
        w.add_stream("data.envi", [b"abc"], 4)
    assert leftovers(tmp_path) == []
    with pytest.raises(RuntimeError):
        w.add_bytes("a", b"x")
    w.close()
    assert not out.exists()


def test_directory_with_data_refused(tmp_path: Path) -> None:
    with ContainerWriter(tmp_path / "x.hsi") as w, pytest.raises(ValueError):
        w.add_bytes("Reference/", b"x")


@pytest.mark.parametrize(
    "kwargs", [{"align": 3}, {"align": 65536}, {"align": 0}, {"mtime": (1979, 1, 1, 0, 0, 0)}]
)
def test_bad_parameters(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ContainerWriter(tmp_path / "x.hsi", **kwargs)  # type: ignore[arg-type]
    assert leftovers(tmp_path) == []


def test_failed_verification_publishes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "x.hsi"
    real = read_zip_structure

    def corrupting(path: str, **kw: object) -> object:
        with open(path, "r+b") as f:
            f.seek(0, os.SEEK_END)
            f.write(b"TRAILING")
        return real(path, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr("hsi_conform.container.zipwrite.read_zip_structure", corrupting)
    with pytest.raises(ContainerVerifyError) as err, ContainerWriter(out) as w:
        w.add_bytes("a", b"x")
    assert {i.code for i in err.value.issues} == {"trailing-data"}
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_zip64_end_records_for_many_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipwrite, "_ZIP64_COUNT", 3)  # pretend 3 entries overflow the 16-bit count
    out = tmp_path / "x.hsi"
    with ContainerWriter(out) as w:
        for i in range(4):
            w.add_bytes(f"m{i}", b"x")
    s = read_zip_structure(out)
    assert s.zip64 and s.issues == ()
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None


def test_close_is_idempotent(tmp_path: Path) -> None:
    w = ContainerWriter(tmp_path / "x.hsi")
    w.add_bytes("a", b"x")
    w.close()
    w.close()
    w.abort()
    assert (tmp_path / "x.hsi").exists()


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel-copy", "buffered"])
@pytest.mark.parametrize("size", [70_000, 9 << 20], ids=["inline", "worker"])
def test_sha256_of_a_member_is_that_of_its_bytes_as_landed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          kernel: bool, size: int) -> None:
    from hsi_conform import _copy
    from hsi_conform._copy import FileSpan

    monkeypatch.setattr(_copy, "_HAS_KERNEL_COPY", kernel and hasattr(os, "copy_file_range"))
    data = os.urandom(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    with ContainerWriter(tmp_path / "o.hsi") as w, open(src, "rb") as f:
        spanned = w.add_stream("a.envi", [FileSpan(f.fileno(), 0, size, str(src))], size, sha256=True)
        viewed = w.add_stream("b.bin", [data[:1000], memoryview(data)[1000:]], size, sha256=True)
        plain = w.add_stream("c.bin", [data], size)
    assert spanned.sha256 == viewed.sha256 == hashlib.sha256(data).hexdigest()
    assert plain.sha256 is None
    with zipfile.ZipFile(tmp_path / "o.hsi") as z:
        assert z.read("a.envi") == z.read("b.bin") == data


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel-copy", "buffered"])
def test_sha256_of_views_and_ranges_mixed_keeps_their_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            kernel: bool) -> None:
    # The digest of ranges runs in a worker of its own, that of views beside the CRC's: the order must hold.
    from hsi_conform import _copy
    from hsi_conform._copy import BLOCK, FileSpan

    monkeypatch.setattr(_copy, "_HAS_KERNEL_COPY", kernel and hasattr(os, "copy_file_range"))
    data = os.urandom(3 * BLOCK + 5000)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    cut = [0, 1000, BLOCK + 77, BLOCK + 5000, 2 * BLOCK + 3, len(data)]
    with ContainerWriter(tmp_path / "o.hsi") as w, open(src, "rb") as f:
        pieces = [FileSpan(f.fileno(), a, b - a, str(src)) if i % 2 else memoryview(data)[a:b]
                  for i, (a, b) in enumerate(itertools.pairwise(cut))]
        mixed = w.add_stream("m.bin", pieces, len(data), sha256=True)
    assert mixed.sha256 == hashlib.sha256(data).hexdigest()
    assert mixed.crc == zlib.crc32(data)
    with zipfile.ZipFile(tmp_path / "o.hsi") as z:
        assert z.read("m.bin") == data
