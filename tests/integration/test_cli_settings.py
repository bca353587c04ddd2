"""Settings you can see (spec/cli.md#settings) and destinations (spec/cli.md#destinations), in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hsi_conform.errors import ExitCode
from hsi_conform.testing.samples import sample_members, write_members, write_sample_container
from tests._support import CliRunner


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (the current directory) with a configuration and a container that breaks HDR015."""
    monkeypatch.chdir(tmp_path)
    members = sample_members()
    members["data.hdr"] = members["data.hdr"].replace(b"samples = 12", b"Samples = 12")
    write_members(tmp_path / "bad.hsi", members)
    write_sample_container(tmp_path / "good.hsi")
    return tmp_path


def _config(folder: Path, text: str) -> Path:
    path = folder / "hsi-conform.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_show_settings_names_each_value_and_its_source(project: Path, cli: CliRunner) -> None:
    config = _config(project, 'content = "crc"\njobs = 2\nignore = ["HDR015"]\n')
    result = cli(["validate", "--show-settings", "--color", "never", "good.hsi"])
    assert result.code == 0
    lines = result.out.splitlines()
    assert f'content = "crc"  # {config}' in lines
    assert f"jobs = 2  # {config}" in lines
    assert 'color = "never"  # command line' in lines
    assert 'format = ["text"]  # default' in lines
    assert f'ignore = ["HDR015"]  # {config}' in lines
    assert 'profile = "exchange"  # default' in lines
    assert any(line.startswith("limits.max-header-bytes = ") and line.endswith("# default") for line in lines)
    isolated = cli(["validate", "--show-settings", "--isolated", "good.hsi"])
    assert 'content = "none"  # default' in isolated.out.splitlines()
    here = cli(["validate", "--show-settings"])  # no PATH: the current directory's settings
    assert here.code == 0 and f'content = "crc"  # {config}' in here.out.splitlines()
    assert cli(["validate"]).code == ExitCode.USAGE


@pytest.mark.parametrize(("key", "config_value", "flag", "check"), [
    ("content", '"full"', ["--content", "none"], lambda out: json.loads(out)["files"][0]["content"] == "none"),
    ("format", '["sarif"]', ["--format", "json"], lambda out: "schema_version" in json.loads(out)),
    ("jobs", "0", ["-j", "1"], None),  # an invalid file value is still an error: the file is read
    ("color", '"always"', ["--color", "never"], lambda out: "\x1b[" not in out),
])
def test_the_command_line_wins_over_the_configuration(project: Path, cli: CliRunner, key: str, config_value: str,
                                                       flag: list[str], check: object) -> None:
    _config(project, f"{key} = {config_value}\n")
    fmt = [] if key == "format" or key == "color" else ["--format", "json"]
    result = cli(["validate", *fmt, *flag, "good.hsi"])
    if check is None:
        assert result.code == ExitCode.USAGE and "'jobs' must be an integer >= 1" in result.err
        return
    assert result.code == 0 and check(result.out)  # type: ignore[operator]


@pytest.mark.parametrize(("key", "value", "check"), [
    ("content", '"full"', lambda out: json.loads(out)["files"][0]["content"] == "full"),
    ("format", '["json"]', lambda out: json.loads(out)["conformant"] is True),
    ("color", '"always"', lambda out: "\x1b[" in out),
])
def test_the_configuration_wins_over_the_defaults(project: Path, cli: CliRunner, key: str, value: str,
                                                   check: object) -> None:
    _config(project, f"{key} = {value}\n")
    fmt = ["--format", "json"] if key == "content" else []
    result = cli(["validate", *fmt, "good.hsi"])
    assert result.code == 0 and check(result.out)  # type: ignore[operator]


def test_jobs_from_the_configuration_run_in_parallel(project: Path, cli: CliRunner) -> None:
    _config(project, "jobs = 2\n")
    result = cli(["validate", "--show-settings", "good.hsi", "bad.hsi"])
    assert "jobs = 2  # " in result.out
    assert cli(["validate", "good.hsi", "bad.hsi"]).out.splitlines()[-1] == "2 files: 1 conformant, 1 nonconformant"


def test_an_unknown_configured_format_is_a_usage_error(project: Path, cli: CliRunner) -> None:
    _config(project, 'format = ["pdf"]\n')
    result = cli(["validate", "good.hsi"])
    assert result.code == ExitCode.USAGE and "unknown report format 'pdf'" in result.err


def test_reports_name_the_configuration_file(project: Path, cli: CliRunner) -> None:
    config = _config(project, 'ignore = ["HDR015"]\n')
    document = json.loads(cli(["validate", "--format", "json", "bad.hsi"]).out)
    assert document["files"][0]["config"] == str(config)
    sarif = json.loads(cli(["validate", "--format", "sarif", "bad.hsi"]).out)
    assert sarif["runs"][0]["invocations"][0]["properties"]["configFiles"] == [str(config)]
    assert f"configuration: {config}" in cli(["validate", "-v", "bad.hsi"]).out
    assert "configuration:" not in cli(["validate", "bad.hsi"]).out
    assert "config" not in json.loads(cli(["validate", "--isolated", "--format", "json", "bad.hsi"]).out)["files"][0]


def test_select_on_the_command_line_overrides_a_configured_ignore(project: Path, cli: CliRunner) -> None:
    _config(project, 'ignore = ["HDR015"]\n')
    assert cli(["validate", "bad.hsi"]).code == 0
    assert cli(["validate", "--select", "HDR015", "bad.hsi"]).code == 1


# -- destinations ------------------------------------------------------------------------------------------------
WRITERS = {
    "convert": ["convert", "good.hsi", "{dest}"],
    "sample": ["sample", "--lines", "4", "--samples", "4", "--bands", "4", "{dest}"],
    "calibrate": ["calibrate", "--allow-nonconformant", "good.hsi", "{dest}"],
    "previews": ["previews", "good.hsi", "{dest}"],
    "procedures": ["procedures", "good.hsi", "{dest}"],
    "fix": ["fix", "good.hsi", "{dest}"],
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_every_writer_creates_missing_folders_and_keeps_an_existing_destination(project: Path, cli: CliRunner,
                                                                                writer: str) -> None:
    dest = project / "new" / "deeper" / "out.hsi"
    argv = [a.format(dest=dest) for a in WRITERS[writer]]
    first = cli(argv)
    assert dest.is_file(), (writer, first.err)
    before = dest.read_bytes()
    again = cli(argv)
    assert again.code == ExitCode.UNWRITABLE and "--overwrite" in again.err and dest.read_bytes() == before
    assert cli([*argv[:1], "--overwrite", *argv[1:]]).code in (ExitCode.OK, ExitCode.NONCONFORMANT)
    blocked = cli([a.format(dest=project / "good.hsi" / "out.hsi") for a in WRITERS[writer]])
    assert blocked.code == ExitCode.UNWRITABLE and "a file is in the way" in blocked.err and "good.hsi" in blocked.err


@pytest.mark.parametrize("argv", [["sample", "x.h5"], ["calibrate", "good.hsi", "x.tif"],
                                  ["convert", "--to", "hdf5", "good.hsi", "x.hsi"], ["fix", "good.hsi", "x.hdr"]])
def test_a_destination_suffix_that_does_not_match_is_refused(project: Path, cli: CliRunner, argv: list[str]) -> None:
    result = cli(argv)
    assert result.code == ExitCode.USAGE and "does not end in" in result.err
    assert sorted(p.name for p in project.iterdir()) == ["bad.hsi", "good.hsi"]
