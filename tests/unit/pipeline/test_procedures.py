"""The executor on real containers: results, the header and members of the output, errors (spec/procedures.md)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hsi_conform
from hsi_conform import apply_procedures
from hsi_conform.errors import (
    ExitCode,
    InapplicableProcedureError,
    InvalidArgumentError,
    OutputIsInputError,
    ProcedureError,
)
from hsi_conform.pipeline.procedures import write_procedures
from tests._support import assert_no_errors
from tests.unit.pipeline.procedure_helpers import MAP_INFO, scene_with

Cube = np.ndarray[Any, Any]


def _apply(path: Path, **kw: Any) -> Cube:
    with hsi_conform.open(path) as c:
        return apply_procedures(c, **kw)


def _bip(path: Path) -> Cube:
    with hsi_conform.open(path) as c:
        return np.array(c.bip())


def _write(path: Path, dest: Path, **kw: Any) -> Path:
    with hsi_conform.open(path) as c:
        return write_procedures(c, dest, **kw)


# -- results -----------------------------------------------------------------------------------------------------


def test_crop_and_turns_follow_numpy(tmp_path: Path) -> None:
    path = scene_with(tmp_path, ["crop:{4:40, 2:50, 3:20}", "rotate:clockwise", "rotate:swap-left-right"])
    x = _bip(path)[2:51, 4:41, 3:21]
    assert np.array_equal(_apply(path), np.rot90(x, k=-1, axes=(0, 1))[:, ::-1])


def test_no_procedures_give_a_copy_of_the_cube(tmp_path: Path) -> None:
    path = scene_with(tmp_path, [])
    with hsi_conform.open(path) as c:
        out = apply_procedures(c)
        assert np.array_equal(out, c.bip())
        assert out.flags.writeable and not np.shares_memory(out, c.cube)


def test_data_runs_instead_of_the_cube(tmp_path: Path) -> None:
    path = scene_with(tmp_path, ["crop:{0:9, 0:4, 0:1}", "rotate:180"])
    reflectance = _bip(path).astype(np.float32) / 4095
    expected = reflectance[0:5, 0:10, 0:2][::-1, ::-1]
    assert np.array_equal(_apply(path, data=reflectance), expected)
    asked: list[tuple[int, int]] = []

    def rows(start: int, stop: int) -> Cube:
        asked.append((start, stop))
        return reflectance[start:stop]

    assert np.array_equal(_apply(path, data=rows), expected)
    assert max(stop for _, stop in asked) <= 5  # only the lines the crop keeps (and the type probe)


@pytest.mark.parametrize("data", [np.zeros((2, 2, 2)), "not data"])
def test_data_of_another_size_is_refused(tmp_path: Path, data: object) -> None:
    path = scene_with(tmp_path, ["rotate:180"])
    with pytest.raises(InvalidArgumentError):
        _apply(path, data=data)


# -- errors ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("procedures", "rule", "item"), [
    (["rotate:180", "crop:{0:48, 0:9, 0:9}"], "FLD022", 1),
    (["rotate:clockwise", "crop:{0:9, 0:50, 0:9}"], "FLD022", 1),  # 48 lines after the turn
    (["resample:{10, 10, 10}", "crop:{0:9, 0:10, 0:9}"], "FLD022", 1),
    (["rotate:sideways"], "FLD019", 0),
    (["denoise:{3}"], "FLD020", 0),
    (["rotate:180", "envi_complex_shortint_spatial"], "FLD020", 1),
    (["microservice:nobody.trusts.this"], "FLD021", 0),
    (["merge:{../outside.hsi:0:0}"], "FLD023", 0),
    (["merge:{/etc/passwd:0:0}"], "FLD023", 0),
    (["merge:{missing.hsi:0:0}"], "FLD024", 0),
])
def test_inapplicable_lists_raise_with_the_rule(tmp_path: Path, procedures: list[str], rule: str, item: int) -> None:
    path = scene_with(tmp_path / "in", procedures)
    with pytest.raises(InapplicableProcedureError) as info:
        _write(path, tmp_path / "out.hsi")
    error = info.value
    assert error.finding is not None and error.finding.rule == rule
    assert (error.item, error.finding.location.member, error.finding.location.field) == (item, "data.hdr",
                                                                                           "read procedures")
    assert error.exit_code is ExitCode.NONCONFORMANT and isinstance(error, ValueError)
    assert not (tmp_path / "out.hsi").exists()
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.item, copy.finding) == (str(error), error.item, error.finding)


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = scene_with(tmp_path / "elsewhere", [])
    path = scene_with(tmp_path / "in", ["merge:{tile.hsi:48:0}"])
    (tmp_path / "in" / "tile.hsi").symlink_to(outside)
    with pytest.raises(InapplicableProcedureError) as info:
        _apply(path)
    assert info.value.finding is not None and info.value.finding.rule == "FLD023"


def test_merge_needs_matching_bands(tmp_path: Path) -> None:
    path = scene_with(tmp_path, ["merge:{Reference/white.envi:0:0}", "crop:{0:0, 0:0, 0:0}"])
    assert _apply(path).shape == (1, 1, 1)  # a reference has the cube's bands
    path = scene_with(tmp_path, ["merge:{Exploration/leaf.envi:0:0}"], name="masks.hsi")
    with pytest.raises(InapplicableProcedureError) as info:
        _apply(path)
    assert info.value.finding is None


# -- merge -------------------------------------------------------------------------------------------------------


def test_merge_places_a_sibling_and_a_member(tmp_path: Path) -> None:
    tile = scene_with(tmp_path, ["rotate:180"], name="tile.hsi")
    path = scene_with(tmp_path, ["merge:{tile.hsi:48:-4, Reference/white.envi:0:70}"], data_ignore_value=0)
    out = _apply(path)
    cube, tile_cube = _bip(path), _bip(tile)
    assert out.shape == (75, 96, 32)  # the cube starts 4 lines down the canvas, the white 70 lines below it
    assert np.array_equal(out[4:68, :48], cube)
    assert np.array_equal(out[0:64, 48:], tile_cube)  # stored data: the tile's own procedures are not run
    assert np.array_equal(out[74:75, :48], _white(path))
    assert not out[68:74, :48].any() and not out[64:, 48:].any()  # the fill (data ignore value 0)


def _white(path: Path) -> Cube:
    with hsi_conform.open(path) as c:
        return np.array(c.reference("white").transpose(0, 2, 1))  # BIL -> (lines, samples, bands)


def test_the_output_is_never_a_merged_container(tmp_path: Path) -> None:
    scene_with(tmp_path, [], name="tile.hsi")
    path = scene_with(tmp_path, ["merge:{tile.hsi:48:0}"])
    before = (tmp_path / "tile.hsi").read_bytes()
    with pytest.raises(OutputIsInputError):
        _write(path, tmp_path / "tile.hsi")
    assert (tmp_path / "tile.hsi").read_bytes() == before


def test_merge_output_conforms_and_shifts_the_tie_point(tmp_path: Path) -> None:
    scene_with(tmp_path, [], name="tile.hsi")
    path = scene_with(tmp_path, ["merge:{tile.hsi:-10:-2}"], map_info=MAP_INFO)
    out = _write(path, tmp_path / "out.hsi")
    assert_no_errors(out)
    with hsi_conform.open(out) as c:
        assert (c.layout.lines, c.layout.samples) == (66, 58)
        assert c.header.value("map info")[1:3] == ("11", "3")
        assert "Reference/white.envi" not in c.names and "class names" not in c.header
        assert "merge canvas pixels" in c.header.value("description")


def test_errors_pickle_under_a_chain_pickler(tmp_path: Path) -> None:
    """distributed installs tblib's reducers, which pickle an exception with its cause and context: a lark parser
    state in that chain (a module inside) must not be there (a process pool or a Dask worker hands errors back)."""
    pickling_support = pytest.importorskip("tblib.pickling_support")
    pickling_support.install(InapplicableProcedureError, ProcedureError)
    path = scene_with(tmp_path / "in", ["rotate:sideways"])
    with pytest.raises(InapplicableProcedureError) as info:
        _write(path, tmp_path / "out.hsi")
    copy = pickle.loads(pickle.dumps(info.value))
    assert str(copy) == str(info.value) and copy.finding == info.value.finding
