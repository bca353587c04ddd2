from __future__ import annotations

import pickle
import typing
from dataclasses import replace
from typing import Any

import pytest

from hsi_conform.errors import (
    ConfigError,
    ConformanceError,
    ContainerError,
    ConverterNotFoundError,
    ConverterUnavailableError,
    FieldValueError,
    HsiConformError,
    InputUnreadableError,
    NotAnEnviHeaderError,
)
from hsi_conform.finding import (
    FINGERPRINT_KEY,
    BaselineEntry,
    BaselineState,
    Finding,
    Level,
    Location,
    Problem,
    Report,
    Severity,
    Skipped,
    fingerprints,
    normalise_message,
)


def make(
    rule: str = "HDR001", severity: Severity = Severity.ERROR, level: Level = Level.SYNTAX, **where: Any
) -> Finding:
    return Finding(
        rule=rule,
        name="some-rule",
        severity=severity,
        level=level,
        spec="x.md#y",
        message="m",
        location=Location(**where),
    )


def test_severity_is_ordered_and_parses_case_insensitively() -> None:
    assert Severity.INFO < Severity.WARNING < Severity.ERROR < Severity.FATAL
    assert [s.label for s in Severity] == ["info", "warning", "error", "fatal"]
    assert Severity.parse("Warning") is Severity.WARNING
    assert Severity.parse(" fatal ") is Severity.FATAL
    with pytest.raises(ValueError):
        Severity.parse("hint")


def test_levels_run_in_declaration_order() -> None:
    assert [lv.value for lv in Level] == ["container", "syntax", "semantics", "consistency"]
    assert [lv.rank for lv in Level] == [0, 1, 2, 3]
    assert Level("semantics") is Level.SEMANTICS


@pytest.mark.parametrize(
    ("location", "text"),
    [
        (
            Location(member="data.hdr", line=12, column=5, field="wavelength", item=17),
            "data.hdr:12:5 [wavelength][17]",
        ),
        (Location(member="data.hdr", line=3), "data.hdr:3"),
        (Location(member="data.envi", offset=4096), "data.envi@4096"),
        (Location(offset=22), "@22"),
        (Location(field="bands"), "[bands]"),
        (Location(), ""),
    ],
)
def test_location_str(location: Location, text: str) -> None:
    assert str(location) == text


def test_location_to_dict_omits_none_and_is_frozen() -> None:
    location = Location(member="data.hdr", line=1, item=0)
    assert location.to_dict() == {"member": "data.hdr", "line": 1, "item": 0}
    with pytest.raises(AttributeError):
        location.line = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        Location("data.hdr")  # type: ignore[call-arg]


def test_problem_defaults() -> None:
    problem = Problem("bad")
    assert problem.location == Location()
    assert problem.details == ()


def test_finding_to_dict_uses_lower_case_labels() -> None:
    data = make(severity=Severity.FATAL, member="data.hdr", line=2).to_dict()
    assert data["severity"] == "fatal"
    assert data["level"] == "syntax"
    assert data["location"] == {"member": "data.hdr", "line": 2}
    assert data["count"] == 1
    assert "other_locations" not in data


def test_skipped_kind() -> None:
    assert Skipped("semantics", "r").kind == "level"
    assert Skipped("XRF001", "r").kind == "rule"
    assert Skipped("XRF001", "internal error: boom").internal
    assert not Skipped("XRF001", "data type invalid").internal


def test_report_verdict_counts_and_max() -> None:
    findings = (make(severity=Severity.WARNING), make(rule="HDR002", severity=Severity.INFO))
    report = Report(path="a.hsi", findings=findings)
    assert report.conformant
    assert report.counts == {"fatal": 0, "error": 0, "warning": 1, "info": 1}
    assert report.max_severity is Severity.WARNING
    assert not Report(path="a.hsi", findings=findings, fail_on=Severity.WARNING).conformant
    assert Report(path="a.hsi").max_severity is None
    assert Report(path="a.hsi").best_match() is None


