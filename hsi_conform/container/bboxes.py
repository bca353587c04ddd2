"""Parse the bounding-box CSV of D4.1 §2.9 (``name,left,top,width,height``) strictly and without raising.

The format decisions are in spec/consistency.md#bbox-format: UTF-8 (a leading BOM is skipped), the ``csv``
module's default dialect (comma, ``"`` quoting), an optional header row ``name,left,top,width,height``, blank
lines ignored, coordinates as ASCII decimal integers (blanks around them tolerated), 0-based pixel origin at the
top-left corner. Every problem is an :class:`CsvIssue` located at the physical line where its record starts and,
where it concerns one cell, the 0-based column index.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "COLUMNS",
    "FORMULA_PREFIXES",
    "MAX_ISSUES",
    "BoundingBox",
    "BoxesResult",
    "CsvIssue",
    "boxes_outside",
    "parse_bounding_boxes",
]

COLUMNS: tuple[str, ...] = ("name", "left", "top", "width", "height")
#: Cell prefixes that spreadsheets evaluate as formulas (OWASP "CSV injection").
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: Issues kept per file; a hostile CSV with millions of bad rows must not produce millions of findings.
MAX_ISSUES = 1000
# ASCII digits only: int() also accepts "٣" and "1_000", which other CSV readers do not.
_INTEGER = re.compile(r" *([0-9]{1,18}) *")


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundingBox:
    """One valid row.

    Attributes:
        name: The (possibly non-unique) class name, verbatim.
        left, top: Pixel coordinates of the top-left corner (0-based).
        width, height: Size in pixels (> 0).
        line: 1-based line where the row starts.
    """

    name: str
    left: int
    top: int
    width: int
    height: int
    line: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CsvIssue:
    """A problem of the CSV text.

    Attributes:
        code: ``encoding`` (not UTF-8), ``csv`` (unparseable quoting), ``columns`` (not 5 cells), ``integer``
            (a coordinate that is not an ASCII decimal integer), ``size`` (width or height 0) or ``formula``
            (a cell a spreadsheet would evaluate).
        message: A sentence.
        line: 1-based line where the record starts.
        column: 0-based cell index, when the issue concerns one cell.
    """

    code: str
    message: str
    line: int
    column: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BoxesResult:
    """What :func:`parse_bounding_boxes` found.

    Attributes:
        boxes: The rows that are valid boxes.
        issues: The problems, in file order (at most ``max_issues``).
        has_header: The first record is the header row.
        truncated: Parsing stopped at ``max_issues`` issues.
    """

    boxes: tuple[BoundingBox, ...]
    issues: tuple[CsvIssue, ...]
    has_header: bool = False
    truncated: bool = False


def parse_bounding_boxes(data: bytes, *, max_issues: int = MAX_ISSUES) -> BoxesResult:
    """Parse the bytes of a bounding-box CSV.

    Args:
        data: The file content.
        max_issues: Stop after this many issues (the result is then ``truncated``).

    Returns:
        The valid boxes and every issue; never raises.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        issue = CsvIssue(code="encoding", message=f"not UTF-8: byte 0x{data[exc.start]:02X} at offset {exc.start}",
                         line=line)
        return BoxesResult(boxes=(), issues=(issue,))
    boxes: list[BoundingBox] = []
    issues: list[CsvIssue] = []
    has_header = False
    for index, (line, row) in enumerate(_records(text.removeprefix("\ufeff"), issues)):
        if index == 0 and [c.strip(" ").lower() for c in row] == list(COLUMNS):
            has_header = True
            continue
        box = _row(row, line, issues)
        if box is not None:
            boxes.append(box)
        if len(issues) >= max_issues:
            return BoxesResult(boxes=tuple(boxes), issues=tuple(issues[:max_issues]), has_header=has_header,
                               truncated=True)
    return BoxesResult(boxes=tuple(boxes), issues=tuple(issues), has_header=has_header)


def _records(text: str, issues: list[CsvIssue]) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(start line, cells)`` of every non-blank record; a csv error ends the walk with an issue."""
    # strict: broken quoting is an error, not silently glued text (readers disagree on it).
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader cannot resynchronise after broken quoting: report once and stop.
            issues.append(CsvIssue(code="csv", message=f"unparseable CSV: {exc}", line=previous + 1))
            return
        start, previous = previous + 1, reader.line_num
        if row:
            yield start, row


def _row(row: list[str], line: int, issues: list[CsvIssue]) -> BoundingBox | None:
    for column, cell in enumerate(row):
        if cell.startswith(FORMULA_PREFIXES):
            issues.append(CsvIssue(code="formula", message=f"cell starts with {cell[0]!r}: a spreadsheet "
                                   "evaluates it as a formula", line=line, column=column))
    if len(row) != len(COLUMNS):
        issues.append(CsvIssue(code="columns", message=f"{len(row)} cells, expected 5 "
                               "(name,left,top,width,height)", line=line))
        return None
    numbers: list[int | None] = []
    for column in range(1, 5):
        match = _INTEGER.fullmatch(row[column])
        value = None if match is None else int(match.group(1))
        if value is None:
            issues.append(CsvIssue(code="integer", message=f"{COLUMNS[column]} is not a non-negative ASCII "
                                   "decimal integer", line=line, column=column))
        elif column >= 3 and value == 0:
            issues.append(CsvIssue(code="size", message=f"{COLUMNS[column]} is 0", line=line, column=column))
            value = None
        numbers.append(value)
    left, top, width, height = numbers
    if left is None or top is None or width is None or height is None:
        return None
    return BoundingBox(name=row[0], left=left, top=top, width=width, height=height, line=line)


def boxes_outside(boxes: tuple[BoundingBox, ...], samples: int, lines: int) -> Iterator[tuple[BoundingBox, int]]:
    """Yield each box that does not fit in a ``samples`` x ``lines`` image, with the offending column index.

    The column is 3 (width) when ``left + width > samples``, else 4 (height) when ``top + height > lines``.
    """
    for box in boxes:
        if box.left + box.width > samples:
            yield box, 3
        elif box.top + box.height > lines:
            yield box, 4
