"""The golden cases of the previews stage (``fixtures/pipeline/*/case.json`` with operation ``previews``).

The expected levels were computed from spec/previews.md by ``scripts/pipeline_cases_previews.py``, block by block
and without the implementation; here the implementation runs on each input and must give them: exactly for
integers, to float32 precision for floats (NaN where NaN is expected).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hsi_conform
from hsi_conform import errors
from tests._paths import FIXTURES, SPEC

CASES = sorted(p.parent for p in (FIXTURES / "pipeline").glob("*/case.json")
               if json.loads(p.read_text(encoding="utf-8"))["operation"] == "previews")


def load(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((case / "case.json").read_text(encoding="utf-8"))
    return data


def test_there_are_cases_of_every_kind() -> None:
    kinds = {load(c)["args"].get("kind", "mean") for c in CASES}
    assert len(CASES) >= 6 and kinds == {"mean", "mode"}
    assert any("error" in load(c) for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Path, tmp_path: Path) -> None:
    data = load(case)
    page, _, anchor = data["spec"].removeprefix("spec/").partition("#")
    assert f'id="{anchor}"' in (SPEC / page).read_text(encoding="utf-8")
    dest = tmp_path / "out.hsi"
    if "error" in data:
        with pytest.raises(getattr(errors, data["error"])):
            hsi_conform.write_previews(case / "input.hsi", dest, **data["args"])
        assert not dest.exists()
        return
    hsi_conform.write_previews(case / "input.hsi", dest, **data["args"])
    with hsi_conform.open(dest) as c:
        assert sorted(c.previews) == sorted(name.removeprefix("preview").removeprefix("_")
                                            for name in data["expected"])
        for name, file in data["expected"].items():
            expected = np.load(case / file)
            got = np.asarray(c.preview(name.removeprefix("preview").removeprefix("_")))
            assert got.dtype == expected.dtype and got.shape == expected.shape, name
            if expected.dtype.kind == "f":
                np.testing.assert_allclose(got, expected, rtol=1e-6, equal_nan=True)
            else:
                np.testing.assert_array_equal(got, expected)
    assert hsi_conform.check(dest, content="full").conformant
