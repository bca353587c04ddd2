"""Write a calibrated container: the reflectance of a raw container, computed while it is written.

The cube is calibrated a slab of lines at a time (:class:`~hsi_conform.container.write.ComputedCube`) and
published through :func:`~hsi_conform.pipeline.output.publish`, so memory does not grow with the cube. The
destination keeps the source's members byte for byte (references, ``Exploration/``, ``Metadata/``) except the
previews, which show the raw data; its header says what the cube now holds, ``description`` and
:data:`~hsi_conform.members.CALIBRATION_RECORD` say what was done (spec/calibration.md#output).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform._outputs import refuse_output_on_input
from hsi_conform._version import __version__
from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container
from hsi_conform.container.write import ComputedCube
from hsi_conform.converters.base import Blob
from hsi_conform.errors import InvalidArgumentError, ProcedureError
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.finding import Finding, Report
from hsi_conform.header import Header, parse_header
from hsi_conform.header.model import Entry
from hsi_conform.header.procedures import Microservice, parse_procedure
from hsi_conform.members import (
    CALIBRATION_RECORD,
    CUBE_DATA,
    CUBE_HEADER,
    SOURCE_REPORT,
    MemberKind,
    classify_member,
    envi_names,
)
from hsi_conform.pipeline.calibration import EXPOSURE_KEY, CalibrationPlan, Tally, report_findings
from hsi_conform.pipeline.output import Content, Later, publish

__all__ = ["CALIBRATION_SERVICES", "DTYPES", "NAN_CODE", "Calibrated", "calibrate"]

DTYPES: tuple[str, ...] = ("float32", "uint16")
"""The data types ``calibrate`` writes: float32 (the reflectance itself) or uint16 (``round(R · scale)``)."""
DEFAULT_SCALE = 10000.0
"""The scale of uint16 output when none is given: reflectance 1 is 10000 (0.01 % steps)."""
NAN_CODE = 65535
"""The uint16 value of a reflectance that is NaN; it is the destination's ``data ignore value`` (reflectances
are clipped to 0-65534)."""
CALIBRATION_SERVICES: tuple[str, ...] = ("reflectance", "calibrate", "calibration")
"""``microservice:`` names (any case) that stand for this calibration in ``read procedures``: ``calibrate``
removes them, because its output has done that step (spec/calibration.md#procedures)."""
RECORD_FORMAT = "hsi-conform/calibration"
FORMULA = "R = (raw - B) / ((W - B_w) * t_cube / t_white)"
_PREVIEWS = (MemberKind.PREVIEW_HEADER, MemberKind.PREVIEW_DATA)


@dataclass(frozen=True, slots=True)
class Calibrated:
    """What :func:`calibrate` wrote.

    Attributes:
        path: the destination.
        notes: what it decided, in words (exposure scaling, dropped previews, removed procedures, NaN values).
        record: the content of :data:`~hsi_conform.members.CALIBRATION_RECORD` in the destination.
    """

    path: Path
    notes: tuple[str, ...]
    record: Mapping[str, Any]


@dataclass(slots=True)
class _Counts:
    """Values of the written cube that are NaN (float32) or :data:`NAN_CODE` (uint16)."""

    nan: int = 0


def calibrate(source: Container | str | os.PathLike[str], dest: str | os.PathLike[str], *,
              dtype: str = "float32", scale: float | None = None, thumbnail: bool = True,
              findings: list[Finding] | None = None, source_report: Report | None = None) -> Calibrated:
    """Write ``dest``: the container ``source`` with its cube calibrated to reflectance (spec/calibration.md#output).

    Args:
        source: a raw container with ``Reference/white`` and ``Reference/black`` (a path, or an open container,
            which stays open).
        dest: the new ``.hsi`` file; never the source.
        dtype: ``"float32"`` (default) or ``"uint16"``: ``round(R · scale)`` clipped to 0-65534, NaN as
            :data:`NAN_CODE`, with ``reflectance scale factor = scale``.
        scale: the uint16 scale (default :data:`DEFAULT_SCALE`); not allowed with float32.
        thumbnail: render ``thumbnail.jpg`` from the calibrated cube (False: the destination has none).
        findings: receives the calibration's findings (``DAT004``, ``DAT005``); None issues each as a
            :class:`~hsi_conform.pipeline.calibration.CalibrationWarning`.
        source_report: the validation report of ``source``; a nonconformant one is kept in the destination as
            :data:`~hsi_conform.members.SOURCE_REPORT` (the command line judges its source first).

    Returns:
        The destination, the notes and the record.

    Raises:
        InvalidArgumentError: an unknown ``dtype``, or a ``scale`` that is not a positive number (or is given
            with float32).
        CalibrationError: the container cannot be calibrated (spec/calibration.md#refused); nothing is written.
        OutputIsInputError, NoSpaceError, InUseError, OutputUnwritableError: see
            :func:`~hsi_conform.pipeline.output.publish`.
        ContainerError, InputUnreadableError: a member of the source cannot be read.
    """
    scale = _options(dtype, scale)
    if isinstance(source, Container):
        return _calibrate(source, Path(dest), dtype, scale, thumbnail, findings, source_report)
    with open_container(source) as container:
        return _calibrate(container, Path(dest), dtype, scale, thumbnail, findings, source_report)


def _options(dtype: str, scale: float | None) -> float | None:
    """Check the options and return the scale to use (None for float32)."""
    if dtype not in DTYPES:
        raise InvalidArgumentError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    if dtype == "float32":
        if scale is not None:
            raise InvalidArgumentError("scale applies to uint16 output only")
        return None
    value = DEFAULT_SCALE if scale is None else scale
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise InvalidArgumentError(f"scale must be a positive number, not {scale!r}")
    return float(value)


def _calibrate(c: Container, dest: Path, dtype: str, scale: float | None, thumbnail: bool,
               findings: list[Finding] | None, source_report: Report | None) -> Calibrated:
    refuse_output_on_input([dest], [c.path])  # before the inputs are hashed
    plan = CalibrationPlan.of(c)
    order = Interleave.BIL if plan.layout.interleave is Interleave.BSQ else plan.layout.interleave
    header, removed = _header(c, plan, order, scale)
    previews = [name for name in c.names if classify_member(name).kind in _PREVIEWS]
    notes = list(plan.notes)
    if previews:
        notes.append(f"previews of the raw data left out: {', '.join(previews)}")
    if removed:
        notes.append(f"read procedures done by the calibration removed: {', '.join(removed)}")
    hashing = InputDigests(c, _inputs(plan))  # read while the cube is computed and written
    record = _record(c, plan, order, dtype, scale, removed, previews, hashing.placeholder())
    add: dict[str, Content] = {CALIBRATION_RECORD: Later(lambda: _record_bytes(record | {"inputs": hashing.result()}),
                                                         len(_record_bytes(record)))}
    if source_report is not None and not source_report.conformant:
        from hsi_conform.report import render

        add[SOURCE_REPORT] = render("json", [source_report]).encode("utf-8")
    tally, counts = Tally(), _Counts()
    lay = plan.layout
    cube = ComputedCube(order.shape(lay.lines, lay.samples, lay.bands), np.dtype("<f4" if scale is None else "<u2"),
                        lambda start, stop: _encode(plan.compute(start, stop, tally, order), scale, counts))
    try:
        path = publish(c, dest, header=header, cube=cube, add=add, drop=previews, thumbnail=thumbnail)
    except BaseException:
        hashing.cancel()  # nothing to record: stop reading the inputs before the error goes on
        raise
    record["inputs"] = hashing.result()
    if counts.nan:
        shown = "NaN" if scale is None else f"{NAN_CODE} (the data ignore value)"
        notes.append(f"{counts.nan} values have no reflectance and are stored as {shown}")
    report_findings(plan.findings(tally), findings)
    return Calibrated(path=path, notes=tuple(notes), record=record)


def _encode(reflectance: np.ndarray[Any, Any], scale: float | None, counts: _Counts) -> np.ndarray[Any, Any]:
    """Return a computed block as written: float32, or ``round(R · scale)`` as uint16 with NaN as :data:`NAN_CODE`."""
    nan = np.isnan(reflectance)
    counts.nan += int(np.count_nonzero(nan))
    if scale is None:
        return reflectance.astype("<f4", copy=False)
    scaled = np.rint(reflectance.astype(np.float64) * scale)
    np.clip(scaled, 0, NAN_CODE - 1, out=scaled)
    scaled[nan] = NAN_CODE
    return scaled.astype("<u2")


# -- the destination's header ---------------------------------------------------------------------------------

def _header(c: Container, plan: CalibrationPlan, order: Interleave, scale: float | None) -> tuple[Header, list[str]]:
    """Return the destination's header (the source's, edited entry by entry) and the procedures it removed."""
    header = parse_header(c.header.to_bytes())
    header.set("data type", DataType.FLOAT32 if scale is None else DataType.UINT16)
    header.set("interleave", order.value)
    header.set("byte order", ByteOrder.LITTLE)
    header.set("header offset", 0)
    for key in ("data gain values", "data offset values"):  # they describe the raw encoding
        header.remove(key)
    header.set("data ignore value", math.nan if scale is None else NAN_CODE)
    if scale is not None:
        header.set("reflectance scale factor", int(scale) if scale.is_integer() else scale)
    header, removed = _without_calibration_procedures(header)
    header.set("description", _description(header, c, plan, scale))
    return header, removed


def _is_calibration(item: str) -> bool:
    try:
        procedure = parse_procedure(item)
    except ProcedureError:
        return False  # an invalid item is kept as it is (FLD019 reports it)
    return isinstance(procedure, Microservice) and procedure.service.lower() in CALIBRATION_SERVICES


def _without_calibration_procedures(header: Header) -> tuple[Header, list[str]]:
    """Return the header without the ``read procedures`` items the calibration did, and those items."""
    entry = header.get("read procedures")
    if entry is None or not entry.items:
        return header, []
    removed = [item for item in entry.items if _is_calibration(item)]
    if not removed:
        return header, []
    kept = [item for item in entry.items if not _is_calibration(item)]
    # Items may hold nested braces, which Header.set refuses to write: the entry's text is rebuilt instead.
    text = f"{entry.key_raw} = {{{', '.join(kept)}}}{entry.eol}" if kept else ""
    lines = [text if line is entry else line.text for line in header.lines
             if line is entry or not (isinstance(line, Entry) and line.key == entry.key)]
    return parse_header("".join(lines).encode("utf-8", "surrogateescape")), removed


def _description(header: Header, c: Container, plan: CalibrationPlan, scale: float | None) -> str:
    dark = plan.dark.stem.rsplit("/", 1)[1]
    denominator = f"(white - {dark})" if plan.ratio == 1.0 else f"((white - {dark}) x {plan.ratio:g})"
    stored = "float32 reflectance" if scale is None else f"reflectance x {scale:g} as uint16"
    ours = (f"Calibrated by hsi-conform {__version__} from {c.path.name}: R = (raw - black) / {denominator}, "
            f"{stored}; see {CALIBRATION_RECORD}.")
    before = header.value("description")
    return f"{before.rstrip()}\n{ours}" if isinstance(before, str) and before.strip() else ours


# -- the record -----------------------------------------------------------------------------------------------

def _inputs(plan: CalibrationPlan) -> list[str]:
    """Return the members the calibration reads: the cube's pair and each reference's."""
    stems = (plan.white.stem, plan.black.stem, plan.dark.stem)
    return list(dict.fromkeys([CUBE_HEADER, CUBE_DATA, *(n for stem in stems for n in envi_names(stem))]))


def _record_bytes(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, indent=2) + "\n").encode()


