"""The command line's conventions (spec/cli.md; issue 20 items 1-5, 8, 9), through real subprocesses, with and
without a pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from hsi_conform.errors import ExitCode
from hsi_conform.testing.samples import sample_members, write_members, write_sample_container

ESC = "\x1b["
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


@dataclass
class Run:
    code: int
    out: str
    err: str


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def run(argv: Sequence[str | os.PathLike[str]], *, cwd: Path, env: Mapping[str, str] | None = None,
        tty_out: bool = False, tty_err: bool = False, stdin: Path | None = None) -> Run:
    """Run ``python -m hsi_conform`` with stdout and/or stderr on a pseudo-terminal (or pipes)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    environ.update(env or {})
    masters: dict[str, int] = {}
    slaves: dict[str, int] = {}
    for name, wanted in (("out", tty_out), ("err", tty_err)):
        if wanted:
            masters[name], slaves[name] = pty.openpty()
    with (stdin.open("rb") if stdin is not None else open(os.devnull, "rb")) as source:
        proc = subprocess.Popen([sys.executable, "-m", "hsi_conform", *map(os.fspath, argv)], cwd=cwd, env=environ,
                                stdin=source, stdout=slaves.get("out", subprocess.PIPE),
                                stderr=slaves.get("err", subprocess.PIPE))
    for fd in slaves.values():
        os.close(fd)
    out_pipe, err_pipe = proc.communicate(timeout=120)
    texts = {name: _read_all(fd).decode("utf-8", "replace") for name, fd in masters.items()}
    for fd in masters.values():
        os.close(fd)
    return Run(proc.returncode, texts.get("out", (out_pipe or b"").decode()),
               texts.get("err", (err_pipe or b"").decode()))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("conventions")
    members = sample_members()
    members["data.hdr"] = members["data.hdr"].replace(b"samples = 12", b"Samples = 12")
    return {"a": write_sample_container(folder / "a.hsi"), "b": write_sample_container(folder / "b.hsi"),
            "c": write_sample_container(folder / "c.hsi"), "bad": write_members(folder / "bad.hsi", members)}


# -- item 1: output volume --------------------------------------------------------------------------------------------
def test_clean_files_are_one_line_each_and_tier_skips_are_summarised_once(files: dict[str, Path],
                                                                          tmp_path: Path) -> None:
    result = run(["validate", files["a"], files["b"], files["c"]], cwd=tmp_path)
    lines = result.out.splitlines()
    assert result.code == 0 and len(lines) == 5, result.out  # 3 verdicts, the tier line, the total
    assert [line.split(":")[0] for line in lines[:3]] == [str(files[k]) for k in "abc"]
    assert "skipped" not in result.out and "of 3 conformant" not in result.out  # no table repeating the total
    assert sum("rules need --content crc/full" in line for line in lines) == 1
    assert "DAT001" in lines[3] and "ZIP050" in lines[3] and lines[4] == "3 files: 3 conformant, 0 nonconformant"


def test_verbose_lists_skips_and_the_configuration_quiet_keeps_failures(files: dict[str, Path],
                                                                        tmp_path: Path) -> None:
    verbose = run(["validate", "-v", files["a"]], cwd=tmp_path)
    assert verbose.out.count("skipped rule") == 6 and "configuration: none (defaults)" in verbose.out
    assert "validated 1 file in " in verbose.err and "run configuration: none" in verbose.err  # the timing
    quiet = run(["validate", "-q", files["a"], files["bad"]], cwd=tmp_path)
    assert quiet.code == 1
    assert str(files["a"]) not in quiet.out and "HDR015" in quiet.out and "bad.hsi: NONCONFORMANT" in quiet.out
    assert quiet.out.splitlines()[-1] == "2 files: 1 conformant, 1 nonconformant"
    silent = run(["validate", "-qq", files["bad"]], cwd=tmp_path)
    assert (silent.code, silent.out, silent.err) == (1, "", "")


