"""Write the golden cases of the calibration: ``fixtures/pipeline/reflectance-*/`` (spec/calibration.md).

Usage: ``python scripts/pipeline_cases_calibration.py [--output fixtures/pipeline]``. Each case is a folder with
``input.hsi`` (a small raw container), ``case.json`` (``operation`` ``reflectance``, ``args``, ``description``,
``spec``, and ``expected`` or ``error``; ``findings`` lists the rule ids the calibration reports) and
``expected.npy``. The expected arrays are computed here, independently of ``hsi_conform.pipeline``, with the
formula of spec/calibration.md#formula written in plain numpy; hsi_conform only writes the ZIP of the inputs.
tests/integration/test_pipeline_golden_calibration.py runs the implementation on every case and compares, and
checks that this script reproduces the checked-in files.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.testing.samples import write_members

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "reflectance-"
Array = np.ndarray[Any, Any]
_CODES = {"u1": 1, "i2": 2, "i4": 3, "f4": 4, "f8": 5, "u2": 12}
_AXES = {"bsq": (2, 0, 1), "bil": (0, 2, 1), "bip": (0, 1, 2)}  # (lines, samples, bands) -> storage order


@dataclass
class Case:
    """One case: the raw arrays as (lines, samples, bands), where they are stored, and what to expect."""

    name: str
    description: str
    spec: str
    cube: Array
    white: Array | None
    black: Array | None
    whitedark: Array | None = None
    interleave: str = "bil"
    ref_interleave: str = "bil"
    fields: dict[str, str] = field(default_factory=dict)
    ref_fields: dict[str, dict[str, str]] = field(default_factory=dict)
    args: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    findings: list[str] = field(default_factory=list)


# -- the formula, independently ---------------------------------------------------------------------------------

def _applied(reference: Array, lines: int) -> Array:
    """Return a reference as applied: itself with the cube's lines, else its mean over its lines (float64)."""
    values = reference.astype(np.float64)
    return values if values.shape[0] == lines else values.mean(axis=0, keepdims=True)


def expected(case: Case) -> Array:
    """Return R = (raw - B) / ((W - B_w) * t_cube / t_white); NaN where that is not positive or raw is ignored."""
    assert case.white is not None and case.black is not None
    lines = case.cube.shape[0]
    w, b = _applied(case.white, lines), _applied(case.black, lines)
    dark = _applied(case.whitedark, lines) if case.whitedark is not None else b
    ratio = 1.0
    t_cube, t_white = case.fields.get("tint"), case.ref_fields.get("white", {}).get("tint")
    if t_cube is not None and t_white is not None:
        ratio = float(t_cube) / float(t_white)
    den = np.broadcast_to((w - dark) * ratio, case.cube.shape)
    raw = case.cube.astype(np.float64)
    out = np.full(case.cube.shape, np.nan)
    good = den > 0
    out[good] = (raw - np.broadcast_to(b, case.cube.shape))[good] / den[good]
    if "data ignore value" in case.fields:
        out[case.cube == float(case.fields["data ignore value"])] = np.nan
    start, stop = case.args.get("lines", (0, lines))
    return out[start:stop].astype(np.float32)


# -- the input container --------------------------------------------------------------------------------------

def _pair(image: Array, interleave: str, fields: dict[str, str]) -> tuple[bytes, bytes]:
    lines, samples, bands = image.shape
    dtype = image.dtype
    waves = ", ".join(f"{400 + 600 * i / max(bands - 1, 1):g}" for i in range(bands))
    text = [
        "ENVI", f"samples = {samples}", f"lines = {lines}", f"bands = {bands}", "header offset = 0",
        "file type = ENVI Standard", f"data type = {_CODES[dtype.str[1:]]}", f"interleave = {interleave}",
        f"byte order = {1 if dtype.byteorder == '>' else 0}", "wavelength units = nm", f"wavelength = {{{waves}}}",
        *(f"{k} = {v}" for k, v in fields.items()),
    ]
    data = np.ascontiguousarray(image.transpose(_AXES[interleave])).tobytes()
    return ("\n".join(text) + "\n").encode(), data