def test_counts_sum_aggregated_occurrences() -> None:
    from dataclasses import replace

    report = Report(path="a.hsi", findings=(replace(make(), count=4),))
    assert report.counts["error"] == 4


def test_best_match_prefers_severity_then_level_then_location() -> None:
    late_error = make(rule="XRF001", level=Level.CONSISTENCY, member="data.hdr", line=1)
    early_error = make(rule="HDR003", level=Level.SYNTAX, member="data.hdr", line=9)
    earlier_location = make(rule="HDR004", level=Level.SYNTAX, member="data.hdr", line=2)
    warning = make(rule="ZIP001", severity=Severity.WARNING, level=Level.CONTAINER)
    report = Report(path="a.hsi", findings=(late_error, early_error, earlier_location, warning))
    best = report.best_match()
    assert best is not None and best.rule == "HDR004"
    fatal = make(rule="FLD001", severity=Severity.FATAL, level=Level.SEMANTICS)
    best = Report(path="a.hsi", findings=(late_error, fatal)).best_match()
    assert best is not None and best.rule == "FLD001"


def test_by_member_groups_archive_level_under_none() -> None:
    report = Report(path="a.hsi", findings=(make(), make(member="data.hdr"), make(member="data.hdr")))
    groups = report.by_member()
    assert set(groups) == {None, "data.hdr"}
    assert len(groups["data.hdr"]) == 2


ERRORS: list[HsiConformError] = [
    NotAnEnviHeaderError("first line is not ENVI", 0),
    FieldValueError("wavelength", 4, "not a number"),
    ContainerError("data.envi", "compressed"),
    InputUnreadableError("x.hsi", "no such file"),
    ConfigError("bad key", "pyproject.toml"),
    ConverterNotFoundError("x.raw", ["envi", "specim"]),
    ConverterUnavailableError("hdf5", ["h5py"]),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_keep_attributes_and_pickle(error: HsiConformError) -> None:
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)
    assert vars(clone) == vars(error)


def test_error_attributes() -> None:
    error = NotAnEnviHeaderError("first line is not ENVI", 7)
    assert (error.reason, error.offset) == ("first line is not ENVI", 7)
    assert FieldValueError("fwhm", None, "bad").item is None
    assert ContainerError(None, "not a zip").member is None
    assert ConverterUnavailableError("hdf5", ["h5py"]).install_command == "pip install 'hsi-conform[hdf5]'"
    assert "hsi-conform[hdf5]" in str(ConverterUnavailableError("hdf5"))


def test_conformance_error_str_is_best_match() -> None:
    report = Report(
        path="a.hsi",
        findings=(
            make(severity=Severity.WARNING),
            make(rule="ZIP001", level=Level.CONTAINER, severity=Severity.FATAL),
        ),
    )
    error = ConformanceError(report)
    assert error.report is report
    best = report.best_match()
    assert best is not None and str(best) in str(error)
    assert isinstance(error, HsiConformError)


def test_trimmed_cuts_long_excerpts_around_the_column() -> None:
    line = "a" * 1000 + "X" + "b" * 1000
    cut = Location(member="data.hdr", line=1, column=1001, excerpt=line).trimmed(100)
    assert cut.excerpt is not None and len(cut.excerpt) == 100
    assert cut.excerpt_start is not None
    assert cut.excerpt[1001 - cut.excerpt_start] == "X"
    assert (cut.line, cut.column) == (1, 1001)
    short = Location(excerpt="abc", column=2)
    assert short.trimmed(100) is short
    again = cut.trimmed(10)
    assert again.excerpt is not None and again.excerpt_start is not None
    assert again.excerpt[1001 - again.excerpt_start] == "X"


def test_an_unreadable_report_is_not_conformant_and_has_no_findings() -> None:
    report = Report.unreadable("nope.hsi", "gone", profile="strict", content="crc", fail_on=Severity.WARNING)
    assert (report.conformant, report.findings, report.input_error) == (False, (), "gone")
    assert (report.profile, report.content, report.fail_on) == ("strict", "crc", Severity.WARNING)
    assert report.counts == {"fatal": 0, "error": 0, "warning": 0, "info": 0}
    assert Report(path="a.hsi").input_error is None


