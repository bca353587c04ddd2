"""``hsi-conform previews``: exit codes, a conformant DST, every other member byte-identical."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.cli.previews import parse_bands, parse_lods
from hsi_conform.container.thumbnail import image_view
from hsi_conform.errors import ConfigError
from hsi_conform.testing.scene import SceneSpec, write_scene
from tests._support import CliRunner, member_digests
from tests.unit.pipeline._reference import reduce_image


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scene(tmp_path_factory.mktemp("scene") / "scene.hsi", SceneSpec(lines=300, samples=20, bands=4))


def is_preview(name: str) -> bool:
    return "/" not in name and name.startswith("preview")


def test_previews_writes_every_level_and_keeps_the_rest(cli: CliRunner, scene: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dst.hsi"
    run = cli(["previews", scene, dst, "--lods", "2,3"])
    assert run.code == 0, run.out + run.err
    before, after = member_digests(scene), member_digests(dst)
    assert {n: d for n, d in before.items() if not is_preview(n)} == {n: d for n, d in after.items()
                                                                     if not is_preview(n)}
    with hsi_conform.open(scene) as s, hsi_conform.open(dst) as d:
        assert sorted(d.previews) == ["", "2", "3"]
        assert d.preview("").shape[0] == 100  # 300 lines: the coarsest level is factor 3 (<= 256 and >= 3)
        image = image_view(np.asarray(s.cube), s.layout.interleave)
        got = image_view(np.asarray(d.preview("2")), d.layout.interleave)
        np.testing.assert_array_equal(got, reduce_image(image, 2))
    assert hsi_conform.check(dst, content="full").conformant


def test_default_lods_and_bands(cli: CliRunner, scene: Path, tmp_path: Path) -> None:
    assert cli(["previews", scene, tmp_path / "a.hsi"]).code == 0
    with hsi_conform.open(tmp_path / "a.hsi") as c:
        assert sorted(c.previews) == ["", "2", "4", "8"]
    assert cli(["previews", scene, tmp_path / "b.hsi", "--lods", "", "--bands", "rgb", "--kind", "mode"]).code == 0
    with hsi_conform.open(tmp_path / "b.hsi") as c:
        assert c.previews == ("",) and c.read_header("preview.hdr").value("bands") <= 3  # display bands, each once
    assert cli(["previews", scene, tmp_path / "c.hsi", "--lods", "2", "--bands", "4, 1"]).code == 0
    with hsi_conform.open(tmp_path / "c.hsi") as c:
        assert c.read_header("preview_2.hdr").value("bands") == 2


@pytest.mark.parametrize("args", [
    ["--lods", "0"], ["--lods", "2,x"], ["--lods", "-2"], ["--bands", "0"], ["--bands", "5"], ["--bands", ","],
    ["--bands", "red"], ["--kind", "median"],
])
def test_bad_arguments_exit_2_and_write_nothing(cli: CliRunner, scene: Path, tmp_path: Path,
                                                args: list[str]) -> None:
    run = cli(["previews", scene, tmp_path / "dst.hsi", *args])
    assert run.code == 2, run.out + run.err
    assert not (tmp_path / "dst.hsi").exists()
    assert "Traceback" not in run.err


def test_the_source_is_never_the_destination_and_must_exist(cli: CliRunner, scene: Path, tmp_path: Path) -> None:
    assert cli(["previews", scene, scene]).code == 2
    assert cli(["previews", tmp_path / "missing.hsi", tmp_path / "dst.hsi"]).code == 3


def test_a_nonconformant_source_is_refused_unless_allowed(cli: CliRunner, tmp_path: Path) -> None:
    src = hsi_conform.write_container(tmp_path / "src.hsi", np.ones((2, 6, 6), "<u2"))  # no wavelength: FLD001
    refused = cli(["previews", src, tmp_path / "dst.hsi"])
    assert refused.code == 1 and "FLD001" in refused.out
    assert not (tmp_path / "dst.hsi").exists()
    allowed = cli(["previews", src, tmp_path / "dst.hsi", "--allow-nonconformant"])
    assert allowed.code == 1 and "FLD001" in allowed.out  # DST is validated: it lacks wavelength too
    with hsi_conform.open(tmp_path / "dst.hsi") as c:
        assert sorted(c.previews) == ["", "2", "4", "8"]


def test_option_parsers() -> None:
    assert parse_lods("2, 4,8") == [2, 4, 8] and parse_lods("") == []
    assert parse_bands(None) is None and parse_bands(" RGB ") == "rgb" and parse_bands("3,1") == [3, 1]
    for bad in ("1.5", "two", "0"):
        with pytest.raises(ConfigError):
            parse_lods(bad)
    with pytest.raises(ConfigError):
        parse_bands("")
