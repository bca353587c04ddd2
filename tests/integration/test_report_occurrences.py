"""Every occurrence keeps its location in the machine reports (issue 19 item 8); the text report groups them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hsi_conform.testing.samples import sample_members, write_members
from tests._support import CliRunner


@pytest.fixture
def two_upper_case_keys(tmp_path: Path) -> Path:
    members = sample_members()
    members["data.hdr"] = members["data.hdr"].replace(b"\nsamples = ", b"\nSamples = ").replace(
        b"\nlines = ", b"\nLines = ")
    return write_members(tmp_path / "keys.hsi", members)


def test_json_has_one_finding_per_occurrence(cli: CliRunner, two_upper_case_keys: Path) -> None:
    result = cli(["validate", "--format", "json", two_upper_case_keys])
    assert result.code == 1
    findings = [f for f in json.loads(result.out)["findings"] if f["rule"] == "HDR015"]
    assert [(f["location"]["member"], f["location"]["line"], f["location"]["field"], f["count"])
            for f in findings] == [("data.hdr", 3, "samples", 1), ("data.hdr", 4, "lines", 1)]
    assert len({f["fingerprint"] for f in findings}) == 2


def test_sarif_has_one_result_per_occurrence_with_its_own_fingerprint(cli: CliRunner,
                                                                      two_upper_case_keys: Path) -> None:
    result = cli(["validate", "--format", "sarif", two_upper_case_keys])
    results = [r for r in json.loads(result.out)["runs"][0]["results"] if r["ruleId"] == "HDR015"]
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results]
    assert lines == [3, 4]
    prints = [r["partialFingerprints"]["hsiConform/v1"] for r in results]
    assert len(set(prints)) == 2
    assert all("relatedLocations" not in r and "occurrenceCount" not in r for r in results)


def test_junit_names_every_location(cli: CliRunner, two_upper_case_keys: Path) -> None:
    result = cli(["validate", "--format", "junit", two_upper_case_keys])
    [case] = [c for c in ET.fromstring(result.out).iter("testcase") if c.get("name", "").startswith("HDR015")]
    failure = case.find("failure")
    assert failure is not None and failure.text is not None
    assert "data.hdr:3:1" in failure.text and "data.hdr:4:1" in failure.text


def test_the_text_report_still_groups_them(cli: CliRunner, two_upper_case_keys: Path) -> None:
    result = cli(["validate", two_upper_case_keys])
    assert result.out.count("HDR015") == 1
    assert "2 occurrences; also at data.hdr:4:1" in result.out
    assert "2 error" in result.out
