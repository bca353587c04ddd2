"""What happens to the other members when ``read procedures`` change the cube (spec/procedures.md#members).

- **Previews** (``preview.*``, ``preview_<lod>.*``) show the old cube: they are left out (the previews stage of the
  pipeline renders new ones). The thumbnail is rendered again from the new cube (spec/pipeline.md#thumbnail-refresh).
- When every procedure is a ``crop`` or a ``rotate`` (pixels are only picked and moved), the members that are
  pictures of the same scene follow them: the ENVI pairs of ``Reference/`` (a white or black of one line, or of
  the cube's lines) through the same samples and bands, unless a quarter turn made their line run along the
  cube's lines (then they are left out); the ENVI pairs of ``Exploration/`` of the cube's lines and samples
  (class masks, the classification file) through the same lines and samples; the bounding boxes through the same
  pixels (a box cropped away is left out).
- After a ``resample``, ``merge`` or micro-service those members no longer describe the pixels: they are left out,
  with the header fields that name them (``classification file``, ``bounding boxes``, ``classes``,
  ``class names``, ``class lookup``).

``Metadata/``, any other member and every member of an unchanged cube are copied byte for byte.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hsi_conform.container.bboxes import COLUMNS, BoundingBox, parse_bounding_boxes
from hsi_conform.container.reader import Container, CubeLayout
from hsi_conform.errors import HsiConformError
from hsi_conform.header import parse_header
from hsi_conform.members import (
    BOUNDING_BOXES_FILE,
    DATA_SUFFIX,
    EXPLORATION_DIR,
    MemberKind,
    classify_member,
    header_of,
)
from hsi_conform.pipeline.output import Content
from hsi_conform.pipeline.procedure_fields import edit_index
from hsi_conform.pipeline.stages import ArrayStage, IndexStage, member_cube, read_all, storage_order
from hsi_conform.rules.consistency import MAX_CSV_BYTES, in_exploration

__all__ = ["CLASS_FIELDS", "MemberChanges", "member_changes"]

#: Header fields that describe the members of ``Exploration/``; removed when those members are.
CLASS_FIELDS = ("classification file", "bounding boxes", "classes", "class names", "class lookup")
_PREVIEWS = (MemberKind.PREVIEW_HEADER, MemberKind.PREVIEW_DATA)
_REFERENCES = (MemberKind.REFERENCE_HEADER, MemberKind.REFERENCE_DATA)


@dataclass(slots=True)
class MemberChanges:
    """Members to write anew and members to leave out, with what the record should say."""

    add: dict[str, Content] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    remove_fields: list[str] = field(default_factory=list)

    def leave_out(self, names: Sequence[str], why: str) -> None:
        """Leave ``names`` out of the output and say why."""
        if names:
            self.drop.extend(names)
            self.notes.append(f"{', '.join(names)} left out ({why})")


def member_changes(container: Container, index: IndexStage | None, changed: bool) -> MemberChanges:
    """Decide the fate of every member (see the module docstring).

    Args:
        container: the source container.
        index: the one composed crop/rotate stage when every procedure was a crop or a rotate, else None.
        changed: whether the cube changed at all (False: every member is kept).
    """
    out = MemberChanges()
    if not changed:
        return out
    names = [n for n in container.names if not n.endswith("/")]
    out.leave_out([n for n in names if classify_member(n).kind in _PREVIEWS], "previews of the old cube")
    pairs = _envi_pairs(container, names)
    refs = [p for p in pairs if classify_member(p).kind is MemberKind.REFERENCE_DATA]
    explore = [p for p in pairs if p.startswith(EXPLORATION_DIR)]
    boxes = _bounding_boxes(container)
    if index is None:
        out.leave_out([m for p in refs for m in (header_of(p), p)], "references no longer match the cube")
        out.leave_out([m for p in explore for m in (header_of(p), p)] + ([boxes] if boxes else []),
                      "class masks and boxes no longer match the pixels")
        out.remove_fields.extend(CLASS_FIELDS)
        return out
    for name in refs:
        _follow(container, name, index, out, reference=True)
    for name in explore:
        _follow(container, name, index, out, reference=False)
    if boxes:
        _follow_boxes(container, boxes, index, out)
    return out


def _envi_pairs(container: Container, names: Sequence[str]) -> list[str]:
    """Return the ``.envi`` members of ``Reference/`` and ``Exploration/`` that have their header."""
    present = set(names)
    return [n for n in names if n.endswith(DATA_SUFFIX) and header_of(n) in present
            and (classify_member(n).kind in _REFERENCES or n.startswith(EXPLORATION_DIR))]


def _bounding_boxes(container: Container) -> str | None:
    try:
        value = container.header.value("bounding boxes")
    except HsiConformError:
        value = None
    member = in_exploration(value if isinstance(value, str) and value.strip() else BOUNDING_BOXES_FILE)
    return member if member in container else None


def _follow(container: Container, name: str, index: IndexStage, out: MemberChanges, *, reference: bool) -> None:
    """Write a reference or exploration pair through the picking of ``index``, or leave it out."""
    header_name = header_of(name)
    try:
        header = container.read_header(header_name)
        array = member_cube(container, name, header)
    except HsiConformError as exc:
        out.leave_out([header_name, name], f"unreadable: {exc}")
        return
    stage = _stage_for(array, index, reference)
    if stage is None:
        why = "a quarter turn" if reference and index.swapped else "not the cube's size"
        out.leave_out([header_name, name], f"{why}: it cannot follow the procedures")
        return
    new_header = parse_header(header.to_bytes())
    edit_index(new_header, stage, [])
    layout = CubeLayout.from_header(header)
    new_header.set("header offset", 0)
    out.add[header_name] = new_header.to_bytes()
    out.add[name] = storage_order(read_all(stage), layout.interleave)


def _stage_for(array: np.ndarray[Any, Any], index: IndexStage, reference: bool) -> IndexStage | None:
    """Return how a member's pixels follow ``index``, or None when they cannot."""
    lines, samples, bands = index.parent.shape
    m_lines, m_samples, m_bands = array.shape
    source = ArrayStage(array)
    if reference:
        if index.swapped or (m_samples, m_bands) != (samples, bands) or m_lines not in (1, lines):
            return None
        rows = index.rows if m_lines == lines else range(1)
        return IndexStage(source, rows, index.cols, index.bands)
    if (m_lines, m_samples) != (lines, samples):
        return None
    return IndexStage(source, index.rows, index.cols, range(m_bands), index.swapped)


