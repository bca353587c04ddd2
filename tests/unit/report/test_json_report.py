from __future__ import annotations

import json
import re
from typing import Any

import pytest

from hsi_conform._version import __version__
from hsi_conform.finding import Finding, Level, Location, Report, Severity, Skipped
from hsi_conform.report.json import SCHEMA_VERSION, render_json
from tests._paths import SPEC

SCHEMA_PATH = SPEC / "report.schema.json"


def validate(instance: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "$") -> list[str]:
    """The subset of JSON Schema 2020-12 used by spec/report.schema.json (jsonschema is not a dependency)."""
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return validate(instance, target, root, path)
    errors: list[str] = []
    if "anyOf" in schema and all(validate(instance, s, root, path) for s in schema["anyOf"]):
        errors.append(f"{path}: matches no anyOf branch")
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{path}: != const")
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{path}: {instance!r} not in enum")
    kinds = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    kind = schema.get("type")
    if kind == "integer":
        if not isinstance(instance, int) or isinstance(instance, bool):
            return [*errors, f"{path}: not an integer"]
    elif kind is not None and not isinstance(instance, kinds[kind]):
        return [*errors, f"{path}: not {kind}"]
    if "minimum" in schema and instance < schema["minimum"]:
        errors.append(f"{path}: below minimum")
    if "pattern" in schema and not re.search(schema["pattern"], instance):
        errors.append(f"{path}: does not match pattern")
    if isinstance(instance, dict):
        errors += [f"{path}: missing {key}" for key in schema.get("required", []) if key not in instance]
        properties = schema.get("properties", {})
        for key, value in instance.items():
            if key in properties:
                errors += validate(value, properties[key], root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected {key}")
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            errors += validate(item, schema["items"], root, f"{path}[{i}]")
    return errors


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def sample() -> list[Report]:
    error = Finding(
        rule="HDR001",
        name="hdr-key-case",
        severity=Severity.ERROR,
        level=Level.SYNTAX,
        spec="header-syntax.md#keys",
        message="upper-case key",
        location=Location(
            member="data.hdr",
            line=3,
            column=1,
            end_line=3,
            end_column=8,
            offset=17,
            field="samples",
            excerpt="Samples = 3",
        ),
        count=2,
        other_locations=(Location(member="data.hdr", line=4),),
        details=("d",),
    )
    info = Finding(
        rule="LAY010",
        name="lay-unknown-member",
        severity=Severity.INFO,
        level=Level.CONTAINER,
        spec="container.md#layout",
        message="unknown member",
        location=Location(member="x\udcff.txt"),
    )
    fatal = Finding(
        rule="ZIP001",
        name="zip-not-a-zip",
        severity=Severity.FATAL,
        level=Level.CONTAINER,
        spec="container.md#zip",
        message="not a ZIP",
        location=Location(offset=0),
    )
    return [
        Report(path="a.hsi", findings=(info, error), rules_run=("LAY010", "HDR001")),
        Report(
            path="b.hsi",
            findings=(fatal,),
            content="crc",
            skipped=(Skipped("syntax", "ZIP001 fatal"), Skipped("XRF001", "internal error: boom")),
            internal_errors=("XRF001: boom",),
        ),
        Report(path="c.hsi"),
    ]


def test_output_matches_the_published_schema() -> None:
    document = json.loads(render_json(sample()))
    assert validate(document, schema(), schema()) == []
    assert validate(json.loads(render_json([])), schema(), schema()) == []


def test_the_mini_validator_catches_violations() -> None:
    document = json.loads(render_json(sample()))
    document["findings"][0]["severity"] = "ERROR"
    del document["files"][0]["counts"]["info"]
    document["files"][1]["bogus"] = 1
    assert len(validate(document, schema(), schema())) == 3


def test_top_level_structure() -> None:
    document = json.loads(render_json(sample(), tool_version="9.9"))
    assert document["schema_version"] == SCHEMA_VERSION == 1
    assert (document["tool"], document["tool_version"], document["profile"]) == (
        "hsi-conform",
        "9.9",
        "exchange",
    )
    assert document["conformant"] is False
    assert document["counts"] == {"fatal": 1, "error": 2, "warning": 0, "info": 1}
    assert [f["file"] for f in document["findings"]] == ["a.hsi", "a.hsi", "b.hsi"]
    assert [(f["rule"], f["severity"]) for f in document["findings"]] == [
        ("LAY010", "info"),
        ("HDR001", "error"),
        ("ZIP001", "fatal"),
    ]
    assert json.loads(render_json([]))["tool_version"] == __version__


def test_per_file_objects() -> None:
    files = json.loads(render_json(sample()))["files"]
    assert [(f["path"], f["conformant"], f["max_severity"]) for f in files] == [
        ("a.hsi", False, "error"),
        ("b.hsi", False, "fatal"),
        ("c.hsi", True, None),
    ]
    assert files[1]["skipped"] == [
        {"target": "syntax", "kind": "level", "reason": "ZIP001 fatal"},
        {"target": "XRF001", "kind": "rule", "reason": "internal error: boom"},
    ]
    assert files[1]["internal_errors"] == ["XRF001: boom"]
    assert files[0]["rules_run"] == ["LAY010", "HDR001"]
    finding = files[0]["findings"][1]
    assert finding["location"] == {
        "member": "data.hdr",
        "line": 3,
        "column": 1,
        "end_line": 3,
        "end_column": 8,
        "offset": 17,
        "field": "samples",
        "excerpt": "Samples = 3",
    }
    assert (finding["count"], finding["other_locations"], finding["details"]) == (
        2,
        [{"member": "data.hdr", "line": 4}],
        ["d"],
    )


def test_profile_is_mixed_when_reports_disagree() -> None:
    reports = [Report(path="a", profile="reader"), Report(path="b", profile="strict")]
    assert json.loads(render_json(reports))["profile"] == "mixed"


def test_output_is_always_utf8_encodable() -> None:
    text = render_json(sample())
    text.encode("utf-8")
    member = json.loads(text)["findings"][0]["location"]["member"]
    assert member == "x\udcff.txt"


@pytest.mark.parametrize("severity", list(Severity))
def test_every_severity_label_is_in_the_schema_enum(severity: Severity) -> None:
    assert severity.label in schema()["$defs"]["severity"]["enum"]


def test_an_unreadable_input_is_a_file_entry_with_its_reason() -> None:
    reports = [Report(path="a.hsi"), Report.unreadable("nope.hsi", "No such file or directory")]
    document = json.loads(render_json(reports))
    assert validate(document, schema(), schema()) == []
    assert "input_error" not in document["files"][0]
    bad = document["files"][1]
    assert (bad["path"], bad["input_error"], bad["conformant"], bad["findings"]) == (
        "nope.hsi", "No such file or directory", False, [])
    assert document["conformant"] is False
