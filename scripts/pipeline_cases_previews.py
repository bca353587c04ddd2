"""Regenerate the golden cases of the previews stage: ``fixtures/pipeline/previews-*/``.

Usage: ``python scripts/pipeline_cases_previews.py``. Each case holds ``input.hsi`` (written by
``hsi_conform.write_container``), ``case.json`` and the expected levels as ``.npy`` files, in the input's storage
order, data type and byte order. The expected values are computed here from spec/previews.md, block by block with
plain loops (Python integers for the rounding, ``numpy.nanmean`` for floats, a count for the mode), never with
``hsi_conform.pipeline``, so the cases check the implementation instead of repeating it.
``tests/integration/test_pipeline_golden_previews.py`` runs the implementation on every case.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

import hsi_conform

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "fixtures" / "pipeline"
PREFIX = "previews-"
Array = np.ndarray[Any, Any]
_TO_IMAGE = {"bsq": (1, 2, 0), "bil": (0, 2, 1), "bip": (0, 1, 2)}  # storage axes -> (lines, samples, bands)


def to_image(cube: Array, interleave: str) -> Array:
    """Return a cube in storage order as (lines, samples, bands)."""
    return cube.transpose(_TO_IMAGE[interleave])


def to_storage(image: Array, interleave: str) -> Array:
    """Return a (lines, samples, bands) image in the storage order of ``interleave``."""
    return np.ascontiguousarray(image.transpose(np.argsort(_TO_IMAGE[interleave])))


def block_value(values: list[Any], dtype: np.dtype[Any], kind: str) -> Any:
    """Return the value of one block: spec/previews.md#block-mean, #rounding, #nan and #mode."""
    if kind == "mode":
        kept = [v for v in values if not (isinstance(v, float) and math.isnan(v))]
        if not kept:
            return math.nan
        counts = Counter(kept)
        best = max(counts.values())
        return min(v for v, n in counts.items() if n == best)  # a tie: the smallest value
    if dtype.kind in "iu":
        total, count = sum(int(v) for v in values), len(values)
        rounded = (2 * abs(total) + count) // (2 * count)  # half away from zero
        return -rounded if total < 0 else rounded
    return float(np.nanmean(np.array(values, dtype=np.float64))) if not all(map(math.isnan, values)) else math.nan


def level(cube: Array, interleave: str, factor: int, bands: list[int] | None, kind: str) -> Array:
    """Return the level of ``factor`` of a cube (storage order in and out), partial edge blocks included."""
    image = to_image(cube, interleave)
    lines, samples, count = image.shape
    chosen = sorted(set(b - 1 for b in bands)) if bands else list(range(count))
    out = np.zeros((math.ceil(lines / factor), math.ceil(samples / factor), len(chosen)), dtype=cube.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for k, band in enumerate(chosen):
                block = image[i * factor : (i + 1) * factor, j * factor : (j + 1) * factor, band]
                out[i, j, k] = block_value([v.item() for v in block.ravel()], cube.dtype, kind)
    return to_storage(out, interleave)


def coarsest(lines: int, samples: int, lods: list[int]) -> int:
    """Return the factor of ``preview``: longest side <= 256, never finer than a level (spec/previews.md#levels)."""
    return max(1, math.ceil(max(lines, samples) / 256), *lods)


def write_case(name: str, cube: Array, interleave: str, args: dict[str, Any], description: str, spec: str,
               error: str | None = None) -> None:
    """Write one case folder: the input, ``case.json`` and the expected levels (or the expected error)."""
    folder = CASES / (PREFIX + name)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    bands = cube.shape[{"bsq": 0, "bil": 1, "bip": 2}[interleave]]
    hsi_conform.write_container(folder / "input.hsi", cube, interleave=interleave,
                                fields={"wavelength": [400.0 + 10 * b for b in range(bands)],
                                        "wavelength units": "Nanometers"})
    case: dict[str, Any] = {"operation": "previews", "args": args, "description": description, "spec": spec}
    if error is not None:
        case["error"] = error
    else:
        lines, samples, _ = to_image(cube, interleave).shape
        lods = args.get("lods", [2, 4, 8])
        levels = {"preview": coarsest(lines, samples, lods)} | {f"preview_{f}": f for f in sorted(set(lods))}
        case["expected"] = {}
        for member, factor in levels.items():
            expected = level(cube, interleave, factor, args.get("bands"), args.get("kind", "mean"))
            np.save(folder / f"expected_{member}.npy", expected)
            case["expected"][member] = f"expected_{member}.npy"
    (folder / "case.json").write_text(json.dumps(case, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    """Write every case (the random values are seeded: the same cases each time)."""
    rng = np.random.default_rng(13)
    write_case("uint16-bil-edges", rng.integers(0, 1000, (7, 3, 5)).astype("<u2"), "bil", {"lods": [2, 3]},
               "7 x 5 pixels, factors 2 and 3: partial blocks at the bottom and right edges", "spec/previews.md#edges")
    halves = rng.integers(-300, 300, (6, 5, 2)).astype(">i2")
    halves[0:2, 0:2, 0] = [[-3, -2], [-2, -3]]  # -2.5: rounds to -3
    halves[0:2, 2:4, 0] = [[3, 2], [2, 3]]  # 2.5: rounds to 3
    write_case("int16-bip-big-endian-rounding", halves, "bip", {"lods": [2]},
               "big-endian int16 with negative halves: integer means rounded half away from zero",
               "spec/previews.md#rounding")
    floats = rng.normal(0.5, 0.2, (2, 6, 4)).astype("<f4")
    floats[0, 0:2, 0:2] = np.nan  # an all-NaN block
    floats[1, 0, 0] = np.nan  # one NaN in a block
    write_case("float32-bsq-nan", floats, "bsq", {"lods": [2]},
               "float32 with NaN: the mean of the other values, an all-NaN block stays NaN", "spec/previews.md#nan")
    labels = rng.integers(0, 4, (8, 1, 6)).astype("u1")
    labels[0:2, 0, 0:2] = [[1, 2], [2, 1]]  # a tie: 1 wins
    write_case("uint8-mode", labels, "bil", {"lods": [2, 4], "kind": "mode"},
               "class labels reduced by the mode; ties go to the smallest value", "spec/previews.md#mode")
    write_case("bands-subset", rng.integers(0, 4000, (6, 4, 4)).astype("<u2"), "bsq", {"lods": [2], "bands": [5, 2]},
               "bands 5 and 2 (1-based) kept, in the cube's order", "spec/previews.md#bands")
    write_case("coarsest-300-lines", rng.integers(0, 255, (300, 2, 3)).astype("u1"), "bil", {"lods": []},
               "300 lines: preview is factor 2 (150 lines, at most 256)", "spec/previews.md#levels")
    write_case("error-factor-zero", np.zeros((2, 2, 2), "u1"), "bsq", {"lods": [0]},
               "a factor below 1 is refused", "spec/previews.md#levels", error="InvalidArgumentError")
    write_case("error-band-out-of-range", np.zeros((2, 2, 2), "u1"), "bsq", {"bands": [3]},
               "a band number beyond the cube's bands is refused", "spec/previews.md#bands",
               error="InvalidArgumentError")


if __name__ == "__main__":
    main()