def write_case(case: Case, folder: Path) -> None:
    """Write ``input.hsi``, ``case.json`` and ``expected.npy`` of a case into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    members: dict[str, bytes] = {}
    members["data.hdr"], members["data.envi"] = _pair(case.cube, case.interleave, case.fields)
    for name in ("white", "black", "whitedark"):
        image = getattr(case, name)
        if image is not None:
            members[f"Reference/{name}.hdr"], members[f"Reference/{name}.envi"] = _pair(
                image, case.ref_interleave, case.ref_fields.get(name, {}))
    write_members(folder / "input.hsi", members)
    data: dict[str, Any] = {"operation": "reflectance", "args": case.args, "description": case.description,
                            "spec": "spec/" + case.spec}
    if case.error is not None:
        data["error"] = case.error
    else:
        data["expected"] = "expected.npy"
        data["findings"] = case.findings
        buffer = io.BytesIO()
        np.save(buffer, expected(case), allow_pickle=False)
        (folder / "expected.npy").write_bytes(buffer.getvalue())
    (folder / "case.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


# -- the cases ------------------------------------------------------------------------------------------------

def cases() -> Iterator[Case]:
    """Yield every case (deterministic: fixed seeds)."""
    rng = np.random.default_rng(20250913)
    lines, samples, bands = 6, 5, 4

    def refs(n: int = 1) -> tuple[Array, Array]:
        black = rng.integers(60, 140, (n, samples, bands))
        return black + rng.integers(2500, 3500, (n, samples, bands)), black

    def cube(dtype: str = "<u2", top: int = 4000) -> Array:
        return rng.integers(0, top, (lines, samples, bands)).astype(dtype)

    white, black = refs()
    yield Case("push-broom-bil", "uint16 BIL cube, one-line uint16 references.", "calibration.md#formula",
               cube(), white.astype("<u2"), black.astype("<u2"))
    white, black = refs(3)
    yield Case("averaged-lines-bsq", "Big-endian int16 BSQ cube; a 3-line white and a 2-line float32 black in BIP, "
               "each averaged over its lines.", "calibration.md#references", cube(">i2"), white.astype("<u2"),
               black[:2].astype("<f4") + 0.25, interleave="bsq", ref_interleave="bip")
    white, black = refs(lines)
    yield Case("snapshot-bip", "uint16 BIP cube with per-pixel references (the cube's lines).",
               "calibration.md#references", cube(), white.astype("<u2"), black.astype("<u2"), interleave="bip",
               ref_interleave="bip")
    white, black = refs()
    yield Case("white-dark", "The white's own dark is the denominator's dark; the black is subtracted from the raw.",
               "calibration.md#white-dark", cube(), white.astype("<u2"), black.astype("<u2"),
               whitedark=(black + 45).astype("<u2"))
    white, black = refs()
    yield Case("exposure-ratio", "tint 30 for the cube, 12 for the white: white - black is scaled by 2.5.",
               "calibration.md#exposure", cube(), white.astype("<u2"), black.astype("<u2"),
               fields={"tint": "30"}, ref_fields={"white": {"tint": "12.000000"}, "black": {"tint": "30"}})
    white, black = refs()
    white[0, 1, 2], white[0, 4, 0] = black[0, 1, 2], black[0, 4, 0] - 7
    raw = cube()
    raw[2, 3, 1] = raw[5, 0, 0] = 65535
    raw[1, 1, 1] = raw[3, 2, 3] = 9999
    yield Case("guards", "White not above black at two (sample, band): NaN there (DAT004); two saturated raw values "
               "(DAT005); two raw values equal to the data ignore value: NaN.", "calibration.md#guards", raw,
               white.astype("<u2"), black.astype("<u2"), fields={"data ignore value": "9999"},
               findings=["DAT004", "DAT005"])
    white, black = refs()
    float_cube = cube("<f8") + 0.5
    float_cube[4, 2, 2] = np.nan
    yield Case("float-cube", "A float64 cube with a NaN: it stays NaN; float data has no saturation.",
               "calibration.md#guards", float_cube, white.astype("<f4"), black.astype("<f4"))
    white, black = refs(lines)
    yield Case("lines-slice", "Lines 2 to 4 of a cube with per-pixel references: only those lines.",
               "calibration.md#lines", cube(), white.astype("<u2"), black.astype("<u2"), args={"lines": [2, 5]})
    white, black = refs()
    yield Case("no-black", "No Reference/black: refused.", "calibration.md#refused", cube(), white.astype("<u2"), None,
               error="CalibrationError")
    yield Case("already-reflectance", "data.hdr states reflectance scale factor: refused.", "calibration.md#refused",
               cube(), white.astype("<u2"), black.astype("<u2"), fields={"reflectance scale factor": "10000"},
               error="CalibrationError")


def main() -> None:
    """Write every case under ``--output`` (default ``fixtures/pipeline``), replacing the earlier ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=ROOT / "fixtures" / "pipeline")
    args = parser.parse_args()
    for old in sorted(args.output.glob(PREFIX + "*")):
        shutil.rmtree(old)
    for case in cases():
        write_case(case, args.output / (PREFIX + case.name))


if __name__ == "__main__":
    main()
