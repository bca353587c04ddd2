"""Every conversion to ``.hsi`` writes a thumbnail rendered from its cube, or keeps the source's
(spec/previews.md#writers); ``--no-thumbnail`` on ``convert``, ``migrate`` and ``sample``; the kit's thumbnails
are real and deterministic."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.container.thumbnail import thumbnail_for
from hsi_conform.converters import convert, run_conversion
from hsi_conform.errors import ExitCode, UnknownOptionError
from hsi_conform.testing.samples import jpeg_image, sample_members, write_members
from hsi_conform.testing.scene import SceneSpec, scene_members
from tests._support import CliRunner

HDR = ("ENVI\nsamples = 5\nlines = 4\nbands = 3\nheader offset = 0\nfile type = ENVI Standard\ndata type = 12\n"
       "interleave = bil\nbyte order = 0\nwavelength units = nm\nwavelength = {450, 550, 650}\n")


def envi_pair(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scene.img").write_bytes(np.arange(60, dtype="<u2").tobytes())
    (folder / "scene.hdr").write_text(HDR)
    return folder / "scene.hdr"


def without_thumbnail(path: Path) -> Path:
    members = sample_members()
    del members["thumbnail.jpg"]
    return write_members(path, members)


def assert_rendered(path: Path) -> None:
    """``thumbnail.jpg`` follows ``data.envi`` and is the one rendered from the container's cube."""
    with hsi_conform.open(path) as c:
        names = list(c.names)
        assert names[names.index("data.envi") + 1] == "thumbnail.jpg"
        assert c.read_bytes("thumbnail.jpg") == thumbnail_for(c.header, c.cube)
    assert not [f for f in hsi_conform.check(path).findings if f.rule in ("XRF014", "XRF015", "XRF016")]


def names_of(path: Path) -> tuple[str, ...]:
    with hsi_conform.open(path) as c:
        return c.names


def test_an_import_gets_the_thumbnail_of_its_cube(tmp_path: Path) -> None:
    assert_rendered(convert(envi_pair(tmp_path / "in"), tmp_path / "out.hsi"))


def test_a_container_keeps_its_own_thumbnail_byte_for_byte(tmp_path: Path) -> None:
    members = sample_members() | {"thumbnail.jpg": jpeg_image(5, 7)}  # not the one a writer would render
    source = write_members(tmp_path / "s.hsi", members)
    for thumbnail in (True, False):
        with hsi_conform.open(convert(source, tmp_path / f"copy-{thumbnail}.hsi", thumbnail=thumbnail)) as c:
            assert c.names == tuple(members) and c.read_bytes("thumbnail.jpg") == members["thumbnail.jpg"]


def test_a_container_without_one_gets_one_unless_asked_not_to(tmp_path: Path) -> None:
    source = without_thumbnail(tmp_path / "s.hsi")
    assert_rendered(convert(source, tmp_path / "rendered.hsi"))
    assert "thumbnail.jpg" not in names_of(convert(source, tmp_path / "none.hsi", thumbnail="false"))


def test_through_hdf5_the_thumbnail_comes_back_or_is_rendered(tmp_path: Path) -> None:
    pytest.importorskip("h5py")
    source = write_members(tmp_path / "s.hsi", sample_members())
    back = convert(convert(source, tmp_path / "x.h5"), tmp_path / "back.hsi")
    with hsi_conform.open(source) as a, hsi_conform.open(back) as b:
        assert a.read_bytes("thumbnail.jpg") == b.read_bytes("thumbnail.jpg")
    bare = convert(without_thumbnail(tmp_path / "bare.hsi"), tmp_path / "bare.h5")
    assert_rendered(convert(bare, tmp_path / "bare-back.hsi"))


def test_a_cube_its_header_does_not_describe_gets_none_and_a_note(tmp_path: Path) -> None:
    members = sample_members()
    del members["thumbnail.jpg"]
    members["data.envi"] = members["data.envi"][:-10]  # nonconformant: converted only on request
    done = run_conversion(write_members(tmp_path / "short.hsi", members), tmp_path / "out.hsi",
                          allow_nonconformant=True)
    assert "thumbnail.jpg" not in names_of(done.written)
    assert any(note.startswith("no thumbnail.jpg written") for note in done.notes)


