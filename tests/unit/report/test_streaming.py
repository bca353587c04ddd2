"""Writers that take reports one at a time (spec/report.md#streaming): the same bytes as the whole-list documents.

The expected JSON and JUnit documents are built here the way the renderers built them before they streamed (one
dictionary, one element tree), so a writer that drifted from them fails.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hsi_conform.finding import Finding, Level, Location, Report, Severity, Skipped
from hsi_conform.report import FORMATS, RENDERERS, WRITERS, RenderOptions, open_writer, render
from hsi_conform.report.json import SCHEMA_VERSION, dump_json, report_to_dict
from hsi_conform.report.junit import _suite
from hsi_conform.report.text import TextWriter
from hsi_conform.rules import load_builtin_rules
from hsi_conform.validate import CheckOptions
from hsi_conform.validate.batch import check_many
from hsi_conform.validate.engine import Policy
from tests._paths import FIXTURES


def _made() -> list[Report]:
    hostile = Finding(rule="ZIP001", name="zip-x", severity=Severity.ERROR, level=Level.CONTAINER, spec="x.md#y",
                      message="bad \udcff name \x1b[31m", location=Location(member="a\udcffb", line=2, column=3,
                                                                           excerpt="x = \"y\"\n"))
    return [
        Report(path="one.hsi", findings=(hostile,), rules_run=("ZIP001",)),
        Report.unreadable("missing.hsi", "not found", profile="reader", content="crc", fail_on=Severity.WARNING),
        Report(path="clean.hsi", skipped=(Skipped(target="DAT001", reason="needs data", needs="full"),)),
    ]


@pytest.fixture(scope="module")
def reports() -> list[Report]:
    """Real reports of the fixtures (findings, input errors, skipped rules), and made ones with hostile text."""
    paths = [*sorted(FIXTURES.glob("*/*/*.hsi"))[:30], FIXTURES / "no-such.hsi"]
    return check_many([(p, Policy()) for p in paths], CheckOptions()) + _made()


def _json_document(reports: list[Report]) -> str:
    files = [report_to_dict(r) for r in reports]
    counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
    for r in reports:
        for label, n in r.counts.items():
            counts[label] += n
    profiles = {r.profile for r in reports}
    return dump_json({
        "schema_version": SCHEMA_VERSION, "tool": "hsi-conform", "tool_version": "9.9",
        "profile": profiles.pop() if len(profiles) == 1 else ("mixed" if profiles else "exchange"),
        "conformant": all(r.conformant for r in reports), "counts": counts,
        "findings": [f for file in files for f in file["findings"]], "files": files})


def _junit_document(reports: list[Report]) -> str:
    rules = {rule.id: rule for rule in load_builtin_rules()}
    root = ET.Element("testsuites", {"name": "hsi-conform"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for r in reports:
        for key, value in _suite(root, r, rules, "9.9").items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


@pytest.mark.parametrize("n", [0, 1, 2, 7, None])
def test_json_and_junit_writers_give_the_whole_list_documents(reports: list[Report], n: int | None) -> None:
    some = reports[:n]
    assert render("json", some, tool_version="9.9") == _json_document(some)
    assert render("junit", some, tool_version="9.9") == _junit_document(some)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_writes_what_it_renders(reports: list[Report], fmt: str) -> None:
    if fmt == "html":
        pytest.importorskip("jinja2")
    options = RenderOptions(tool_version="9.9")
    out = io.StringIO()
    writer = open_writer(fmt, out, options)
    for report in reports:
        writer.write(report)
    writer.close()
    assert out.getvalue() == RENDERERS[fmt](reports, options)


def test_the_streamed_formats_are_text_json_and_junit() -> None:
    assert set(WRITERS) == {"text", "json", "junit"} and set(WRITERS) <= FORMATS
    with pytest.raises(ValueError, match="unknown report format 'yaml'"):
        open_writer("yaml", io.StringIO())


def test_text_is_written_as_each_report_arrives(reports: list[Report]) -> None:
    out = io.StringIO()
    writer = TextWriter(out)
    writer.write(reports[0])
    first = out.getvalue()
    assert first.endswith("\n") and f"{reports[0].path}: " in first  # its verdict is out before the next report
    writer.write(reports[1])
    assert out.getvalue().startswith(first) and reports[1].path in out.getvalue()[len(first):]
    writer.close()
    assert out.getvalue().splitlines()[-1].startswith("2 files: ")


def test_quiet_text_shows_a_lone_conformant_verdict_only_at_the_end(reports: list[Report]) -> None:
    clean = next(r for r in reports if r.conformant and not r.findings)
    out = io.StringIO()
    writer = TextWriter(out, verbosity=-1)
    writer.write(clean)
    assert out.getvalue() == ""  # another file may follow: then it is not shown
    writer.close()
    assert out.getvalue().startswith(f"{clean.path}: conformant")
    out = io.StringIO()
    writer = TextWriter(out, verbosity=-1)
    writer.write(clean)
    writer.write(clean)
    writer.close()
    assert out.getvalue() == "2 files: 2 conformant, 0 nonconformant\n"


def test_a_spool_past_its_memory_goes_to_a_temporary_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hsi_conform.report import _spool

    monkeypatch.setattr(_spool, "_IN_MEMORY", 100)
    spool = _spool.Spool(",")
    for i in range(50):
        spool.add(f"item {i}")
    assert spool._file._rolled  # type: ignore[attr-defined]  # on disk now
    out = io.StringIO()
    spool.copy_to(out)
    assert out.getvalue() == ",".join(f"item {i}" for i in range(50))
