"""No input ends in an internal error (exit 4): the mutation catalogue and the golden corpus through ``convert``.

Every single-defect mutant of :mod:`hsi_conform.testing.mutations`, and every hostile ZIP file of the exported
golden corpus, is converted to each destination format with the command line; whatever the verdict, the exit code
is one of the documented outcomes (0, 1, 2 or 3), never 4 and never a traceback. The whole sets run in the
``slow`` set; the default run takes the member-name mutations and the golden files that reached exit 4 before,
and a seeded sample of the others.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from hsi_conform.corpus.export import CorpusFile, case_rule, golden_files
from hsi_conform.corpus.golden import load_cases
from hsi_conform.errors import ExitCode
from hsi_conform.testing.generate import ContainerSpec, build_valid
from hsi_conform.testing.mutations import CATALOGUE, Mutation, applicable
from tests._support import CliRunner

#: Destination format -> the suffix its converter claims.
FORMATS = {"hsi": ".hsi", "envi": ".hdr", "hdf5": ".h5", "tiff": ".tif", "specim": ""}
DOCUMENTED = {ExitCode.OK, ExitCode.NONCONFORMANT, ExitCode.USAGE, ExitCode.UNREADABLE}
_SEED = 11
_QUICK = sorted({m.name for m in CATALOGUE if "name" in m.name or "dir" in m.name}
                | {m.name for m in random.Random(_SEED).sample(list(CATALOGUE), 6)})


#: Golden files whose conversion once ended in exit 4.
_GOLDEN_REGRESSIONS = ("n_ZIP049_file-used-as-directory.hsi",)
_GOLDEN = [f for f in golden_files([c for c in load_cases() if case_rule(c).startswith("ZIP")])
           if f.file.startswith(("n_ZIP", "i_ZIP"))]
_GOLDEN_QUICK = {f.file for f in _GOLDEN if f.file in _GOLDEN_REGRESSIONS} | {
    f.file for f in random.Random(_SEED).sample(_GOLDEN, 4)}


def _mutant(mutation: Mutation, folder: Path) -> Path:
    rnd = random.Random(_SEED)
    path = folder / f"{mutation.name}.hsi"
    path.write_bytes(mutation.apply(build_valid(applicable(mutation, ContainerSpec(), rnd), rnd), rnd))
    return path


def _convert_everywhere(cli: CliRunner, source: Path, tmp_path: Path) -> None:
    for fmt, suffix in FORMATS.items():
        result = cli(["convert", source, tmp_path / f"out-{fmt}{suffix}", "--to", fmt])
        assert result.code in DOCUMENTED, (fmt, result.code, result.err[-2000:])
        assert "Traceback" not in result.err, (fmt, result.err[-2000:])


@pytest.mark.parametrize("mutation", [m for m in CATALOGUE if m.name in _QUICK], ids=lambda m: m.name)
def test_convert_of_a_mutant_never_exits_4(cli: CliRunner, mutation: Mutation, tmp_path: Path) -> None:
    _convert_everywhere(cli, _mutant(mutation, tmp_path), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("mutation", [m for m in CATALOGUE if m.name not in _QUICK], ids=lambda m: m.name)
def test_convert_of_every_other_mutant_never_exits_4(cli: CliRunner, mutation: Mutation, tmp_path: Path) -> None:
    _convert_everywhere(cli, _mutant(mutation, tmp_path), tmp_path)


def _golden(case: CorpusFile, folder: Path) -> Path:
    path = folder / case.file
    path.write_bytes(case.data)
    return path


@pytest.mark.parametrize("case", [f for f in _GOLDEN if f.file in _GOLDEN_QUICK], ids=lambda f: f.file)
def test_convert_of_a_hostile_golden_file_never_exits_4(cli: CliRunner, case: CorpusFile, tmp_path: Path) -> None:
    _convert_everywhere(cli, _golden(case, tmp_path), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("case", [f for f in _GOLDEN if f.file not in _GOLDEN_QUICK], ids=lambda f: f.file)
def test_convert_of_every_other_hostile_golden_file_never_exits_4(cli: CliRunner, case: CorpusFile,
                                                                  tmp_path: Path) -> None:
    _convert_everywhere(cli, _golden(case, tmp_path), tmp_path)


@pytest.mark.parametrize("fmt", ["envi", "hdf5"])
def test_nul_in_a_member_name_is_refused(cli: CliRunner, fmt: str, tmp_path: Path) -> None:
    vc = build_valid(ContainerSpec())
    source = tmp_path / "nul.hsi"
    source.write_bytes(vc.rebuild([*vc.members, ("Metadata/a\0b.txt", b"x\n")]))
    refused = cli(["convert", source, tmp_path / f"out{FORMATS[fmt]}", "--to", fmt])
    assert refused.code == ExitCode.NONCONFORMANT, refused.err  # the source does not conform (ZIP037)
    result = cli(["convert", source, tmp_path / f"out{FORMATS[fmt]}", "--to", fmt, "--allow-nonconformant"])
    assert result.code == ExitCode.NONCONFORMANT, result.err  # the writer refuses the name (MemberNameError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nul.hsi"]  # nothing written, no temp left
