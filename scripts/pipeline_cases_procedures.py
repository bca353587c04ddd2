"""Regenerate the golden cases of the ``read procedures`` executor: ``fixtures/pipeline/procedures-*/``.

Usage: ``python scripts/pipeline_cases_procedures.py``. Each case folder holds ``input.hsi`` (a small container whose
``data.hdr`` lists the procedures), ``case.json`` and ``expected.npy``. The expected arrays are computed here with
plain numpy from the formulas of spec/procedures.md, independently of ``hsi_conform.pipeline``: slicing for crop,
``np.rot90`` and flips for rotate, exact fractional overlaps (``fractions.Fraction``) for the area mean and
``np.interp`` for linear interpolation, a canvas painted in order for merge.
"""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

import hsi_conform

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "fixtures" / "pipeline"
PREFIX = "procedures-"
WAVES = [450.0, 550.0, 650.0, 750.0]
Cube = np.ndarray[Any, Any]


def cube(lines: int = 6, samples: int = 5, bands: int = 4, dtype: str = "<u2", seed: int = 13) -> Cube:
    """Return a small cube in (lines, samples, bands) order with distinct values."""
    rng = np.random.default_rng(seed)
    return rng.permutation(lines * samples * bands).reshape(lines, samples, bands).astype(dtype) * 7 + 100


# -- the formulas, written out ------------------------------------------------------------------------------------


def crop(x: Cube, s: tuple[int, int], ln: tuple[int, int], b: tuple[int, int]) -> Cube:
    """``crop:{s0:s1, l0:l1, b0:b1}``: inclusive ranges."""
    return x[ln[0]:ln[1] + 1, s[0]:s[1] + 1, b[0]:b[1] + 1]


ROTATE = {
    "clockwise": lambda x: np.rot90(x, k=-1, axes=(0, 1)),
    "counterclockwise": lambda x: np.rot90(x, k=1, axes=(0, 1)),
    "180": lambda x: np.rot90(x, k=2, axes=(0, 1)),
    "swap-left-right": lambda x: np.flip(x, axis=1),
    "swap-up-down": lambda x: np.flip(x, axis=0),
}


def area_mean(x: Cube, size: int, axis: int) -> Cube:
    """Each output cell the mean of the input cells weighted by exact overlap with ``[j·n/m, (j+1)·n/m)``."""
    n = x.shape[axis]
    moved = np.moveaxis(x.astype(np.float64), axis, 0)
    out = np.zeros((size, *moved.shape[1:]))
    for j in range(size):
        low, high = Fraction(j * n, size), Fraction((j + 1) * n, size)
        for i in range(n):
            overlap = min(high, i + 1) - max(low, Fraction(i))
            if overlap > 0:
                out[j] += float(overlap / (high - low)) * moved[i]
    return np.moveaxis(out, 0, axis)


def linear(x: Cube, size: int, axis: int) -> Cube:
    """Linear interpolation at the output centres ``(j + ½)·n/m − ½``, clamped to the input's."""
    n = x.shape[axis]
    centres = np.clip((np.arange(size) + 0.5) * n / size - 0.5, 0, n - 1)
    return np.apply_along_axis(lambda v: np.interp(centres, np.arange(n), v), axis, x.astype(np.float64))


