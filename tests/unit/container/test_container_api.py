"""The container as Python users expect it (issue 20 items 13-15, 18; spec/python-api.md).

A folder that is not an expanded container is refused before it is walked; a closed container raises on use
while the arrays it handed out stay valid; ``repr``, ``len``, ``in`` and ``c[name]`` behave like a mapping's.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container
from hsi_conform.errors import ContainerClosedError, ContainerError, NoSuchMemberError
from hsi_conform.limits import Limits
from hsi_conform.testing.samples import sample_cube, sample_members, write_members, write_sample_container


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return write_sample_container(tmp_path / "s.hsi")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "expanded"
    for name, data in sample_members().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


# -- item 13: fail fast on folders that are not containers ---------------------------------------------------
def test_a_folder_without_data_hdr_or_envi_is_refused_before_it_is_walked(tmp_path: Path) -> None:
    tree = tmp_path / "checkout"
    (tree / "deep").mkdir(parents=True)
    (tree / "deep" / "data.hdr").write_bytes(b"ENVI\n")  # below the root: not a container folder
    (tree / "README.md").write_text("x")
    with pytest.raises(ContainerError) as info:
        hsi_conform.open(tree)
    assert info.value.member is None and info.value.exit_code == 3


def test_a_folder_with_more_entries_than_the_limit_is_refused(folder: Path) -> None:
    with pytest.raises(ContainerError):
        open_container(folder, limits=Limits(max_entries=5))
    with open_container(folder, limits=Limits(max_entries=len(sample_members()) + 2)) as c:  # + 2 directories
        assert "data.hdr" in c


def test_an_expanded_container_folder_still_opens(folder: Path) -> None:
    with hsi_conform.open(folder) as c:
        assert set(sample_members()) <= set(c)
        assert c.cube.shape == sample_cube().shape


def test_check_still_judges_any_folder(tmp_path: Path) -> None:
    report = hsi_conform.check(tmp_path)
    assert {f.rule for f in report.findings} >= {"LAY001"}


# -- item 14: closed containers raise on use -----------------------------------------------------------------
USES = {
    "names": lambda c: c.names, "len": len, "in": lambda c: "data.hdr" in c, "iter": lambda c: list(c),
    "getitem": lambda c: c["data.hdr"], "info": lambda c: c.info("data.hdr"),
    "read_bytes": lambda c: c.read_bytes("data.hdr"), "read_prefix": lambda c: c.read_prefix("data.hdr", 4),
    "header": lambda c: c.header, "cube": lambda c: c.cube, "layout": lambda c: c.layout, "bsq": lambda c: c.bsq(),
    "read_band": lambda c: c.read_band(0), "previews": lambda c: c.previews, "preview": lambda c: c.preview(),
    "reference": lambda c: c.reference("white"), "members": lambda c: c.members,
    "open_array": lambda c: c.open_array("data.envi"),
}


@pytest.mark.parametrize("use", list(USES), ids=str)
@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_closed_container_raises_on_use(kind: str, use: str, sample: Path, folder: Path) -> None:
    with hsi_conform.open(sample if kind == "file" else folder) as c:
        USES[use](c)  # works while open
    with pytest.raises(ContainerClosedError) as info:
        USES[use](c)
    assert isinstance(info.value, ValueError) and isinstance(info.value, ContainerError)


def test_a_closed_remote_container_raises_on_use(sample: Path) -> None:
    c = hsi_conform.open(io.BytesIO(sample.read_bytes()))
    assert c.remote and c.read_band(0).shape == (16, 12)
    c.close()
    with pytest.raises(ContainerClosedError):
        c.read_band(0)


def test_what_stays_usable_after_close(sample: Path) -> None:
    c = hsi_conform.open(sample)
    c.close()
    c.close()  # a second close does nothing
    assert c.closed and c.path == sample and c.location == str(sample) and "closed" in repr(c)


def test_arrays_handed_out_outlive_the_container(sample: Path) -> None:
    with hsi_conform.open(sample) as c:
        cube, band, preview = c.cube, c.bsq()[2], c.preview()
        header = c.header
    assert np.array_equal(cube, sample_cube())
    assert np.array_equal(band, sample_cube()[:, 2, :])
    assert preview.shape == (8, 10, 6) and header["samples"] == 12


# -- item 15: repr -------------------------------------------------------------------------------------------
def test_repr_names_path_shape_dtype_interleave_and_member_count(sample: Path) -> None:
    with hsi_conform.open(sample) as c:
        text = repr(c)
    assert str(sample) in text
    for part in ("16 lines", "12 samples", "10 bands", "uint16", "bil", f"{len(sample_members())} members"):
        assert part in text


def test_repr_of_a_container_without_a_readable_cube_does_not_raise(tmp_path: Path) -> None:
    members = sample_members()
    members["data.hdr"] = b"not a header"
    with hsi_conform.open(write_members(tmp_path / "b.hsi", members)) as c:
        assert "members" in repr(c)


# -- item 18: mapping access ---------------------------------------------------------------------------------
def test_len_getitem_and_contains(sample: Path) -> None:
    members = sample_members()
    with hsi_conform.open(sample) as c:
        assert len(c) == len(members) and list(c) == list(members)
        assert c["data.hdr"] == members["data.hdr"] and "Reference/white.hdr" in c


def test_a_missing_member_is_a_key_error(sample: Path) -> None:
    with hsi_conform.open(sample) as c:
        with pytest.raises(KeyError):
            c["nope.txt"]
        with pytest.raises(NoSuchMemberError) as info:
            c.info("nope.txt")
    assert info.value.member == "nope.txt" and isinstance(info.value, ContainerError)


def test_a_container_is_true_even_without_members(tmp_path: Path) -> None:
    c = Container(tmp_path, {}, is_zip=False)
    assert len(c) == 0 and bool(c)
