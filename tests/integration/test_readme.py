"""The README's examples really run: every ```python block and every `$ ` command of ```console blocks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests._paths import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON = re.findall(r"```python\n(.*?)```", README, re.DOTALL)
# A command marked "a few minutes" is exercised by its own tests instead (tests/unit/corpus/test_harness.py).
COMMANDS = [line[2:] for block in re.findall(r"```console\n(.*?)```", README, re.DOTALL)
            for line in block.splitlines() if line.startswith("$ ") and "a few minutes" not in line]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("readme")


@pytest.fixture(scope="module")
def python_ran(workdir: Path) -> Path:
    """The folder where every Python example has run, in order (later examples use files of earlier ones).

    A fixture, not the order of the tests: under ``pytest -n`` the two tests may run in different workers.
    """
    before = Path.cwd()
    os.chdir(workdir)
    try:
        for index, block in enumerate(PYTHON):
            exec(compile(block, f"README-python-{index}", "exec"), {})
    finally:
        os.chdir(before)
    return workdir


def test_readme_has_examples() -> None:
    assert len(PYTHON) >= 3 and len(COMMANDS) >= 3


def test_python_examples(python_ran: Path) -> None:
    assert any(python_ran.iterdir()), "the Python examples wrote nothing"


def test_console_examples(python_ran: Path) -> None:
    """Every ``$`` command, in order, in the folder the Python examples left (the commands read their files)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for command in COMMANDS:
        run = subprocess.run(command, shell=True, cwd=python_ran, env=env, capture_output=True, text=True)
        assert run.returncode == 0, f"{command}\n{run.stdout}\n{run.stderr}"