def _record(c: Container, plan: CalibrationPlan, order: Interleave, dtype: str, scale: float | None,
            removed: list[str], previews: list[str], inputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Return what :data:`CALIBRATION_RECORD` holds (spec/calibration.md#record), with ``inputs`` as given."""
    refs = {ref.stem: {"lines": ref.lines, "applied": "per pixel" if ref.per_pixel else "mean over lines",
                       "exposure": ref.exposure}
            for ref in (plan.white, plan.black, plan.dark)}
    return {
        "format": RECORD_FORMAT,
        "version": 1,
        "tool": f"hsi-conform {__version__}",
        "source": c.path.name,
        "inputs": inputs,
        "formula": FORMULA,
        "references": {"W": plan.white.stem, "B": plan.black.stem, "B_w": plan.dark.stem, **refs},
        "exposure": {"key": EXPOSURE_KEY, "cube": plan.exposure, "white": plan.white.exposure, "ratio": plan.ratio},
        "options": {"dtype": dtype, "scale": scale, "interleave": order.value},
        "nan": "NaN" if scale is None else NAN_CODE,
        "removed_procedures": removed,
        "left_out": previews,
    }


class InputDigests:
    """``{member: {"size", "sha256"}}`` of the calibration's inputs, each read once, in a background thread.

    The hashing overlaps the computing and writing of the cube (hashlib and the reads release the GIL); the record
    that holds the digests is written after the cube (spec/pipeline.md#overlap).
    """

    def __init__(self, c: Container, names: list[str]) -> None:
        self._members = [(name, c.info(name)) for name in names]
        self._digests: dict[str, dict[str, Any]] = {}
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hsi-digests", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for name, info in self._members:
                digest = hashlib.sha256()
                for chunk in Blob(info.file, info.offset, info.size).chunks():
                    if self._stop.is_set():
                        return
                    digest.update(chunk)
                self._digests[name] = {"size": info.size, "sha256": digest.hexdigest()}
        except BaseException as exc:  # re-raised by result()
            self._error = exc

    def placeholder(self) -> dict[str, dict[str, Any]]:
        """Return the digests' shape with 64 zeros for each digest (a record of the final size)."""
        return {name: {"size": info.size, "sha256": "0" * 64} for name, info in self._members}

    def result(self) -> dict[str, dict[str, Any]]:
        """Wait for the thread and return the digests (re-raising its error: an input that cannot be read)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return dict(self._digests)

    def cancel(self) -> None:
        """Stop the thread after its current chunk and wait for it (its digests are not wanted any more)."""
        self._stop.set()
        self._thread.join()
