from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.cli.convert import parse_options
from hsi_conform.cli.main import main
from hsi_conform.errors import ConfigError
from hsi_conform.testing.samples import write_sample_container
from tests._support import member_digests


def test_convert_to_envi_and_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    assert main(["convert", str(src), str(tmp_path / "x.hdr")]) == 0
    assert (tmp_path / "x.img").is_file() and (tmp_path / "x.hsi.d").is_dir()
    assert main(["convert", str(tmp_path / "x.img"), str(tmp_path / "back.hsi")]) == 0
    assert member_digests(tmp_path / "back.hsi") == member_digests(src)
    assert main(["convert", str(tmp_path / "x.hdr"), str(tmp_path / "y"), "--from", "envi", "--to", "hsi"]) == 0
    assert member_digests(tmp_path / "y") == member_digests(src)
    assert "envi" in capsys.readouterr().out


def test_writer_options_pass_through(tmp_path: Path) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    assert main(["convert", str(src), str(tmp_path / "x.hdr"), "--option", "sidecar=false"]) == 0
    assert not (tmp_path / "x.hsi.d").exists()
    assert main(["convert", str(src), str(tmp_path / "z.hdr"), "--option", "nonsense=1"]) == 2


def test_legacy_quantisation_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    cube = np.linspace(-0.1, 1.1, 60, dtype="<f4")
    (folder / "r.dat").write_bytes(cube.tobytes())
    (folder / "r.hdr").write_text("ENVI\nsamples = 5\nlines = 4\nbands = 3\nheader offset = 0\n"
                                  "file type = ENVI Standard\ndata type = 4\ninterleave = bsq\nbyte order = 0\n"
                                  "wavelength units = nm\nwavelength = {400, 500, 600}\n")
    assert main(["convert", str(folder), str(tmp_path / "q.hsi"), "--option", "quantize=int16"]) == 0
    c = hsi_conform.open(tmp_path / "q.hsi")
    scale = c.header.value("reflectance scale factor")
    assert np.abs(np.asarray(c.cube).ravel() / scale - cube).max() <= 0.5 / scale * (1 + 1e-6)
    assert "Metadata/legacy/r.hdr" in c
    assert capsys.readouterr().out.count("note:") >= 2
    cube[7] = np.nan
    (folder / "r.dat").write_bytes(cube.tobytes())
    assert main(["convert", str(folder), str(tmp_path / "n.hsi"), "--option", "quantize=int16"]) == 3
    assert not (tmp_path / "n.hsi").exists()


def test_usage_and_input_errors(tmp_path: Path) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    assert main(["convert", str(src), str(tmp_path / "x.out"), "--to", "nosuchformat"]) == 2
    assert main(["convert", str(src), str(tmp_path / "x.out"), "--option", "novalue"]) == 2
    assert main(["convert", str(tmp_path / "missing.hdr"), str(tmp_path / "x.hsi")]) == 3
    (tmp_path / "junk.bin").write_bytes(b"junk")
    assert main(["convert", str(tmp_path / "junk.bin"), str(tmp_path / "x.hsi")]) == 3
    with pytest.raises(ConfigError):
        parse_options(["=x"])
    assert parse_options(["a=1", "b = two"]) == {"a": "1", "b": "two"}


def test_a_nonconformant_output_exits_1_naming_its_rules(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.img").write_bytes(bytes(61))  # one byte after the cube
    (tmp_path / "x.hdr").write_text("ENVI\nsamples = 5\nlines = 4\nbands = 3\nheader offset = 0\n"
                                    "file type = ENVI Standard\ndata type = 1\ninterleave = bsq\nbyte order = 0\n")
    assert main(["convert", str(tmp_path / "x.hdr"), str(tmp_path / "x.hsi")]) == 1
    assert (tmp_path / "x.hsi").is_file()
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert {words[1] for words in lines if words[0] == "error"} == {"FLD001", "XRF002"}


def test_formats_lists_the_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["formats"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert {"envi", "hsi", "legacy"} <= set(names)


def test_migrate_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src").mkdir()
    write_sample_container(tmp_path / "src" / "a.hsi")
    assert main(["migrate", str(tmp_path / "src"), str(tmp_path / "dst")]) == 0
    assert (tmp_path / "dst" / "a.hsi").is_file()
    assert "1 ok" in capsys.readouterr().out