def test_normalised_messages_drop_numbers_quotes_and_spacing() -> None:
    assert normalise_message('value -3.5 at  offset 0x1F is "odd"') == "value # at offset # is 'odd'"
    assert normalise_message("4,096 bytes, expected {1, 2} and 1e-3") == "# bytes, expected {#, #} and #"
    assert normalise_message("\u201ckey\u201d") == "'key'"


def test_identity_ignores_where_in_the_member_and_numbers_in_the_message() -> None:
    here = Finding(rule="HDR015", name="n", severity=Severity.ERROR, level=Level.SYNTAX, spec="a.md#b",
                   message="value 12 is odd", location=Location(member="data.hdr", line=3, column=1, offset=30,
                                                                field="samples"))
    moved = Finding(rule="HDR015", name="n", severity=Severity.WARNING, level=Level.SYNTAX, spec="a.md#b",
                    message="value 13 is odd", location=Location(member="data.hdr", line=9, offset=99,
                                                                 field="samples"))
    assert here.identity() == moved.identity()
    assert len(here.identity()) == 16
    for other in (Location(member="preview.hdr", field="samples"), Location(member="data.hdr", field="lines"),
                  Location(field="samples")):
        assert Finding("HDR015", "n", Severity.ERROR, Level.SYNTAX, "a.md#b", "value 1 is odd",
                       other).identity() != here.identity()
    assert make(rule="HDR016", member="data.hdr").identity() != make(rule="HDR015", member="data.hdr").identity()
    assert make(member="bad\udcff").identity()  # a lone surrogate of a hostile name still hashes


def test_fingerprints_number_identical_occurrences_in_order() -> None:
    twice = (make(member="data.hdr", line=2), make(member="data.hdr", line=7), make(member="x.hdr", line=1))
    prints = fingerprints(twice)
    assert [p.split(":")[1] for p in prints] == ["1", "2", "1"]
    assert prints[0].split(":")[0] == prints[1].split(":")[0] != prints[2].split(":")[0]
    shifted = (make(member="data.hdr", line=3), make(member="data.hdr", line=8), make(member="x.hdr", line=4))
    assert fingerprints(shifted) == prints == Report(path="a.hsi", findings=twice).fingerprints()


def test_fingerprints_are_those_of_the_spec_example() -> None:
    # spec/report.md#baselines shows these two; a change of the scheme must change FINGERPRINT_KEY instead.
    lower = [replace(make(rule="HDR015", member="data.hdr", field=key), message="key is not written in lower case")
             for key in ("lines", "samples")]
    assert [fingerprints([f])[0] for f in lower] == ["42f8a1c8f2bc5608:1", "64a7634d93dfe122:1"]
    assert FINGERPRINT_KEY == "hsiConform/v1"


def test_baseline_names_are_documented_and_pickled_as_hsi_conform_finding() -> None:
    entry = BaselineEntry.of(make(member="data.hdr"), "0123456789abcdef:1")
    report = Report(path="a.hsi", findings=(replace(make(), baseline_state=BaselineState.UNCHANGED),),
                    absent=(entry,))
    for public in (BaselineEntry, BaselineState, fingerprints, normalise_message):
        assert public.__module__ == "hsi_conform.finding"
    data = pickle.dumps(report)
    assert b"hsi_conform._fingerprint" not in data
    assert pickle.loads(data) == report
    assert pickle.loads(data).counted == ()


def test_the_model_type_hints_resolve_where_it_is_documented() -> None:
    # BaselineEntry is named hsi_conform.finding.BaselineEntry; its hints must resolve in that module too.
    assert typing.get_type_hints(BaselineEntry)["member"] == str | None
    assert typing.get_type_hints(Report)["absent"] == tuple[BaselineEntry, ...]
    assert typing.get_type_hints(Finding)["baseline_state"] == BaselineState | None