def resample(x: Cube, samples: int, lines: int, bands: int) -> Cube:
    """``resample:{S, L, B}``: per axis, area mean when shrinking, linear when growing; the type kept."""
    out = x.astype(np.float64)
    for axis, size in ((0, lines), (1, samples), (2, bands)):
        if size < out.shape[axis]:
            out = area_mean(out, size, axis)
        elif size > out.shape[axis]:
            out = linear(out, size, axis)
    if np.issubdtype(x.dtype, np.integer):
        info = np.iinfo(x.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(x.dtype)


def merge(x: Cube, placed: list[tuple[Cube, int, int]], fill: float) -> Cube:
    """``merge``: a canvas covering all, the cube painted first, then each placed cube in order."""
    top = min(0, *(y for _, _, y in placed))
    left = min(0, *(xo for _, xo, _ in placed))
    bottom = max(x.shape[0], *(y + c.shape[0] for c, _, y in placed))
    right = max(x.shape[1], *(xo + c.shape[1] for c, xo, _ in placed))
    canvas = np.full((bottom - top, right - left, x.shape[2]), fill, dtype=x.dtype)
    for c, xo, y in [(x, 0, 0), *placed]:
        canvas[y - top:y - top + c.shape[0], xo - left:xo - left + c.shape[1]] = c
    return canvas


# -- the cases ----------------------------------------------------------------------------------------------------


def write_input(folder: Path, x: Cube, procedures: list[str], name: str = "input.hsi", **fields: object) -> Path:
    """Write ``x`` (lines, samples, bands) as a BIL container listing ``procedures`` (``_`` in keys: blanks)."""
    bands = x.shape[2]
    return hsi_conform.write_container(
        folder / name, np.ascontiguousarray(x.transpose(0, 2, 1)), interleave="bil",
        fields={"wavelength": WAVES[:bands] if bands <= 4 else list(np.linspace(400, 1000, bands)),
                "wavelength units": "nm", **({"read procedures": procedures} if procedures else {}),
                **{key.replace("_", " "): value for key, value in fields.items()}})


def case(name: str, procedures: list[str], description: str, spec: str, *, expected: Cube | None = None,
         error: tuple[str, str | None] | None = None, x: Cube | None = None, args: dict[str, Any] | None = None,
         siblings: dict[str, Cube] | None = None, **fields: object) -> None:
    """Write one case folder."""
    folder = CASES / (PREFIX + name)
    folder.mkdir(parents=True)
    write_input(folder, cube() if x is None else x, procedures, **fields)
    for sibling, data in (siblings or {}).items():
        write_input(folder, data, [], name=sibling)
    data: dict[str, Any] = {"operation": "procedures", "args": args or {}, "description": description,
                            "spec": spec}
    if expected is not None:
        np.save(folder / "expected.npy", expected, allow_pickle=False)
        data["expected"] = "expected.npy"
    if error is not None:
        data["error"], rule = error
        if rule is not None:
            data["rule"] = rule
    (folder / "case.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    """Write every case, replacing the old ones."""
    for old in CASES.glob(PREFIX + "*"):
        shutil.rmtree(old)
    CASES.mkdir(parents=True, exist_ok=True)
    x = cube()
    case("crop", ["crop:{1:3, 2:4, 0:1}"], "crop keeps inclusive 0-based ranges of samples, lines, bands",
         "spec/procedures.md#crop", expected=crop(x, (1, 3), (2, 4), (0, 1)))
    for direction, f in ROTATE.items():
        case(f"rotate-{direction}", [f"rotate:{direction}"], f"rotate:{direction} on the displayed image plane",
             "spec/procedures.md#rotate", expected=f(x))
    chain = crop(ROTATE["clockwise"](crop(x, (0, 3), (1, 5), (1, 3))), (1, 4), (0, 2), (0, 1))
    case("chain", ["crop:{0:3, 1:5, 1:3}", "rotate:clockwise", "crop:{1:4, 0:2, 0:1}"],
         "procedures run in order, each on the cube the previous leave", "spec/procedures.md#order", expected=chain)
    case("resample-shrink", ["resample:{2, 4, 3}"], "shrinking is the area mean (fractional overlaps), rounded",
         "spec/procedures.md#resample", expected=resample(x, 2, 4, 3))
    case("resample-grow", ["resample:{9, 7, 6}"], "growing is linear interpolation at the output centres",
         "spec/procedures.md#resample", expected=resample(x, 9, 7, 6))
    flat = np.full((5, 3, 4), 0.1, dtype="<f4")
    case("resample-constant", ["resample:{7, 2, 3}"], "a constant cube stays exactly constant",
         "spec/procedures.md#resample", x=flat, expected=resample(flat, 7, 2, 3))
    tile = cube(2, 3, 4, seed=7)
    case("merge-sibling", ["merge:{tile.hsi:4:-1, tile.hsi:-2:5}"],
         "merge places sibling cubes on a canvas, later on top, uncovered pixels hold data ignore value",
         "spec/procedures.md#merge", siblings={"tile.hsi": tile}, data_ignore_value=1,
         expected=merge(x, [(tile, 4, -1), (tile, -2, 5)], 1))
    case("crop-beyond", ["rotate:clockwise", "crop:{0:5, 0:5, 0:3}"], "a crop beyond the cube is an error",
         "spec/procedures.md#crop", error=("InapplicableProcedureError", "FLD022"))
    case("merge-escape", ["merge:{../input.hsi:0:0}"], "a merge ID never leaves the container's folder",
         "spec/procedures.md#merge", error=("InapplicableProcedureError", "FLD023"))
    case("unknown", ["denoise:{3}"], "an unknown procedure cannot be re-enacted",
         "spec/procedures.md#errors", error=("InapplicableProcedureError", "FLD020"))
    case("microservice-not-allowed", ["microservice:calib.any"], "a micro-service runs only when the caller allows it",
         "spec/procedures.md#microservices", args={"allow_microservices": []},
         error=("InapplicableProcedureError", "FLD021"))


if __name__ == "__main__":
    main()
