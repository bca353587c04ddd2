"""The pytest plugin and ``assert_conformant`` (issue 20 item 19; spec/python-api.md#pytest-plugin).

The plugin is loaded in this very run through its ``pytest11`` entry point, so its fixtures are used directly; a
pytest run in a fresh folder shows what another project gets.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import hsi_conform
from hsi_conform.errors import InputNotFoundError, InvalidArgumentError
from hsi_conform.report.text import render_text
from hsi_conform.testing import assert_conformant
from hsi_conform.testing.pytest_plugin import BROKEN_RULE


def test_the_plugin_is_registered_as_a_pytest11_entry_point(pytestconfig: pytest.Config) -> None:
    (ep,) = [ep for ep in entry_points(group="pytest11") if ep.name == "hsi_conform"]
    assert ep.value == "hsi_conform.testing.pytest_plugin"
    assert pytestconfig.pluginmanager.get_plugin("hsi_conform") is not None


def test_the_sample_fixture_conforms(hsi_sample_container: Path) -> None:
    report = assert_conformant(hsi_sample_container)
    assert report.conformant and hsi_sample_container.suffix == ".hsi"


def test_the_broken_fixture_breaks_one_rule(hsi_broken_container: Path) -> None:
    report = hsi_conform.check(hsi_broken_container)
    assert not report.conformant and {f.rule for f in report.counted} == {BROKEN_RULE}


def test_assert_conformant_fails_with_the_text_report(hsi_broken_container: Path) -> None:
    report = hsi_conform.check(hsi_broken_container)
    for given in (hsi_broken_container, report):
        with pytest.raises(AssertionError) as info:
            assert_conformant(given)
        assert str(info.value) == render_text([report]).rstrip("\n")
        assert BROKEN_RULE in str(info.value)


def test_assert_conformant_passes_check_options(hsi_sample_container: Path) -> None:
    assert assert_conformant(hsi_sample_container, content="full").content == "full"
    with pytest.raises(InvalidArgumentError):
        assert_conformant(hsi_conform.check(hsi_sample_container), content="full")


def test_assert_conformant_of_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError):
        assert_conformant(tmp_path / "missing.hsi")


def test_another_project_gets_the_fixtures(tmp_path: Path) -> None:
    (tmp_path / "test_writer.py").write_text(textwrap.dedent("""
        import pytest
        from hsi_conform.testing import assert_conformant

        def test_sample(hsi_sample_container):
            assert_conformant(hsi_sample_container)

        def test_broken(hsi_broken_container):
            with pytest.raises(AssertionError, match="XRF001"):
                assert_conformant(hsi_broken_container)
    """))
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_writer.py"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
