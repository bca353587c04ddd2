"""What every writer refuses before it writes: unsafe member names, bytes copied twice, an output that is an input."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hsi_conform.converters import get_converter, missing_requirements, registered
from hsi_conform.converters.base import Blob, HsiDataset
from hsi_conform.converters.guard import check_budget, file_ranges, guard_write
from hsi_conform.converters.hsi import HsiConverter
from hsi_conform.errors import DataBudgetError, ExitCode, InputUnreadableError, MemberNameError, OutputIsInputError
from hsi_conform.header import parse_header
from hsi_conform.testing.samples import write_sample_container

#: Names that land outside a destination on some OS (issue 11 item 2), and two that are merely not portable.
HOSTILE = ["C:/x", "C:x", "//server/x", "Metadata\\x", "../x", "Metadata/../../x", "/abs", "Metadata/a\x01b",
           "Metadata/a\x00b", "Metadata/CON", "Metadata/a?b"]
#: Every built-in writer and a destination it accepts.
WRITERS = {"hsi": "out.hsi", "envi": "out.hdr", "specim": "outdir", "hdf5": "out.h5", "tiff": "out.tif"}


def available(name: str) -> bool:
    return not missing_requirements(registered()[name].load())


@pytest.fixture
def dataset(tmp_path: Path) -> HsiDataset:
    (tmp_path / "src").mkdir()
    return HsiConverter().read(write_sample_container(tmp_path / "src" / "s.hsi"))


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("name", HOSTILE, ids=repr)
def test_every_writer_refuses_names_that_leave_the_destination(tmp_path: Path, dataset: HsiDataset, writer: str,
                                                               name: str) -> None:
    if not available(writer):
        pytest.skip(f"{writer} is not installed")
    dataset.members[name] = b"evil\n"
    out = tmp_path / "w" / "x" / "y"
    out.mkdir(parents=True)
    with pytest.raises(MemberNameError) as err:
        get_converter(writer).write(dataset, out / WRITERS[writer], {})
    assert err.value.member == name and err.value.codes
    assert err.value.exit_code is ExitCode.NONCONFORMANT
    assert sorted(p.name for p in (tmp_path / "w").rglob("*")) == ["x", "y"]  # nothing inside, nothing beside


def test_a_name_error_is_a_value_error_and_pickles() -> None:
    import pickle

    error = MemberNameError("../x", ["name-traversal"])
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, ValueError) and (copy.member, copy.codes) == ("../x", ("name-traversal",))
    assert str(copy) == str(error)


# -- the byte budget ---------------------------------------------------------------------------------------------

@pytest.fixture
def blob_file(tmp_path: Path) -> Path:
    path = tmp_path / "bytes.bin"
    path.write_bytes(bytes(range(100)))
    return path


def test_members_sharing_bytes_are_refused(blob_file: Path) -> None:
    with pytest.raises(DataBudgetError) as err:
        check_budget([(blob_file, 0, 60, "a"), (blob_file, 60, 40, "b"), (blob_file, 50, 5, "c")])
    assert err.value.member in ("a", "c") and err.value.exit_code is ExitCode.NONCONFORMANT
    check_budget([(blob_file, 0, 60, "a"), (blob_file, 60, 40, "b"), (blob_file, 60, 0, "empty")])


def test_a_whole_file_may_be_copied_twice_but_not_three_times(blob_file: Path) -> None:
    check_budget([(blob_file, 0, 100, "Reference/black.envi"), (blob_file, 0, 100, "Metadata/specim/black.raw")])
    with pytest.raises(DataBudgetError) as err:
        check_budget([(blob_file, 0, 100, m) for m in ("a", "b", "c")])
    assert err.value.member == "c"
    with pytest.raises(DataBudgetError):  # a whole copy overlaps any part
        check_budget([(blob_file, 0, 100, "a"), (blob_file, 0, 100, "b"), (blob_file, 10, 1, "c")])


def test_hard_links_are_one_file(blob_file: Path) -> None:
    twin = blob_file.with_name("twin.bin")
    os.link(blob_file, twin)
    with pytest.raises(DataBudgetError):
        check_budget([(blob_file, 0, 10, "a"), (twin, 5, 10, "b")])


def test_a_range_past_the_end_of_its_file_is_unreadable_input(blob_file: Path) -> None:
    with pytest.raises(InputUnreadableError) as err:
        check_budget([(blob_file, 90, 20, "Metadata/big.bin")])
    assert err.value.path == str(blob_file)


def test_an_overlap_bomb_is_refused_before_anything_is_written(tmp_path: Path, dataset: HsiDataset) -> None:
    region = tmp_path / "src" / "s.hsi"
    for i in range(50):
        dataset.members[f"Metadata/copy{i}.bin"] = Blob(region, 0, 1000)
    out = tmp_path / "out"
    out.mkdir()
    for writer, dest in WRITERS.items():
        if available(writer):
            with pytest.raises(DataBudgetError):
                get_converter(writer).write(dataset, out / dest, {})
    assert not list(out.iterdir())


def test_mapped_arrays_count_where_they_lie_in_their_file(blob_file: Path) -> None:
    mapped = np.memmap(blob_file, dtype=np.uint8, mode="r", offset=10, shape=(9, 10))
    header = parse_header(b"ENVI\n")
    assert file_ranges(HsiDataset(header=header, cube=mapped[2:5].T)) == [(blob_file, 30, 30, "data.envi")]
    assert file_ranges(HsiDataset(header=header, cube=np.zeros(3))) == []


# -- an output that is an input ----------------------------------------------------------------------------------

def test_a_writer_refuses_to_replace_a_file_its_dataset_reads(tmp_path: Path) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    before = src.read_bytes()
    dataset = HsiConverter().read(src)
    with pytest.raises(OutputIsInputError):
        HsiConverter().write(dataset, src)
    with pytest.raises(OutputIsInputError):
        guard_write(dataset, [tmp_path])  # a folder output around the source
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.hsi"]
