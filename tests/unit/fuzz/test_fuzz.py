"""Fuzz targets: documented outcomes only; a short bounded atheris run; crash regressions replay."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hsi_conform.corpus.export import export_corpus
from hsi_conform.corpus.golden import load_cases
from hsi_conform.errors import InternalError
from hsi_conform.finding import Level, Problem, Severity
from hsi_conform.fuzz import exception_signature, header_seeds, keep_going
from hsi_conform.fuzz.header_target import test_one_input as header_input
from hsi_conform.fuzz.validator_target import crash_key
from hsi_conform.fuzz.validator_target import test_one_input as validator_input
from hsi_conform.rules import isolated_registry, rule
from tests._paths import FIXTURES, ROOT

REGRESSIONS = FIXTURES / "regressions"
DICTIONARY = ROOT / "hsi_conform" / "fuzz" / "validator.dict"
HEADERS = [b"", b"ENVI", b"ENVI\n", b"\xef\xbb\xbfENVI\r\nsamples = 3\r\n", b"ENVI\nwavelength = {1,\n",
           b"ENVI\nsamples = {\x00\xff}\n", b"envi\n", b"ENVI\n" + b"{" * 500, b"ENVI\nband names = {a, {b}, c\n"]


@pytest.mark.parametrize("data", HEADERS)
def test_header_target_accepts_anything(data: bytes) -> None:
    header_input(data)


def test_validator_target_survives_truncation_and_corruption(sample_bytes: bytes) -> None:
    for cut in (0, 4, 30, 100, len(sample_bytes) // 2, len(sample_bytes) - 5):
        validator_input(sample_bytes[:cut])
    for pos in range(0, len(sample_bytes), max(1, len(sample_bytes) // 40)):
        mutated = bytearray(sample_bytes)
        mutated[pos] ^= 0xFF
        validator_input(bytes(mutated))


def _crashing_rule(ctx: object) -> Iterator[Problem]:
    """A rule that crashes, as a validator bug would."""
    raise KeyError("boom")
    yield  # a generator, like every rule


def test_validator_target_counts_a_rule_crash_as_a_crash(sample_bytes: bytes) -> None:
    # check() records a crashing rule in report.internal_errors (exit 4 at the CLI) instead of raising
    with isolated_registry():
        rule("ZIP999", "zip-crash", severity=Severity.ERROR, level=Level.CONTAINER,
             spec="container.md#structure")(_crashing_rule)
        with pytest.raises(InternalError) as info:
            validator_input(sample_bytes)
    assert exception_signature(info.value) == "InternalError@rule crashed ZIP999 KeyError"


def test_crash_key_names_rules_and_exception_types() -> None:
    errors = ["HDR001 [hdr-x]: KeyError: 'a'", "ZIP002 [zip-y]: ValueError: bad: worse",
              "HDR001 [hdr-x]: KeyError: 'b'"]
    assert crash_key(errors) == "HDR001 KeyError, ZIP002 ValueError"


def test_keep_going_records_each_exception_once(tmp_path: Path) -> None:
    def target(data: bytes) -> None:
        if data.startswith(b"x"):
            raise ValueError("boom")

    run = keep_going(target, tmp_path / "crashes")
    for data in (b"ok", b"x1", b"x2", b"fine"):
        run(data)
    crashes = sorted((tmp_path / "crashes").glob("crash-*"))
    assert len([c for c in crashes if c.suffix != ".txt"]) == 1


def test_exception_signature_names_type_and_place() -> None:
    try:
        int("x")
    except ValueError as exc:
        assert exception_signature(exc).startswith("ValueError@")


def _bounded_run(target: str, runs: int, corpus: list[Path], tmp_path: Path,
                 *flags: str) -> subprocess.CompletedProcess[str]:
    work = tmp_path / f"work-{target}"
    work.mkdir()
    cmd = [sys.executable, "-m", "hsi_conform.fuzz", target, f"-atheris_runs={runs}", "-timeout=20",
           f"-artifact_prefix={tmp_path}/", *flags, str(work), *map(str, corpus)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=tmp_path)


@pytest.fixture(scope="module")
def seed_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seeds")
    export_corpus(root, cases=load_cases()[::20])
    return root


def test_bounded_validator_run(seed_corpus: Path, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    result = _bounded_run("validator", 1000, [seed_corpus], tmp_path, f"-dict={DICTIONARY}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not list(tmp_path.glob("crash-*"))


def test_bounded_header_run(seed_corpus: Path, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    result = _bounded_run("header", 2000, [seed_corpus], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not list(tmp_path.glob("crash-*"))


def test_header_seeds_are_the_exported_headers(seed_corpus: Path) -> None:
    seeds = header_seeds(seed_corpus)
    contents = [p.read_bytes() for p in seeds.iterdir()]
    assert contents and any(c.startswith(b"ENVI") for c in contents)


# Crash regressions (fixtures/regressions/) and every binary golden input go through the fuzz target itself.
@pytest.mark.parametrize("path", sorted(REGRESSIONS.parent.rglob("input.hsi")),
                         ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_binary_inputs_replay_through_the_fuzz_target(path: Path) -> None:
    validator_input(path.read_bytes())


def test_usage_error_without_target() -> None:
    result = subprocess.run([sys.executable, "-m", "hsi_conform.fuzz"], capture_output=True, timeout=60)
    assert result.returncode != 0
