"""Header parsing is linear in the size of the header, in memory as in time (issue 11 item 5).

Memory is asserted, not time: ``tracemalloc``'s peak is deterministic. The budgets are bytes of peak per byte of
header, measured on the shapes that cost most per byte: a million short lines, and long lists of short items.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from hsi_conform.errors import FieldValueError
from hsi_conform.fields import BY_KEY
from hsi_conform.header import parse_header
from hsi_conform.header.values import check_number_items, parse_float, parse_int, plain_number_items
from hsi_conform.testing.samples import sample_members, write_members
from hsi_conform.validate import check
from tests._support import traced_peak

SIZE = 1 << 19  # 512 KiB: large enough for the per-byte constant to dominate, small enough to stay fast
BASE = b"ENVI\nsamples = 2\nlines = 2\nbands = 2\nheader offset = 0\ndata type = 1\ninterleave = bsq\nbyte order = 0\n"

SHAPES: dict[str, tuple[Callable[[int], bytes], float]] = {
    # shape: (body of about n bytes, budget in bytes of peak per byte of header)
    "short lines": (lambda n: b"".join(b"key%d = value\n" % i for i in range(n // 16)), 32.0),
    "one-line list": (lambda n: b"fwhm = {" + b", ".join([b"1234.5"] * (n // 8)) + b"}\n", 16.0),
    "list of one-digit items": (lambda n: b"bbl = {" + b",".join([b"1"] * (n // 2)) + b"}\n", 16.0),
    "list item per line": (lambda n: b"fwhm = {\n" + b",\n".join([b"1234.5"] * (n // 8)) + b"}\n", 16.0),
}



@pytest.mark.parametrize("shape", list(SHAPES))
def test_parse_peak_memory_is_a_small_multiple_of_the_header(shape: str) -> None:
    make, budget = SHAPES[shape]
    data = BASE + make(SIZE)
    peak = traced_peak(lambda: parse_header(data))
    assert peak <= budget * len(data), f"{peak / len(data):.1f} bytes per byte"
    # Linear: four times the header costs four times the memory, not sixteen.
    bigger = BASE + make(4 * SIZE)
    assert traced_peak(lambda: parse_header(bigger)) <= 4.5 * peak


@pytest.mark.parametrize("shape", ["list of one-digit items", "short lines"])
def test_validation_peak_memory_is_a_small_multiple_of_the_header(shape: str, tmp_path: Path) -> None:
    # The validator judges every item of a million-item list without an object per item (it took 60 bytes of
    # memory and 1.2 s per byte of such a header).
    members = sample_members()
    members["data.hdr"] += SHAPES[shape][0](SIZE)
    path = write_members(tmp_path / "big.hsi", members)
    size = len(members["data.hdr"])
    del members
    reports = []
    peak = traced_peak(lambda: reports.append(check(path)))
    assert peak <= 40 * size, f"{peak / size:.1f} bytes per byte"
    assert not reports[0].internal_errors


ALPHABET = "0123456789+-.eE"


@pytest.mark.parametrize("seed", range(40))
def test_fast_number_check_agrees_with_the_item_parsers(seed: int) -> None:
    rng = random.Random(seed)
    items = tuple("".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 4))) for _ in range(rng.randint(1, 6)))
    for key in ("bbl", "default bands", "data ignore value"):  # float list, int list, nonfinite-allowed scalar kind
        spec = BY_KEY[key]
        if not spec.is_list:
            continue
        integers = spec.kind.value.startswith("int")
        expected = True
        try:
            for i, t in enumerate(items):
                parse_int(t, item=i) if integers else parse_float(t, item=i, nonfinite=spec.nonfinite)
        except FieldValueError:
            expected = False
        try:
            check_number_items(items, spec)
            got = True
        except FieldValueError:
            got = False
        assert got == expected, (key, items)
        if plain_number_items(items, integers=integers) and expected:
            assert all(float(t) == float(t) for t in items)


def test_byte_offsets_of_a_non_ascii_header() -> None:
    # Each offset used to encode the whole text before it: quadratic in the diagnostics of a large header.
    lines = [f"k{i} = é{'x' * (i % 7)}\n" if i % 3 else f"junk ü {i}\n" for i in range(3000)]
    text = "ENVI\n" + "".join(lines)
    header = parse_header(text.encode())
    rng = random.Random(7)
    for offset in [0, len(text), *(rng.randrange(len(text)) for _ in range(200))]:
        assert header.byte_offset(offset) == len(text[:offset].encode())
    starts = [0, *(i + 1 for i, ch in enumerate(text) if ch == "\n")]
    assert header.diagnostics
    for d in header.diagnostics:
        char = starts[d.line - 1] + d.column - 1
        assert d.offset == len(text[:char].encode())


def _naive_long_lines(text: str, limit: int) -> list[tuple[int, int]]:
    out, start = [], 0
    for line in re.split(r"\r\n|\r|\n", text):
        if len(line) > limit:
            out.append((start, start + len(line)))
        start += len(line) + (2 if text.startswith("\r\n", start + len(line)) else 1)
    return out


@pytest.mark.parametrize("seed", range(60))
def test_long_lines_are_found_without_splitting_the_text(seed: int) -> None:
    rng = random.Random(seed)
    pieces = [rng.choice(["\n", "\r", "\r\n", "x" * rng.randint(0, 30)]) for _ in range(rng.randint(0, 40))]
    text = "".join(pieces)
    from hsi_conform.header.checks import long_line_spans

    assert list(long_line_spans(text, 8)) == _naive_long_lines(text, 8)
