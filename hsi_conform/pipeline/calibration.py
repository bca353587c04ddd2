"""Calibration to reflectance: ``R = (raw − B) / ((W − B_w) · t_cube / t_white)`` (spec/calibration.md).

``W``, ``B`` and ``B_w`` are ``Reference/white``, ``Reference/black`` and the white's own dark
(``Reference/whitedark`` when the container has it, else ``B``). A :class:`CalibrationPlan` is built once per
container: the reference means in float64 (push broom) or their mapped images (snapshot), the exposure ratio, and
notes on what it decided. :meth:`CalibrationPlan.compute` then calibrates any block of lines (in float32 for 8- and
16-bit raw data, else in float64; the result is float32), and tallies the values it had to guard (``W − B_w ≤ 0``:
``DAT004``; raw values at the data type's maximum: ``DAT005``); :meth:`CalibrationPlan.findings` turns a tally
into findings.

How findings reach the caller (spec/calibration.md#findings): a function that takes ``findings`` appends them to
that list; when it is None, each is issued as a :class:`CalibrationWarning` (``warnings.warn``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from hsi_conform.container.reader import Container, CubeLayout, as_interleave
from hsi_conform.container.references import is_per_pixel, line_mean
from hsi_conform.container.source import read_block
from hsi_conform.errors import CalibrationError, ContainerError, FieldValueError, InvalidArgumentError
from hsi_conform.fields import Interleave
from hsi_conform.finding import Finding, Location
from hsi_conform.header import Header
from hsi_conform.members import (
    BLACK,
    CALIBRATION_RECORD,
    CUBE_DATA,
    CUBE_HEADER,
    WHITE,
    WHITE_DARK,
    envi_names,
    reference_stem,
)
from hsi_conform.rules import get_rule, load_builtin_rules

__all__ = ["EXPOSURE_KEY", "CalibrationPlan", "CalibrationWarning", "Reference", "Tally", "reflectance",
           "report_findings"]

EXPOSURE_KEY = "tint"
"""The header key read as the integration (exposure) time: SPECIM's, in milliseconds (spec/calibration.md#exposure).
Only the ratio of two such times is used, so any unit works when both headers use the same."""
#: Bytes of values computed at once by :func:`reflectance` (a slab of lines; float64 at most).
SLAB_BYTES = 8 << 20

Array = np.ndarray[Any, Any]
_ORDERS = (Interleave.BIP, Interleave.BIL)  # line-major orders a block can be computed in


class CalibrationWarning(UserWarning):
    """A finding of the calibration, issued when the caller passed no ``findings`` list.

    Attributes:
        finding: The finding (rule id, severity, location, message).
    """

    def __init__(self, finding: Finding) -> None:
        self.finding = finding
        super().__init__(f"{finding.rule} [{finding.name}] {finding.location}: {finding.message}")


def report_findings(found: list[Finding], findings: list[Finding] | None) -> None:
    """Append ``found`` to ``findings``, or warn each as a :class:`CalibrationWarning` when it is None."""
    if findings is not None:
        findings.extend(found)
        return
    for finding in found:
        warnings.warn(CalibrationWarning(finding), stacklevel=3)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    """One reference as the calibration applies it (spec/calibration.md#references).

    Attributes:
        stem: its stem, e.g. ``Reference/white``.
        lines: its lines.
        image: its (lines, samples, bands) view (a memmap: read only where needed).
        mean: the float64 mean over its lines, (1, samples, bands); None when it applies per pixel.
        exposure: the integration time its header states (:data:`EXPOSURE_KEY`), or None.
        by_order: ``mean`` with the axes of each order a block is computed in, contiguous (empty per pixel).
    """

    stem: str
    lines: int
    image: Array
    mean: Array | None
    exposure: float | None
    by_order: Mapping[Interleave, Array]

    @property
    def per_pixel(self) -> bool:
        """Whether it applies pixel by pixel (it has the cube's lines)."""
        return self.mean is None

    def block(self, start: int, stop: int, order: Interleave) -> Array:
        """Return its values for cube lines ``start:stop`` in ``order`` (one broadcast line when averaged), float64."""
        if self.mean is not None:
            return self.by_order[order]
        view = as_interleave(self.image, Interleave.BIP, order)
        return read_block(view[start:stop]).astype(np.float64)


@dataclass(slots=True)
class Tally:
    """What the computed blocks had to guard, summed over blocks.

    Attributes:
        values: values computed.
        nonpositive: values made NaN because ``W − B_w ≤ 0`` there.
        first_nonpositive: ``(line, sample, band)`` of the first of them.
        saturated: raw values at the data type's maximum (``data ignore value`` apart).
        first_saturated: ``(line, sample, band)`` of the first of them.
    """

    values: int = 0
    nonpositive: int = 0
    first_nonpositive: tuple[int, int, int] | None = None
    saturated: int = 0
    first_saturated: tuple[int, int, int] | None = None

    def count(self, flags: Array, start: int, order: Interleave, attribute: str, lines: int = 1) -> None:
        """Add the flagged values of a block whose first line is ``start`` to ``attribute``.

        A one-line ``flags`` of push-broom references stands for ``lines`` lines of the block.
        """
        found = int(np.count_nonzero(flags)) * (lines if flags.shape[0] == 1 else 1)
        if not found:
            return
        setattr(self, attribute, getattr(self, attribute) + found)
        if getattr(self, "first_" + attribute) is None:
            index = [int(i) for i in np.unravel_index(int(flags.argmax()), flags.shape)]
            line, sample, band = index if order is Interleave.BIP else (index[0], index[2], index[1])
            setattr(self, "first_" + attribute, (line + start, sample, band))


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationPlan:
    """What the calibration of one container needs, computed once (see the module docstring).

    Attributes:
        container: the open container.
        layout: the cube's layout.
        white, black, dark: the references; ``dark`` is the white's (``whitedark``, or ``black`` itself).
        exposure: the integration time ``data.hdr`` states (:data:`EXPOSURE_KEY`), or None.
        ratio: the exposure ratio ``t_cube / t_white`` that scales ``W − B_w`` (1.0 when not both are stated).
        ignore: the cube's ``data ignore value`` (raw values equal to it become NaN), or None.
        notes: what the plan decided, in words (exposure scaling, values it could not use).
        inverse: ``1 / ((W − B_w) · ratio)``, one line of float64 in each order a block is computed in, NaN where
            ``W − B_w ≤ 0``, when both references are averaged (push broom); None when one applies per pixel (it
            is computed per block then).
    """

    container: Container
    layout: CubeLayout
    white: Reference
    black: Reference
    dark: Reference
    exposure: float | None
    ratio: float
    ignore: float | None
    notes: tuple[str, ...] = ()
    inverse: Mapping[Interleave, Array] | None = None

    @classmethod
    def of(cls, container: Container) -> CalibrationPlan:
        """Build the plan of a container.

        Raises:
            CalibrationError: no white or black reference, a reference that does not fit the cube, a cube that
                states ``reflectance scale factor`` or was calibrated by hsi-conform already
                (spec/calibration.md#refused).
            ContainerError, InputUnreadableError: a member cannot be read.
        """
        header = container.header
        layout = _layout(header, CUBE_HEADER)
        if _value(header, "reflectance scale factor", CUBE_HEADER) is not None:
            raise CalibrationError("`reflectance scale factor` is stated: the cube is reflectance already",
                                   CUBE_HEADER)
        if CALIBRATION_RECORD in container:
            raise CalibrationError(f"the cube was calibrated already ({CALIBRATION_RECORD})", CALIBRATION_RECORD)
        notes: list[str] = []
        white = _reference(container, WHITE, layout, notes, required=True)
        black = _reference(container, BLACK, layout, notes, required=True)
        assert white is not None and black is not None  # required references raise instead
        dark = _reference(container, WHITE_DARK, layout, notes, required=False) or black
        cube_exposure = _exposure(header, CUBE_HEADER, notes)
        ignore = _value(header, "data ignore value", CUBE_HEADER)
        ratio = _ratio(cube_exposure, white, black, dark, notes)
        inverse = None
        if white.mean is not None and dark.mean is not None:
            inverse = _by_order(_inverse(white.mean - dark.mean, ratio))
        return cls(container=container, layout=layout, white=white, black=black, dark=dark,
                   exposure=cube_exposure, ratio=ratio,
                   ignore=float(ignore) if ignore is not None else None, notes=tuple(notes), inverse=inverse)

    @property
    def work_dtype(self) -> np.dtype[Any]:
        """The type blocks are computed in: float32 when it holds every raw value exactly, else float64.

        8- and 16-bit integers and float32 are exact in float32, which halves the memory traffic of the common
        16-bit cube (spec/calibration.md#formula); wider types keep float64 so that no raw digit is lost.
        """
        dtype = self.layout.dtype
        exact = (dtype.kind in "iu" and dtype.itemsize <= 2) or (dtype.kind == "f" and dtype.itemsize <= 4)
        return np.dtype(np.float32 if exact else np.float64)

    @property
    def top(self) -> int | None:
        """The raw data type's maximum, counted as saturation (None for float data or when it is the ignore value)."""
        dtype = self.layout.dtype
        if dtype.kind not in "iu":
            return None
        top = int(np.iinfo(dtype).max)  # type: ignore[type-var]
        return None if self.ignore == top else top

    def line_range(self, lines: slice | None) -> tuple[int, int]:
        """Return ``(start, stop)`` of a line selection (None: all lines; a slice clipped as Python clips it).

        Raises:
            InvalidArgumentError: not a slice, or a step other than 1.
        """
        if lines is None:
            return 0, self.layout.lines
        if not isinstance(lines, slice):
            raise InvalidArgumentError(f"lines must be a slice or None, not {type(lines).__name__}")
        start, stop, step = lines.indices(self.layout.lines)
        if step != 1:
            raise InvalidArgumentError(f"lines must be a contiguous slice (step 1), not step {step}")
        return start, max(start, stop)

    def compute(self, start: int, stop: int, tally: Tally, order: Interleave = Interleave.BIP, *,
                out: Array | None = None) -> Array:
        """Return the reflectance of cube lines ``start:stop`` as float32, in ``order`` (BIP or BIL axes).

        Args:
            start: the first line (``0 <= start <= stop``).
            stop: the line after the last (at most the cube's lines).
            tally: receives the counts of guarded values.
            order: ``BIP`` gives (lines, samples, bands), ``BIL`` (lines, bands, samples).
            out: a float32 array of that shape to write the result into (returned); None allocates one.
        """
        if order not in _ORDERS:
            raise InvalidArgumentError(f"a block is computed in BIP or BIL order, not {order.value}")
        raw = read_block(as_interleave(self.container.cube, self.layout.interleave, order)[start:stop])
        work = self.work_dtype
        inverse = self._inverse_block(start, stop, order)
        if out is not None and work == out.dtype:
            values = out
            np.copyto(values, raw, casting="unsafe")  # exact: every raw value is a float32 (see work_dtype)
        else:
            values = raw.astype(work)
        values -= self.black.block(start, stop, order).astype(work, copy=False)
        values *= inverse.astype(work, copy=False)
        tally.values += values.size
        tally.count(np.isnan(inverse), start, order, "nonpositive", lines=stop - start)
        top = self.top
        if top is not None:
            tally.count(raw == top, start, order, "saturated")
        if self.ignore is not None:
            values[raw == self.ignore] = np.nan
        if out is None:
            return values.astype(np.float32, copy=False)
        if values is not out:
            np.copyto(out, values, casting="same_kind")
        return out

    def _inverse_block(self, start: int, stop: int, order: Interleave) -> Array:
        """Return ``1 / ((W − B_w) · ratio)`` for lines ``start:stop`` in ``order``, NaN where ``W − B_w ≤ 0``."""
        if self.inverse is not None:
            return self.inverse[order]
        return _inverse(self.white.block(start, stop, order) - self.dark.block(start, stop, order), self.ratio)

    def findings(self, tally: Tally) -> list[Finding]:
        """Return the findings of what ``tally`` counted (spec/calibration.md#guards)."""
        found = []
        dark = self.dark.stem.rsplit("/", 1)[1]
        if tally.nonpositive and tally.first_nonpositive is not None:
            line, sample, band = tally.first_nonpositive
            found.append(_finding("DAT004", f"white is not above {dark} for {tally.nonpositive} of {tally.values} "
                                  f"values computed, made NaN; the first at line {line}, sample {sample}, band "
                                  f"{band} (0-based)", Location(member=envi_names(self.white.stem)[1])))
        if tally.saturated and tally.first_saturated is not None:
            line, sample, band = tally.first_saturated
            found.append(_finding("DAT005", f"{tally.saturated} raw values at the data type's maximum (saturated: "
                                  f"their reflectance is too low); the first at line {line}, sample {sample}, band "
                                  f"{band} (0-based)", Location(member=CUBE_DATA,
                                                                offset=self._offset(line, sample, band))))
        return found

    def _offset(self, line: int, sample: int, band: int) -> int:
        """Byte offset in ``data.envi`` of a (line, sample, band) value."""
        lay = self.layout
        index = {Interleave.BSQ: (band * lay.lines + line) * lay.samples + sample,
                 Interleave.BIL: (line * lay.bands + band) * lay.samples + sample,
                 Interleave.BIP: (line * lay.samples + sample) * lay.bands + band}[lay.interleave]
        return lay.header_offset + index * lay.data_type.itemsize


def reflectance(c: Container, lines: slice | None = None, *, findings: list[Finding] | None = None) -> Array:
    """Return the reflectance of a container's cube: float32, shaped (lines, samples, bands).

    ``R = (raw − B) / ((W − B_w) · t_cube / t_white)`` with the references of ``Reference/`` (spec/calibration.md):
    push-broom references are averaged over their lines, references with the cube's lines apply pixel by pixel;
    where ``W − B_w ≤ 0`` the result is NaN, and so is every raw value equal to ``data ignore value``.

    Args:
        c: An open container with ``Reference/white`` and ``Reference/black``.
        lines: Only these lines (a contiguous slice, clipped as Python clips it); None for all. Only those lines of
            the cube (and of per-pixel references) are read, so streaming and remote reads stay cheap.
        findings: Receives the findings (``DAT004``: values made NaN because ``W − B_w ≤ 0``; ``DAT005``:
            saturated raw values) of the lines computed; None issues each as a :class:`CalibrationWarning`.

    Returns:
        The reflectance of the selected lines.

    Raises:
        CalibrationError: the container cannot be calibrated (spec/calibration.md#refused).
        InvalidArgumentError: ``lines`` is not a contiguous slice.
        ContainerError, InputUnreadableError: a member cannot be read.
    """
    plan = CalibrationPlan.of(c)
    start, stop = plan.line_range(lines)
    tally = Tally()
    out = np.empty((stop - start, plan.layout.samples, plan.layout.bands), dtype=np.float32)
    step = max(1, SLAB_BYTES // max(plan.layout.samples * plan.layout.bands * 8, 1))
    for first in range(start, stop, step):
        last = min(stop, first + step)
        plan.compute(first, last, tally, out=out[first - start : last - start])
    report_findings(plan.findings(tally), findings)
    return out


# -- building the plan ----------------------------------------------------------------------------------------

def _layout(header: Header, member: str) -> CubeLayout:
    try:
        return CubeLayout.from_header(header)
    except FieldValueError as exc:
        raise CalibrationError(f"header layout is invalid: {exc}", member) from exc


def _value(header: Header, key: str, member: str) -> Any:
    try:
        return header.value(key)
    except FieldValueError as exc:
        raise CalibrationError(str(exc), member) from exc


def _reference(c: Container, which: str, cube: CubeLayout, notes: list[str], *, required: bool) -> Reference | None:
    stem = reference_stem(which)
    header_name, data_name = envi_names(stem)
    if header_name not in c or data_name not in c:
        if required:
            raise CalibrationError(f"the container has no {stem} reference ({header_name} and {data_name})")
        return None
    header = c.read_header(header_name)
    layout = _layout(header, header_name)
    if (layout.samples, layout.bands) != (cube.samples, cube.bands):
        raise CalibrationError(f"{layout.samples} samples and {layout.bands} bands, the cube has {cube.samples} and "
                               f"{cube.bands} (XRF003)", header_name)
    try:
        # a remote reference is read whole: a push-broom one is a few lines (spec/remote.md)
        image = as_interleave(np.asarray(c.open_array(data_name, header)), layout.interleave, Interleave.BIP)
    except ContainerError as exc:
        raise CalibrationError(str(exc), data_name) from exc
    mean = None if is_per_pixel(layout.lines, cube.lines) else line_mean(image)
    return Reference(stem=stem, lines=layout.lines, image=image, mean=mean,
                     exposure=_exposure(header, header_name, notes),
                     by_order=_by_order(mean) if mean is not None else MappingProxyType({}))


def _by_order(line: Array) -> Mapping[Interleave, Array]:
    """Return a (1, samples, bands) array with the axes of each order a block is computed in, contiguous."""
    return MappingProxyType({order: np.ascontiguousarray(as_interleave(line, Interleave.BIP, order))
                             for order in _ORDERS})


def _exposure(header: Header, member: str, notes: list[str]) -> float | None:
    """Return the positive integration time a header states (:data:`EXPOSURE_KEY`), else None (noted if unusable)."""
    entry = header.get(EXPOSURE_KEY)
    if entry is None:
        return None
    try:
        value = float(entry.value_raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        notes.append(f"{member}: {EXPOSURE_KEY} = {entry.value_raw!r} is not a positive number; not used")
        return None
    return value


def _ratio(cube: float | None, white: Reference, black: Reference, dark: Reference, notes: list[str]) -> float:
    """Return ``t_cube / t_white`` when both are stated and differ (else 1.0), noting what was (not) corrected."""
    ratio = 1.0
    if cube is not None and white.exposure is not None and cube != white.exposure:
        ratio = cube / white.exposure
        notes.append(f"the white was recorded with {EXPOSURE_KEY} = {white.exposure:g}, the cube with {cube:g}: "
                     f"white - {dark.stem.rsplit('/', 1)[1]} scaled by {ratio:g}")
    pairs: list[tuple[Reference, float | None, str]] = [(black, cube, "the cube")]
    if dark is not black:
        pairs.append((dark, white.exposure, "the white"))
    for ref, expected, what in pairs:
        if ref.exposure is not None and expected is not None and ref.exposure != expected:
            notes.append(f"{ref.stem} was recorded with {EXPOSURE_KEY} = {ref.exposure:g}, {what} with "
                         f"{expected:g}: a dark is subtracted as recorded (not scaled)")
    return ratio


def _inverse(difference: Array, ratio: float) -> Array:
    """Return ``1 / (difference · ratio)`` where positive, NaN elsewhere (float64)."""
    scaled = difference * ratio
    out = np.full(scaled.shape, np.nan)
    np.divide(1.0, scaled, out=out, where=scaled > 0)
    return out


def _finding(rule_id: str, message: str, location: Location) -> Finding:
    """Return a finding of a registered rule, with its default severity (the calibration has no profile)."""
    load_builtin_rules()
    rule = get_rule(rule_id)
    return Finding(rule=rule.id, name=rule.name, severity=rule.severity, level=rule.level, spec=rule.spec,
                   message=message, location=location)

