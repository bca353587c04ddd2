"""``formats`` shows what each converter reads, writes, needs and takes; ``--option`` values are typed and an option
without effect is refused (issue 20, item 7; spec/cli-tools.md#formats)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hsi_conform import _docs, converters
from hsi_conform.errors import ConfigError
from hsi_conform.testing.samples import write_sample_container
from tests._process import run_cli


def test_formats_shows_read_write_suffixes_extra_and_typed_options() -> None:
    run = run_cli("formats")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    head = {line.split()[0]: line for line in lines if line[:1] != " "}
    assert set(head) == set(converters.registered())
    assert "read only" in head["legacy"] and "read, write" in head["hsi"]
    assert "suffixes .h5 .hdf5" in head["hdf5"] and "[hdf5]" in head["hdf5"] and "core" in head["envi"]
    assert any("write level=none  (integer or none; only when compression is set)" in line for line in lines)
    assert any("write chunks=auto  (auto, none or BANDS,LINES,SAMPLES)" in line for line in lines)


def test_formats_name_and_json() -> None:
    run = run_cli("formats", "--format", "json", "hdf5")
    assert run.returncode == 0, run.stderr
    (hdf5,) = json.loads(run.stdout)
    assert (hdf5["name"], hdf5["read"], hdf5["write"], hdf5["extra"]) == ("hdf5", True, True, "hdf5")
    options = {o["name"]: o for o in hdf5["options"]}
    assert options["level"] == {"name": "level", "side": "write", "type": "integer or none", "default": "none",
                                "choices": [], "needs": ["compression is set"],
                                "help": converters.get_converter("hdf5").write_options["level"].help}
    assert options["compression"]["choices"] == ["gzip", "zstd", "blosc"]
    text = run_cli("formats", "hdf5").stdout
    assert text.startswith("hdf5 ") and "tiff" not in text


def test_an_unknown_format_name_is_a_usage_error_with_a_suggestion() -> None:
    run = run_cli("formats", "hdf55")
    assert run.returncode == 2 and "did you mean hdf5?" in run.stderr and not run.stdout


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_container(tmp_path_factory.mktemp("formats") / "s.hsi")


def test_option_values_are_parsed_by_their_declared_type(source: Path, tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    chunked, contiguous = tmp_path / "chunked.h5", tmp_path / "contiguous.h5"
    assert run_cli("convert", source, chunked, "--option", "chunks=4,8,6").returncode == 0
    assert run_cli("convert", source, contiguous, "--option", "chunks=none").returncode == 0
    with h5py.File(chunked) as a, h5py.File(contiguous) as b:
        assert a["envi/data/cube"].chunks == (4, 8, 6) and b["envi/data/cube"].chunks is None


@pytest.mark.parametrize(("options", "message"), [
    (["level=6"], "hdf5 writer option level=6 has no effect unless compression is set (it is none)"),
    (["compression=gzip", "chunks=none"], "option compression=gzip has no effect unless chunks is set (it is none)"),
])
def test_an_option_without_effect_is_a_usage_error_saying_why(source: Path, tmp_path: Path, options: list[str],
                                                              message: str) -> None:
    pytest.importorskip("h5py")
    run = run_cli("convert", source, tmp_path / "x.h5", *(a for o in options for a in ("--option", o)))
    assert run.returncode == 2 and message in run.stderr, run.stderr
    assert not (tmp_path / "x.h5").exists()


def test_tiff_options_need_their_profile(source: Path, tmp_path: Path) -> None:
    pytest.importorskip("tifffile")
    run = run_cli("convert", source, tmp_path / "x.tif", "--option", "profile=imagej", "--option", "compression=zlib")
    assert run.returncode == 2 and "unless profile is gdal (it is imagej)" in run.stderr
    with pytest.raises(ConfigError, match="unless profile is imagej"):
        converters.convert(source, tmp_path / "y.tif", lossy=True)  # the Python API says the same


def test_readme_option_table_is_generated_from_the_declarations() -> None:
    text = (_docs.ROOT / "README.md").read_text(encoding="utf-8")
    table = _docs.format_option_table()
    assert table in text
    tampered = text.replace("| `tiff` | write | `level` | `none` |", "| `tiff` | write | `level` | `6` |")
    assert tampered != text and _docs.readme(tampered) == text
