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


def test_readme_has_examples() -> None:
    assert len(PYTHON) >= 3 and len(COMMANDS) >= 3


def test_python_examples(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    for index, block in enumerate(PYTHON):  # in order: later examples use files written by earlier ones
        exec(compile(block, f"README-python-{index}", "exec"), {})


def test_console_examples(workdir: Path) -> None:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for command in COMMANDS:
        run = subprocess.run(command, shell=True, cwd=workdir, env=env, capture_output=True, text=True)
        assert run.returncode == 0, f"{command}\n{run.stdout}\n{run.stderr}"