# -- item 2: colour ------------------------------------------------------------------------------------------------
@posix_only
@pytest.mark.parametrize(("env", "flags", "tty", "coloured"), [
    ({}, [], True, True),
    ({}, [], False, False),
    ({"NO_COLOR": "1"}, [], True, False),
    ({"NO_COLOR": ""}, [], True, True),  # set but empty: not set (no-color.org)
    ({"FORCE_COLOR": "1"}, [], False, True),
    ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, [], False, False),
    ({"TERM": "dumb"}, [], True, False),
    ({"TERM": "dumb", "FORCE_COLOR": "1"}, [], True, True),
    ({"NO_COLOR": "1"}, ["--color", "always"], False, True),
    ({"FORCE_COLOR": "1"}, ["--color", "never"], True, False),
])
def test_colour_precedence(files: dict[str, Path], tmp_path: Path, env: dict[str, str], flags: list[str], tty: bool,
                           coloured: bool) -> None:
    result = run(["validate", *flags, files["a"]], cwd=tmp_path, env=env, tty_out=tty)
    assert result.code == 0 and "conformant" in result.out
    assert (ESC in result.out) is coloured


def test_color_has_help_naming_the_environment(tmp_path: Path) -> None:
    result = run(["validate", "--help"], cwd=tmp_path)
    text = " ".join(result.out.split())
    assert "--color WHEN" in text and "NO_COLOR" in text and "FORCE_COLOR" in text and "TERM=dumb" in text


# -- item 3: progress --------------------------------------------------------------------------------------------------
@posix_only
def test_progress_on_a_terminal_names_the_file_and_is_erased(files: dict[str, Path], tmp_path: Path) -> None:
    paths = [files["a"], files["b"], files["c"]]
    shown = run(["validate", *paths], cwd=tmp_path, tty_err=True)
    assert shown.code == 0 and "validating [1/3]" in shown.err and str(files["a"]) in shown.err
    assert shown.err.endswith("\r") and "\n" not in shown.err  # erased, nothing left on the line
    assert ESC not in shown.out  # stdout is a pipe: no colour
    assert run(["validate", "-q", *paths], cwd=tmp_path, tty_err=True).err == ""
    assert run(["validate", *paths], cwd=tmp_path).err == ""  # not a terminal: nothing


@posix_only
def test_migrate_progress_names_the_dataset_in_progress(files: dict[str, Path], tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("first.hsi", "second.hsi"):
        (source / name).write_bytes(files["a"].read_bytes())
    result = run(["migrate", source, tmp_path / "dst"], cwd=tmp_path, tty_err=True)
    assert result.code == 0
    draws = [d.strip() for d in result.err.split("\r") if d.strip()]
    # Each dataset is named while its number is the current one, before it is done.
    assert any(d.startswith("migrating [1/2]") and d.endswith("first.hsi") for d in draws), draws
    assert any(d.startswith("migrating [2/2]") and d.endswith("second.hsi") for d in draws), draws
    assert result.err.endswith("\r") and "\n" not in result.err


# -- item 4: "-" means the standard streams ----------------------------------------------------------------------
def test_validate_reads_standard_input_and_writes_json_to_standard_output(files: dict[str, Path],
                                                                         tmp_path: Path) -> None:
    good = run(["validate", "-"], cwd=tmp_path, stdin=files["a"])
    assert good.code == 0 and good.out.startswith("<stdin>: conformant")
    bad = run(["validate", "--format", "json", "-o", "-", "-"], cwd=tmp_path, stdin=files["bad"])
    report = json.loads(bad.out)
    assert bad.code == 1 and report["files"][0]["path"] == "<stdin>" and report["counts"]["error"] >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no file named "-", no spooled leftover


@posix_only
def test_standard_input_on_a_terminal_is_a_usage_error(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "hsi_conform", "validate", "-"], cwd=tmp_path, stdin=slave,
                              capture_output=True, text=True, check=False, timeout=120)
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == ExitCode.USAGE and "pipe one in" in proc.stderr


@pytest.mark.parametrize("argv", [["convert", "{a}", "-"], ["sample", "-"], ["calibrate", "{a}", "-"],
                                  ["convert", "-", "x.hsi"], ["fix", "{a}", "-"],
                                  ["validate", "--write-baseline", "-", "{a}"], ["validate", "--config", "-", "{a}"],
                                  ["corpus", "export", "-"]])