def _follow_boxes(container: Container, member: str, index: IndexStage, out: MemberChanges) -> None:
    """Write the bounding boxes through the picking of ``index`` (a box cropped away is left out)."""
    try:
        result = parse_bounding_boxes(container.read_bytes(member, limit=MAX_CSV_BYTES))
    except HsiConformError as exc:
        out.leave_out([member], f"unreadable: {exc}")
        return
    if result.issues:
        out.leave_out([member], "not a valid bounding-box CSV, so it cannot follow the procedures")
        return
    kept = [b for b in (_move_box(box, index) for box in result.boxes) if b is not None]
    if len(kept) < len(result.boxes):
        out.notes.append(f"{len(result.boxes) - len(kept)} bounding box(es) cropped away")
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(kept)
    out.add[member] = text.getvalue().encode("utf-8")


def _move_box(box: BoundingBox, index: IndexStage) -> tuple[str, int, int, int, int] | None:
    """Return ``(name, left, top, width, height)`` of a box after ``index``, or None when none of it is left."""
    across = (box.left, box.left + box.width)  # source samples
    down = (box.top, box.top + box.height)  # source lines
    rows = _positions(index.rows, across if index.swapped else down)
    cols = _positions(index.cols, down if index.swapped else across)
    if rows is None or cols is None:
        return None
    return box.name, cols[0], rows[0], cols[1], rows[1]


def _positions(axis: range, span: tuple[int, int]) -> tuple[int, int] | None:
    """Return ``(first, count)`` of the output positions whose source index lies in ``span``."""
    hits = np.flatnonzero((np.asarray(axis) >= span[0]) & (np.asarray(axis) < span[1]))
    return (int(hits[0]), len(hits)) if len(hits) else None