def test_convert_no_thumbnail(tmp_path: Path, cli: CliRunner) -> None:
    source = envi_pair(tmp_path / "in")
    assert cli(["convert", source, tmp_path / "a.hsi", "--no-thumbnail"]).code == ExitCode.OK
    assert names_of(tmp_path / "a.hsi") == ("data.hdr", "data.envi", "Metadata/scene.hdr")
    assert cli(["convert", source, tmp_path / "b.hsi"]).code == ExitCode.OK
    assert_rendered(tmp_path / "b.hsi")
    # the option of the hsi writer only: another destination does not take it
    assert cli(["convert", tmp_path / "b.hsi", tmp_path / "c.img", "--no-thumbnail"]).code == ExitCode.USAGE
    with pytest.raises(UnknownOptionError):
        convert(tmp_path / "b.hsi", tmp_path / "c.img", thumbnail=False)


def test_migrate_no_thumbnail(tmp_path: Path, cli: CliRunner) -> None:
    envi_pair(tmp_path / "tree" / "a")
    (tmp_path / "tree" / "c").mkdir()
    without_thumbnail(tmp_path / "tree" / "c" / "s.hsi")
    assert cli(["migrate", tmp_path / "tree", tmp_path / "none", "--no-thumbnail"]).code == ExitCode.OK
    assert cli(["migrate", tmp_path / "tree", tmp_path / "all"]).code == ExitCode.OK
    none, rendered = sorted((tmp_path / "none").rglob("*.hsi")), sorted((tmp_path / "all").rglob("*.hsi"))
    assert len(none) == len(rendered) == 2
    assert all("thumbnail.jpg" not in names_of(p) for p in none)
    for path in rendered:
        assert_rendered(path)


def test_sample_no_thumbnail(tmp_path: Path, cli: CliRunner) -> None:
    assert cli(["sample", tmp_path / "a.hsi", "--lines", "8", "--samples", "6", "--bands", "5"]).code == ExitCode.OK
    assert_rendered(tmp_path / "a.hsi")
    assert cli(["sample", tmp_path / "b.hsi", "--no-thumbnail"]).code == ExitCode.OK
    names = names_of(tmp_path / "b.hsi")
    assert "thumbnail.jpg" not in names and "preview.envi" in names


DIGESTS = """
import hashlib
from hsi_conform.testing.samples import sample_members
from hsi_conform.testing.scene import SceneSpec, scene_members
from hsi_conform.testing.generate import ContainerSpec, build_valid
for jpeg in (sample_members()["thumbnail.jpg"], scene_members(SceneSpec(lines=20, samples=16))["thumbnail.jpg"],
             build_valid(ContainerSpec(features=frozenset({"thumbnail"}))).member("thumbnail.jpg")):
    print(hashlib.sha256(jpeg).hexdigest())
"""


def test_the_kits_thumbnails_are_the_rendered_ones_and_the_same_in_every_process() -> None:
    from hsi_conform.testing.generate import ContainerSpec, build_valid

    sample = sample_members()
    scene = scene_members(SceneSpec(lines=20, samples=16))
    generated = build_valid(ContainerSpec(features=frozenset({"thumbnail"})))
    jpegs = [sample["thumbnail.jpg"], scene["thumbnail.jpg"], generated.member("thumbnail.jpg")]
    assert isinstance(scene["thumbnail.jpg"], bytes)
    assert jpegs[0] == thumbnail_for(hsi_conform.parse_header(sample["data.hdr"]),
                                     np.frombuffer(sample["data.envi"], "<u2").reshape(16, 10, 12))
    out = subprocess.run([sys.executable, "-c", DIGESTS], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [hashlib.sha256(j).hexdigest() for j in jpegs]