def test_a_stream_that_cannot_hold_the_format_is_refused(files: dict[str, Path], tmp_path: Path,
                                                         argv: list[str]) -> None:
    result = run([a.format(a=files["a"]) for a in argv], cwd=tmp_path)
    assert result.code == ExitCode.USAGE and "'-' (standard" in result.err and "Traceback" not in result.err
    assert result.out == "" and list(tmp_path.iterdir()) == []


# -- item 5: help ------------------------------------------------------------------------------------------------------
def test_unknown_subcommand_and_option_get_the_usage_and_a_suggestion(files: dict[str, Path], tmp_path: Path) -> None:
    typo = run(["valdate", files["a"]], cwd=tmp_path)
    assert typo.code == ExitCode.USAGE and "did you mean validate" in typo.err
    option = run(["validate", "--contnt", "crc", files["a"]], cwd=tmp_path)
    assert option.code == ExitCode.USAGE and option.err.startswith("usage: hsi-conform validate ")
    assert "did you mean --content" in option.err
    value = run(["validate", "--content", "ful", files["a"]], cwd=tmp_path)
    assert value.code == ExitCode.USAGE and "did you mean full" in value.err
    abbreviated = run(["validate", "--cont", "crc", files["a"]], cwd=tmp_path)
    assert abbreviated.code == ExitCode.USAGE and "unrecognized arguments: --cont" in abbreviated.err
    nested = run(["corpus", "export", "--generat", "3", tmp_path / "x"], cwd=tmp_path)
    assert nested.err.startswith("usage: hsi-conform corpus export ") and "did you mean --generate" in nested.err


def test_top_level_help_has_no_docstring_markup(tmp_path: Path) -> None:
    result = run(["--help"], cwd=tmp_path)
    assert result.code == 0 and "``" not in result.out and ":class:" not in result.out and "validate" in result.out


# -- item 9: destinations -----------------------------------------------------------------------------------------
def test_an_existing_destination_is_kept_without_overwrite(files: dict[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "x.hsi"
    dest.write_bytes(b"keep me")
    kept = run(["sample", dest], cwd=tmp_path)
    assert kept.code == ExitCode.UNWRITABLE and "--overwrite" in kept.err and dest.read_bytes() == b"keep me"
    replaced = run(["sample", "--overwrite", dest], cwd=tmp_path)
    assert replaced.code == 0 and dest.read_bytes()[:2] == b"PK"


def test_output_errors_exit_5_and_name_no_temp(files: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "d.h5").mkdir()  # a folder where the file should go: h5py and the atomic writer both fail
    result = run(["convert", "--overwrite", files["a"], tmp_path / "d.h5"], cwd=tmp_path)
    assert result.code == ExitCode.UNWRITABLE and "d.h5" in result.err
    assert ".tmp-" not in result.err and "o_flags" not in result.err and "Traceback" not in result.err


@posix_only
def test_corpus_run_counts_its_runs_on_a_terminal(files: dict[str, Path], tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    cases = []
    for name, expect in (("y_a.hsi", "accept"), ("y_b.hsi", "accept"), ("n_c.hsi", "reject")):
        (corpus / name).write_bytes(files["a"].read_bytes())
        cases.append({"file": name, "expect": expect})
    (corpus / "manifest.json").write_text(json.dumps({"cases": cases}), encoding="utf-8")
    result = run(["corpus", "run", "--reader", "true {file}", corpus], cwd=tmp_path, tty_err=True)
    assert result.code == ExitCode.NONCONFORMANT  # "true" accepts the case it should reject
    draws = [d.strip() for d in result.err.split("\r") if d.strip()]
    assert any(d.startswith("running readers [3/3]") for d in draws), draws
    assert result.err.endswith("\r") and "\n" not in result.err
    assert run(["corpus", "run", "-q", "--reader", "true {file}", corpus], cwd=tmp_path, tty_err=True).err == ""
