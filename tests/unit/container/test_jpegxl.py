"""The JPEG-XL profile's building blocks (spec/jpegxl.md): codestream headers, the index, the encoder, the lazy cube."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import imagecodecs
import numpy as np
import pytest

import hsi_conform
from hsi_conform.container.jpegxl import JpegXlArray, decode_codestream, decoded_copy, encode_cube
from hsi_conform.container.jxl_codestream import bare_codestream, read_codestream_header
from hsi_conform.container.jxl_index import MAX_GROUP, JxlIndex, grid
from hsi_conform.container.layout import CubeLayout, as_interleave
from hsi_conform.converters import convert
from hsi_conform.errors import ContainerError, DatasetError, MissingDependencyError
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.members import CUBE_DATA, CUBE_INDEX
from hsi_conform.testing.samples import write_members, write_sample_container
from tests._http import RangeServer

RNG = np.random.default_rng(20261207)


def _layout(bsq_shape: tuple[int, int, int], dtype: np.dtype, interleave: Interleave) -> CubeLayout:
    bands, lines, samples = bsq_shape
    return CubeLayout(lines=lines, samples=samples, bands=bands, data_type=DataType.from_dtype(dtype),
                      byte_order=ByteOrder.BIG if dtype.byteorder == ">" else ByteOrder.LITTLE,
                      interleave=interleave, header_offset=0)


def _encoded(bsq: np.ndarray, interleave: Interleave, **settings: int) -> tuple[JpegXlArray, bytes, list[int]]:
    """Encode a cube; return its lazy array, the codestream bytes, and the offsets every read asked for."""
    cube = np.ascontiguousarray(as_interleave(bsq, Interleave.BSQ, interleave))
    encoded = encode_cube(cube, interleave, **settings)
    data = b"".join(encoded.chunks())
    encoded.close()
    reads: list[int] = []

    def read_at(offset: int, size: int) -> bytes:
        reads.append(offset)
        return data[offset : offset + size]

    return JpegXlArray(read_at, encoded.index, _layout(bsq.shape, cube.dtype, interleave), "test"), data, reads


@pytest.mark.parametrize("seed", range(12))
def test_codestream_header_matches_what_libjxl_wrote(seed: int) -> None:
    rng = np.random.default_rng(seed)
    channels = int(rng.integers(1, 9))
    height, width = (int(n) for n in rng.integers(1, 600, 2))
    if seed % 3 == 0:
        width = height if seed % 2 else 2 * height  # the fixed aspect ratios
    if seed % 4 == 1:
        height, width = 8 * int(rng.integers(1, 32)), 8 * int(rng.integers(1, 32))  # the small form
    dtype = np.uint8 if seed % 2 else np.uint16
    image = rng.integers(0, 200, (channels, height, width)).astype(dtype)
    stream = bare_codestream(imagecodecs.jpegxl_encode(image, lossless=True, effort=1, planar=True))
    head = read_codestream_header(stream[:128])
    assert (head.width, head.height, head.channels, head.bits, head.floating) == (
        width, height, channels, 8 * image.itemsize, False)
    assert np.array_equal(imagecodecs.jpegxl_decode(stream).reshape(image.shape), image)


def test_codestream_header_refuses_what_is_not_one() -> None:
    with pytest.raises(ValueError, match="signature"):
        read_codestream_header(b"\x00\x00" + bytes(20))
    with pytest.raises(ValueError, match="truncated"):
        read_codestream_header(b"\xff\x0a\x00")
    with pytest.raises(ValueError, match="not a JPEG-XL"):
        bare_codestream(b"GIF89a")


def test_libjxl_wraps_many_channels_in_a_container_that_is_unwrapped() -> None:
    image = np.zeros((6, 8, 8), dtype=np.uint16)
    wrapped = imagecodecs.jpegxl_encode(image, lossless=True, effort=1, planar=True)
    assert wrapped[:2] != b"\xff\x0a"  # level 10: the ISOBMFF container
    assert bare_codestream(wrapped)[:2] == b"\xff\x0a"


def test_index_round_trips_through_json_and_lays_out_the_grid() -> None:
    array, data, _ = _encoded(RNG.integers(0, 4000, (10, 9, 7)).astype("<u2"), Interleave.BIL, group=4, tile=5)
    index = array.index
    assert JxlIndex.from_json(index.to_json()) == index
    assert [c.box for c in index.codestreams] == grid(9, 7, 10, 4, (5, 5))
    assert len(index.codestreams) == 3 * 2 * 2
    assert index.problems(array.layout, data_size=len(data)) == []


@pytest.mark.parametrize(("edit", "message"), [
    (lambda i: dataclasses.replace(i, bands=11), "bands is 11 in the index, 10 in data.hdr"),
    (lambda i: dataclasses.replace(i, group=3), "not the grid of band group 3"),
    (lambda i: dataclasses.replace(i, codestreams=i.codestreams[:-1]), "not the grid"),
    (lambda i: dataclasses.replace(i, codestreams=(dataclasses.replace(i.codestreams[0], offset=1),
                                                   *i.codestreams[1:])), "codestream 0 starts at byte 1"),
])
def test_index_problems_name_the_disagreement(edit: object, message: str) -> None:
    array, data, _ = _encoded(RNG.integers(0, 4000, (10, 9, 7)).astype("<u2"), Interleave.BSQ, group=4, tile=5)
    problems = edit(array.index).problems(array.layout, data_size=len(data))  # type: ignore[operator]
    assert any(message in p for p in problems), problems


def test_index_problems_check_the_member_size_and_the_header_offset() -> None:
    array, data, _ = _encoded(RNG.integers(0, 4000, (3, 4, 5)).astype("<u2"), Interleave.BSQ)
    assert array.index.problems(array.layout, data_size=len(data) + 1) == [
        f"the codestreams end at byte {len(data)}, data.envi holds {len(data) + 1}"]
    shifted = dataclasses.replace(array.layout, header_offset=4)
    assert "header offset is 4: a JPEG-XL cube has none" in array.index.problems(shifted, data_size=len(data))


_HEAD = (b'{"format": "hsi-jpegxl", "version": 1, "lines": 1, "samples": 1, "bands": 1, "data type": 12, '
         b'"byte order": 0, "band group": 1, "tile": [1, 1], ')


@pytest.mark.parametrize(("text", "message"), [
    (b"[1, 2]", "not a JSON object"),
    (b"\xff", "not UTF-8 JSON"),
    (b'{"format": "other", "version": 1}', "expected 'hsi-jpegxl'"),
    (b'{"format": "hsi-jpegxl", "version": 1, "tile": [1, 1], "codestreams": []}', "non-empty list"),
    (_HEAD + b'"codestreams": [{"offset": 0, "bands": [0, 1], "lines": [0, 1], "samples": [0, 1]}]}',
     "codestream 0: 'size'"),
    (_HEAD + b'"codestreams": [{"offset": 0, "size": 9, "bands": [0, 1], "lines": [0], "samples": [0, 1]}]}',
     "codestream 0: 'lines' is not"),
])
def test_index_refuses_malformed_json(text: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        JxlIndex.from_json(text)


@pytest.mark.parametrize("interleave", list(Interleave))
@pytest.mark.parametrize("dtype", ["<u2", ">u2", "u1"])
def test_decoded_cube_is_byte_identical_and_indexes_like_the_memmap(interleave: Interleave, dtype: str) -> None:
    bsq = RNG.integers(0, 250 if dtype == "u1" else 60000, (21, 13, 17)).astype(dtype)
    array, _, _ = _encoded(bsq, interleave, group=8, tile=6, effort=1)
    cube = np.ascontiguousarray(as_interleave(bsq, Interleave.BSQ, interleave))
    assert (array.shape, array.dtype) == (cube.shape, cube.dtype)
    assert np.asarray(array).tobytes() == cube.tobytes()
    assert decoded_copy(array).tobytes() == cube.tobytes()
    view = as_interleave(array, interleave, Interleave.BSQ)
    for key in (5, (slice(3, 20, 4), 2, slice(None, None, -3)), ([1, 17], slice(5, 9)), (..., 16), (-1, -1, -1)):
        assert np.array_equal(view[key], bsq[key]), key
    assert np.array_equal(view.decoded(), bsq)


def test_a_band_decodes_only_its_group() -> None:
    bsq = RNG.integers(0, 4000, (40, 12, 10)).astype("<u2")
    array, _, reads = _encoded(bsq, Interleave.BIP, group=16, tile=64)
    band = as_interleave(array, Interleave.BIP, Interleave.BSQ)[20]
    assert np.array_equal(band, bsq[20])
    assert reads == [array.index.codestreams[1].offset]  # bands 16-31, nothing else
    as_interleave(array, Interleave.BIP, Interleave.BSQ)[25]
    assert len(reads) == 1  # the decoded group is kept


def test_a_window_decodes_only_its_tiles() -> None:
    bsq = RNG.integers(0, 4000, (4, 20, 20)).astype("<u2")
    array, _, reads = _encoded(bsq, Interleave.BSQ, tile=8)
    assert np.array_equal(array[:, 9:11, 17:19], bsq[:, 9:11, 17:19])
    tile = next(i for i, c in enumerate(array.index.codestreams) if (c.line, c.sample) == (8, 16))
    assert reads == [array.index.codestreams[tile].offset]


@pytest.mark.parametrize(("dtype", "settings", "message"), [
    ("<f4", {}, "holds data type 1 .uint8., 12 .uint16., not 4 .float32."),
    ("<i2", {}, "not 2 .int16."),
    ("<u2", {"group": MAX_GROUP + 1}, "band group must be 1..257"),
    ("<u2", {"effort": 0}, "effort 1..9"),
])
def test_encoder_refuses_what_it_cannot_store_exactly(dtype: str, settings: dict[str, int], message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        encode_cube(np.zeros((2, 3, 4), dtype=dtype), Interleave.BSQ, **settings)


def test_a_damaged_codestream_or_crc_is_a_container_error() -> None:
    array, data, _ = _encoded(RNG.integers(0, 4000, (3, 4, 5)).astype("<u2"), Interleave.BSQ)
    stream = array.index.codestreams[0]
    with pytest.raises(ContainerError, match="does not decode"):
        decode_codestream(data[:20] + bytes(len(data) - 20), stream, array.dtype)
    wrong = dataclasses.replace(stream, crc32=(stream.crc32 or 0) ^ 1)
    with pytest.raises(ContainerError, match="CRC-32"):
        decode_codestream(data, wrong, array.dtype, check_crc=True)
    assert decode_codestream(data, wrong, array.dtype).shape == (3, 4, 5)  # unchecked without check_crc


def test_without_imagecodecs_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "imagecodecs", None)  # what `import imagecodecs` sees when it is missing
    with pytest.raises(MissingDependencyError, match=r"pip install 'hsi-conform\[jpegxl\]'"):
        encode_cube(np.zeros((2, 3, 4), dtype="<u2"), Interleave.BSQ)


def test_a_compressed_container_opens_lazily_and_converts_back_byte_for_byte(tmp_path: Path) -> None:
    source = write_sample_container(tmp_path / "s.hsi", lines=20, samples=14, bands=70)
    packed = convert(source, tmp_path / "j.hsi", compression="jpegxl", band_group=32, tile=8)
    plain = convert(packed, tmp_path / "p.hsi", compression="none")
    kept = convert(packed, tmp_path / "k.hsi")  # compression=auto: as the source
    with hsi_conform.open(source) as s, hsi_conform.open(packed) as j, hsi_conform.open(plain) as p:
        assert isinstance(j.cube, JpegXlArray) and j.header.value("file type") == "JPEGXL"
        assert "70 bands, uint16, bil" in repr(j)
        assert np.array_equal(j.read_band(40), s.read_band(40))
        assert np.array_equal(j.read_spectrum(19, 13), s.read_spectrum(19, 13))
        assert p.names == s.names and all(p[name] == s[name] for name in s)
        assert j[CUBE_DATA] != s[CUBE_DATA] and len(j[CUBE_DATA]) < len(s[CUBE_DATA])
    with hsi_conform.open(kept) as k:
        assert isinstance(k.cube, JpegXlArray)


def test_a_container_without_its_index_refuses_the_cube_only(tmp_path: Path) -> None:
    packed = convert(write_sample_container(tmp_path / "s.hsi"), tmp_path / "j.hsi", compression="jpegxl")
    with hsi_conform.open(packed) as j:
        members = {name: j[name] for name in j if name != CUBE_INDEX}
    broken = write_members(tmp_path / "broken.hsi", members)
    with hsi_conform.open(broken) as c:
        assert c.layout.bands == 10  # the header still reads
        with pytest.raises(ContainerError, match=r"data\.jxl\.json is missing"):
            c.cube  # noqa: B018


def test_a_remote_compressed_container_fetches_only_the_codestreams_it_decodes(tmp_path: Path,
                                                                               http_server: RangeServer) -> None:
    source = write_sample_container(tmp_path / "s.hsi", lines=160, samples=160, bands=60)
    packed = convert(source, tmp_path / "j.hsi", compression="jpegxl", band_group=20, thumbnail=False)
    url = http_server.serve(packed, "/jxl/j.hsi")
    with hsi_conform.open(url) as remote, hsi_conform.open(source) as local:
        cube = remote.cube
        assert isinstance(cube, JpegXlArray)
        before = http_server.stats(url).bytes
        assert np.array_equal(remote.bsq()[45], local.bsq()[45])
        fetched = http_server.stats(url).bytes - before
        group = cube.index.codestreams[2]  # bands 40-59
        others = sum(c.size for c in cube.index.codestreams[:2])
        assert group.size <= fetched < group.size + others // 2, (fetched, group.size, others)
