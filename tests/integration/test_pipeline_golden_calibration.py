"""The calibration's golden cases (``fixtures/pipeline/*/case.json`` with operation ``reflectance``).

Their expected arrays were computed by scripts/pipeline_cases_calibration.py from spec/calibration.md's formula in
plain numpy, independently of ``hsi_conform.pipeline``; the implementation must reproduce them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hsi_conform
import hsi_conform.errors
from hsi_conform.corpus.golden import PIPELINE_FOLDER, load_cases
from hsi_conform.finding import Finding
from tests._paths import FIXTURES, ROOT, SPEC

OPERATION = "reflectance"
SCRIPT = ROOT / "scripts" / "pipeline_cases_calibration.py"


def _cases() -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted((FIXTURES / PIPELINE_FOLDER).glob("*/case.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["operation"] == OPERATION:
            found.append((path.parent, data))
    return found


CASES = _cases()


def test_there_are_cases_of_every_kind() -> None:
    assert len(CASES) >= 8
    assert any("error" in data for _, data in CASES) and any(data["args"] for _, data in CASES)


@pytest.mark.parametrize(("folder", "data"), CASES, ids=[folder.name for folder, _ in CASES])
def test_case(folder: Path, data: dict[str, Any]) -> None:
    lines = data["args"].get("lines")
    selection = slice(*lines) if lines is not None else None
    found: list[Finding] = []
    with hsi_conform.open(folder / "input.hsi") as c:
        if "error" in data:
            with pytest.raises(getattr(hsi_conform.errors, data["error"])):
                hsi_conform.reflectance(c, selection, findings=found)
            return
        result = hsi_conform.reflectance(c, selection, findings=found)
    expected = np.load(folder / data["expected"], allow_pickle=False)
    assert result.dtype == expected.dtype == np.float32 and result.shape == expected.shape
    # Within float32 arithmetic (spec/calibration.md#formula): reflectance to a millionth.
    np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-6, equal_nan=True)
    assert sorted(f.rule for f in found) == sorted(data.get("findings", []))


@pytest.mark.parametrize(("folder", "data"), CASES, ids=[folder.name for folder, _ in CASES])
def test_case_is_well_formed(folder: Path, data: dict[str, Any]) -> None:
    assert set(data) <= {"operation", "args", "description", "spec", "expected", "error", "findings"}
    assert ("expected" in data) != ("error" in data) and data["description"]
    page, _, anchor = data["spec"].removeprefix("spec/").partition("#")
    assert f'id="{anchor}"' in (SPEC / page).read_text(encoding="utf-8"), data["spec"]
    assert (folder / "input.hsi").stat().st_size < 64 << 10  # small: KBs


def test_pipeline_cases_are_not_validation_cases() -> None:
    assert not [c for c in load_cases() if c.path.is_relative_to(FIXTURES / PIPELINE_FOLDER)]


def test_the_script_reproduces_the_checked_in_cases(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SCRIPT), "--output", str(tmp_path)], check=True, cwd=ROOT)
    written = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    folders = {folder.name for folder, _ in CASES}
    held = {p.relative_to(FIXTURES / PIPELINE_FOLDER).as_posix(): p.read_bytes()
            for folder in folders for p in sorted((FIXTURES / PIPELINE_FOLDER / folder).iterdir())}
    assert written == held
