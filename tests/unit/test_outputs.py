"""An output is never an input: the relations ``refuse_output_on_input`` refuses, and the ones it allows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hsi_conform._outputs import refuse_output_on_input
from hsi_conform.errors import ConfigError, ExitCode, OutputIsInputError


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.hsi").write_bytes(b"PK")
    (tmp_path / "out").mkdir()
    return tmp_path


def relation(outputs: list[Path], inputs: list[Path]) -> str:
    with pytest.raises(OutputIsInputError) as err:
        refuse_output_on_input(outputs, inputs)
    assert isinstance(err.value, ConfigError) and err.value.exit_code is ExitCode.USAGE
    return err.value.relation


def test_the_same_path_is_refused(tree: Path) -> None:
    a = tree / "src" / "a.hsi"
    assert relation([a], [a]) == "is"
    assert relation([tree / "src" / ".." / "src" / "a.hsi"], [a]) == "is"


def test_a_symlink_to_the_input_is_refused(tree: Path) -> None:
    link = tree / "out" / "link.hsi"
    link.symlink_to(tree / "src" / "a.hsi")
    assert relation([link], [tree / "src" / "a.hsi"]) == "is"
    folder_link = tree / "out" / "srclink"
    folder_link.symlink_to(tree / "src", target_is_directory=True)
    assert relation([folder_link / "new.hsi"], [tree / "src"]) == "lies inside"


def test_a_hard_link_to_the_input_is_refused(tree: Path) -> None:
    hard = tree / "out" / "hard.hsi"
    os.link(tree / "src" / "a.hsi", hard)
    assert relation([hard], [tree / "src" / "a.hsi"]) == "is the same file as"


def test_an_output_inside_an_input_folder_is_refused(tree: Path) -> None:
    assert relation([tree / "src" / "deeper" / "x.hsi"], [tree / "src"]) == "lies inside"


def test_an_output_folder_around_an_input_is_refused(tree: Path) -> None:
    assert relation([tree], [tree / "src" / "a.hsi"]) == "contains"


def test_unrelated_paths_and_missing_outputs_pass(tree: Path) -> None:
    refuse_output_on_input([tree / "out" / "a.hsi", tree / "out" / "new" / "b.hsi"],
                           [tree / "src", tree / "src" / "a.hsi"])
    refuse_output_on_input([tree / "src.hsi"], [tree / "src"])  # a sibling whose name starts the same
    refuse_output_on_input([], [tree / "src"])


def test_a_path_thousands_of_folders_deep_is_compared_without_recursion(tree: Path) -> None:
    deep = Path(tree, *(["d"] * 3000), "x.hsi")  # not created: only its name is that deep
    refuse_output_on_input([deep], [tree / "src"])
    assert relation([deep], [tree]) == "lies inside"


def test_the_error_pickles_and_names_both_paths(tree: Path) -> None:
    import pickle

    error = OutputIsInputError("o.hsi", "i.hsi", "is")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.output, copy.input_path, copy.relation) == ("o.hsi", "i.hsi", "is")
    assert str(copy) == str(error) and "o.hsi" in str(error) and "i.hsi" in str(error)
