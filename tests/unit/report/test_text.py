from __future__ import annotations

from typing import Any

from hsi_conform.finding import Finding, Level, Location, Report, Severity, Skipped
from hsi_conform.report import FORMATS, render
from hsi_conform.report.text import clean, render_text


def finding(rule: str = "HDR001", severity: Severity = Severity.ERROR, **where: Any) -> Finding:
    return Finding(
        rule=rule,
        name="hdr-key-case",
        severity=severity,
        level=Level.SYNTAX,
        spec="h.md#keys",
        message="key is not lower case",
        location=Location(**where),
    )


def lines_of(text: str) -> list[str]:
    return text.splitlines()


def test_finding_line_shows_location_severity_rule_and_excerpt_with_caret() -> None:
    f = finding(member="data.hdr", line=3, column=5, end_line=3, end_column=12, excerpt="    Samples = 10\n")
    out = lines_of(render_text([Report(path="a.hsi", findings=(f,))], color=False))
    assert out[0].startswith("a.hsi:data.hdr:3:5: error HDR001 [hdr-key-case] ")
    assert out[1].endswith("|     Samples = 10")
    caret_line = out[2]
    excerpt_line = out[1]
    assert caret_line.index("^") == excerpt_line.index("S")
    assert caret_line.rstrip().endswith("^" + "~" * 6)
    assert "\x1b" not in "\n".join(out)


def test_caret_under_column_after_tabs() -> None:
    f = finding(member="data.hdr", line=1, column=3, excerpt="\t\tx = 1")
    out = lines_of(render_text([Report(path="a.hsi", findings=(f,))]))
    assert out[2].split("| ", 1)[1] == "\t\t^"


def test_long_lines_are_windowed_around_the_column() -> None:
    excerpt = "a" * 500_000 + "X" + "b" * 500_000
    f = finding(member="data.hdr", line=1, column=500_001, excerpt=excerpt)
    out = lines_of(render_text([Report(path="a.hsi", findings=(f,))]))
    assert len(out[1]) < 200
    assert out[2].index("^") == out[1].index("X")


def test_summary_counts_verdict_and_skipped_levels() -> None:
    report = Report(
        path="a.hsi",
        findings=(finding(severity=Severity.FATAL), finding(rule="HDR002", severity=Severity.WARNING)),
        skipped=(Skipped("semantics", "HDR001 is fatal"), Skipped("consistency", "HDR001 is fatal")),
        internal_errors=("XRF001: boom",),
    )
    out = lines_of(render_text([report]))
    summary = next(line for line in out if line.startswith("a.hsi: NONCONFORMANT"))
    assert "1 fatal" in summary and "0 error" in summary and "1 warning" in summary
    assert sum("skipped level semantics" in line for line in out) == 1
    assert sum("skipped level consistency" in line for line in out) == 1
    assert sum("XRF001" in line for line in out) == 1


def test_caret_on_a_cut_excerpt() -> None:
    f = finding(member="data.hdr", line=1, column=5000, excerpt="abcdXefgh", excerpt_start=4996)
    out = lines_of(render_text([Report(path="a.hsi", findings=(f,))]))
    assert out[2].index("^") == out[1].index("X")


def test_conformant_file_and_multi_file_total() -> None:
    out = lines_of(render_text([Report(path="a.hsi"), Report(path="b.hsi", findings=(finding(),))]))
    assert out[-1].startswith("2 files: 1 conformant, 1 nonconformant")
    assert any(line.startswith("a.hsi: conformant") for line in out)


def test_aggregated_finding_lists_other_locations() -> None:
    f = Finding(
        rule="HDR002",
        name="hdr-crlf",
        severity=Severity.WARNING,
        level=Level.SYNTAX,
        spec="a#b",
        message="CRLF",
        location=Location(member="data.hdr", line=1),
        count=7,
        other_locations=tuple(Location(member="data.hdr", line=n) for n in range(2, 7)),
    )
    out = render_text([Report(path="a.hsi", findings=(f,))])
    assert "7" in out and "data.hdr:2" in out and "data.hdr:4" in out and "data.hdr:5" not in out


def test_color_only_when_asked() -> None:
    report = Report(path="a.hsi", findings=(finding(member="data.hdr", line=1, column=1, excerpt="x"),))
    assert "\x1b[" in render_text([report], color=True)
    assert "\x1b[" not in render_text([report], color=False)


def test_hostile_text_is_escaped() -> None:
    f = finding(member="evil\x1b[2J\u202e.hdr", line=1, column=2, excerpt="a\x1b]0;pwn\x07b")
    out = render_text([Report(path="a\x00.hsi", findings=(f,))], color=False)
    for char in ("\x1b", "\x07", "\x00", "\u202e"):
        assert char not in out
    assert clean("ok\x1b") == "ok\\x1b"
    assert clean("\ud800") == "\\ud800"
    assert clean("a\tb", keep="\t") == "a\tb"


def test_render_dispatches_every_format() -> None:
    assert {"text", "json", "sarif", "junit", "html"} == FORMATS
    reports = [Report(path="a.hsi", findings=(finding(),))]
    assert render("text", reports) == render_text(reports, color=False)
    for fmt in FORMATS:
        assert render(fmt, reports, rules=())
    import pytest

    with pytest.raises(ValueError):
        render("pdf", reports)


def test_an_unreadable_input_has_its_own_verdict_and_total() -> None:
    text = render_text([Report(path="a.hsi"), Report.unreadable("nope.hsi", "gone")])
    lines = text.splitlines()
    assert lines[1].startswith("nope.hsi: UNREADABLE") and "gone" in lines[1]
    assert lines[-1].endswith("1 conformant, 0 nonconformant, 1 unreadable")
