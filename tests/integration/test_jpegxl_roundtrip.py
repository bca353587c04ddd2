"""Compressed round trips (spec/jpegxl.md#converting): every uint8/uint16 container of the golden corpus and every
third-party cube of those types, compressed to JPEG-XL and back, comes back byte for byte; the decoded cube in
between equals the source cube. The whole set is slow; a seeded subset runs every time."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np
import pytest

from hsi_conform.cli.main import main
from hsi_conform.container.jpegxl import JpegXlArray
from hsi_conform.container.jxl_index import is_jpegxl
from hsi_conform.container.opening import open_container
from hsi_conform.converters import convert
from hsi_conform.corpus.golden import Case, build_input, load_cases
from hsi_conform.corpus.thirdparty import Dataset, load_datasets
from hsi_conform.errors import DatasetError
from hsi_conform.fields import DataType
from hsi_conform.members import CUBE_DATA, SOURCE_REPORT
from hsi_conform.validate import CheckOptions, Content, check
from tests._paths import FIXTURES

_TYPES = (DataType.UINT8, DataType.UINT16)


def _golden() -> list[Case]:
    """The valid cases, one per distinct conformant uint8/uint16 cube and header (many share the sample)."""
    found, seen = [], set()
    for case in load_cases():
        if case.verdict != "valid":
            continue
        members = case.path / "expanded"
        key = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(members.rglob("*")) if p.is_file())
                             if members.is_dir() else case.id.encode()).hexdigest()
        if key not in seen:
            seen.add(key)
            found.append(case)
    return found


GOLDEN = _golden()
FAST = set(random.Random(17).sample([c.id for c in GOLDEN], 5))
THIRD_PARTY = [d for d in load_datasets(FIXTURES / "third-party") if d.imports]


def _findings(path: Path) -> list[str]:
    return sorted(f.rule for f in check(path, options=CheckOptions(content=Content.FULL)).findings)


def _members(path: Path) -> dict[str, bytes]:
    with open_container(path) as c:
        return {name: c[name] for name in c.names if not name.endswith("/") and name != SOURCE_REPORT}


def _round_trip(source: Path, tmp_path: Path) -> None:
    """Compress ``source`` and decompress it again: the cube decodes exactly, the members come back unchanged.

    A nonconformant source (an import of a third-party file lacking D4.1 fields) is converted anyway; its report
    member is left out of the comparison, and the compressed container may have no finding the source lacks
    (but XRF020: tiles of 8 x 8 pixels keep every codestream small enough for its headers to dominate).
    """
    with open_container(source) as plain:
        if plain.layout.data_type not in _TYPES:
            pytest.skip(f"data type {int(plain.layout.data_type)} is not compressed (spec/jpegxl.md#data-types)")
        compressed = is_jpegxl(plain.header)
    if compressed:  # one of the profile's own fixtures: start from its decoded form
        source = convert(source, tmp_path / "plain.hsi", compression="none", thumbnail=False)
    with open_container(source) as plain:
        cube = np.asarray(plain.cube).tobytes()
        extra = plain.info(CUBE_DATA).size != len(cube)  # a header offset or trailing bytes
    before, members = _findings(source), _members(source)
    settings = {"compression": "jpegxl", "tile": 8, "band_group": 3, "thumbnail": False}
    if extra:  # refused: the codestreams cannot hold the other bytes (spec/jpegxl.md#converting)
        with pytest.raises(DatasetError, match="holds more than the cube"):
            convert(source, tmp_path / "packed.hsi", allow_nonconformant=True, **settings)
        return
    packed = convert(source, tmp_path / "packed.hsi", allow_nonconformant=True, **settings)
    with open_container(packed) as jxl:
        assert isinstance(jxl.cube, JpegXlArray)
        assert np.asarray(jxl.cube).tobytes() == cube
    # XRF020 is expected of a cube of a few hundred pixels cut in 8 x 8 tiles: codestream headers dominate.
    assert [rule for rule in _findings(packed) if rule != "XRF020"] == before
    back = convert(packed, tmp_path / "back.hsi", compression="none", thumbnail=False, allow_nonconformant=True)
    assert _members(back) == members


@pytest.mark.parametrize("case", [pytest.param(c, marks=() if c.id in FAST else pytest.mark.slow, id=c.id)
                                  for c in GOLDEN])
def test_golden_containers_round_trip_byte_for_byte(case: Case, tmp_path: Path) -> None:
    work = tmp_path / "input"
    work.mkdir()
    _round_trip(build_input(case, work), tmp_path)


@pytest.mark.parametrize("dataset", THIRD_PARTY, ids=[d.name for d in THIRD_PARTY])
def test_third_party_cubes_round_trip_byte_for_byte(dataset: Dataset, tmp_path: Path) -> None:
    source = tmp_path / "source.hsi"
    assert main(["convert", str(dataset.header_path), str(source)]) in (0, 1)  # 1: written, nonconformant
    _round_trip(source, tmp_path)


def test_a_float_cube_is_refused_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "float.hsi"
    assert main(["convert", str(FIXTURES / "third-party" / "gdal-float32" / "float32.hdr"), str(source)]) in (0, 1)
    code = main(["convert", str(source), str(tmp_path / "packed.hsi"), "--option", "compression=jpegxl",
                 "--allow-nonconformant"])
    assert code != 0 and not (tmp_path / "packed.hsi").exists()
    assert "spec/jpegxl.md#data-types" in capsys.readouterr().err


def test_readers_without_the_profile_fail_instead_of_misreading(tmp_path: Path) -> None:
    """spec/jpegxl.md#other-readers: GDAL refuses the file, SPy cannot read the pixels."""
    import rasterio
    import spectral.io.envi as envi
    from rasterio.errors import RasterioIOError

    from hsi_conform.testing.samples import write_sample_container

    packed = convert(write_sample_container(tmp_path / "s.hsi", lines=32, samples=24, bands=20),
                     tmp_path / "j.hsi", compression="jpegxl")
    with pytest.raises(RasterioIOError, match="Failed to re-open"):
        rasterio.open(f"/vsizip/{{{packed.resolve()}}}/{CUBE_DATA}")
    pair = tmp_path / "pair"
    pair.mkdir()
    with open_container(packed) as c:
        (pair / "data.hdr").write_bytes(c["data.hdr"])
        (pair / "data.envi").write_bytes(c[CUBE_DATA])
    image = envi.open(str(pair / "data.hdr"), str(pair / "data.envi"))
    with pytest.raises(EOFError):
        image.load()
    with pytest.raises(EOFError):
        image.read_band(0)


def test_without_the_codec_full_is_no_verdict_and_the_other_tiers_still_run(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from hsi_conform.errors import MissingDependencyError
    from hsi_conform.testing.scene import write_scene
    from hsi_conform.validate.batch import check_many
    from hsi_conform.validate.engine import Policy

    plain = write_scene(tmp_path / "plain.hsi")
    packed = tmp_path / "packed.hsi"
    convert(plain, packed, compression="jpegxl")
    monkeypatch.setitem(__import__("sys").modules, "imagecodecs", None)  # what a bare install has: no module
    assert check(packed, content="crc").conformant  # index and codestream headers need no codec
    with pytest.raises(MissingDependencyError, match=r"hsi-conform\[jpegxl\]"):
        check(packed, content="full")
    [report] = check_many([(packed, Policy())], CheckOptions(content=Content.FULL))
    assert report.input_error is not None and "hsi-conform[jpegxl]" in report.input_error
    assert not report.conformant
