"""The golden cases of the ``read procedures`` executor: ``fixtures/pipeline/procedures-*/`` (spec/procedures.md).

Each case's ``expected.npy`` was computed by ``scripts/pipeline_cases_procedures.py`` with plain numpy from the spec's
formulas, independently of the implementation; ``"error"`` cases name the error class and, in ``"rule"``, the rule of
the finding it carries. Integers compare exactly, floats to a tight tolerance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hsi_conform
import hsi_conform.errors as errors
from tests._paths import FIXTURES, SPEC

CASES = sorted(p.parent for p in (FIXTURES / "pipeline").glob("*/case.json")
               if json.loads(p.read_text(encoding="utf-8"))["operation"] == "procedures")


def _case(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    return data


def test_there_are_cases_of_every_procedure() -> None:
    specs = {_case(f)["spec"] for f in CASES}
    assert {f"spec/procedures.md#{a}" for a in ("crop", "rotate", "resample", "merge", "microservices")} <= specs
    assert sum((f / "input.hsi").stat().st_size for f in CASES) < 200_000  # small cases


@pytest.mark.parametrize("folder", CASES, ids=lambda f: f.name)
def test_case(folder: Path) -> None:
    case = _case(folder)
    page, _, anchor = case["spec"].removeprefix("spec/").partition("#")
    assert f'id="{anchor}"' in (SPEC / page).read_text(encoding="utf-8")
    with hsi_conform.open(folder / "input.hsi") as c:
        if "error" in case:
            with pytest.raises(getattr(errors, case["error"])) as info:
                hsi_conform.apply_procedures(c, **case["args"])
            finding = getattr(info.value, "finding", None)
            assert (finding.rule if finding is not None else None) == case.get("rule")
            return
        result = hsi_conform.apply_procedures(c, **case["args"])
    expected = np.load(folder / case["expected"], allow_pickle=False)
    assert result.shape == expected.shape and result.dtype == expected.dtype
    if np.issubdtype(expected.dtype, np.integer):
        assert np.array_equal(result, expected)
    else:
        assert np.allclose(result, expected, rtol=1e-6, atol=0, equal_nan=True)
