"""Every number and claim of README and ``spec/`` is generated or tested (issue 20, item 20).

Generated (``python -m hsi_conform._docs``; ``test_docs`` fails when stale): the exit codes, the converter options,
every command's options, the rule count and the corpus case count. Tested here: links and file references, options
that prose names, the reader matrix's counts, the edge-case count, and "command-line options win".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hsi_conform import _docs
from hsi_conform.cli.main import build_parser
from hsi_conform.cli.parsermodel import walk
from hsi_conform.testing.samples import sample_members, write_members
from tests._paths import ROOT
from tests._process import run_cli

DOCS = [ROOT / "README.md", ROOT / "ARCHITECTURE.md", ROOT / "benchmarks" / "README.md",
        *sorted((ROOT / "spec").glob("*.md")), *sorted((ROOT / "docs").glob("*.md"))]
README = (ROOT / "README.md").read_text(encoding="utf-8")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_PATH = re.compile(r"`((?:spec|docs|fixtures|converters|grammar|scripts|benchmarks|hsi_conform|tests)/[\w./-]*)`")


#: Folders named before they exist, each with why.
NOT_YET = {"fixtures/regressions/": "where fuzzing puts the cases of crashes it finds; none yet (docs/fuzzing.md)",
           "benchmarks/_data/": "written by the benchmarks when they run; git-ignored"}


def _exists(doc: Path, ref: str, path: Path) -> bool:
    if ref in NOT_YET or path.exists():
        return True
    # ARCHITECTURE.md names modules relative to the package (`converters/guard.py`)
    return doc.name == "ARCHITECTURE.md" and (ROOT / "hsi_conform" / ref).exists()


def _targets(doc: Path) -> list[tuple[str, Path]]:
    text = doc.read_text(encoding="utf-8")
    out = []
    for link in _LINK.findall(text):
        target = link.split("#", 1)[0]
        if target and not re.match(r"[a-z][a-z0-9+.-]*:", target):  # not a URL, not an anchor of this page
            out.append((link, (doc.parent / target)))
    for path in _PATH.findall(text):
        if not re.search(r"[<>*{}]|\.\.\.", path):  # a pattern (`fixtures/<chapter>/...`), not a file name
            out.append((path, ROOT / path))
    return out


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_reference_to_a_file_that_is_not_in_the_repository(doc: Path) -> None:
    missing = [ref for ref, path in _targets(doc) if not _exists(doc, ref, path)]
    assert missing == [], f"{doc.relative_to(ROOT)} refers to files that do not exist: {missing}"


def test_every_option_the_readme_names_exists() -> None:
    options = {s for command in walk(build_parser()) for o in command.options for s in o.strings}
    prose = README.split("<!-- generated:command_reference:begin -->")[0] + README.split(
        "<!-- generated:command_reference:end -->")[1]
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", prose))
    others = {"--upgrade", "--quiet", "--strict", "--readme",  # pip's, mypy's, the benchmarks'
              "--cont"}  # the abbreviation README says is refused (test_cli_conventions.py runs it)

    assert sorted(named - options - others) == []


def test_generated_numbers_are_regenerated() -> None:
    assert f"a **validator** with {_docs.rule_count()} rules" in README
    assert f"corpus export corpus --generate {_docs.README_GENERATED_CASES} " in README
    tampered = re.sub(r"with \d+ rules", "with 7 rules", README)
    assert tampered != README and _docs.readme(tampered) == README
    block = _docs.command_reference()
    assert block in README and "#### `hsi-conform validate [PATH...]`" in block


def test_reader_matrix_counts_the_corpus_as_it_is() -> None:
    from hsi_conform.corpus.export import golden_files

    files = golden_files()
    counts = {e: sum(f.expect == e for f in files) for e in ("accept", "reject", "implementation-defined")}
    text = (ROOT / "docs" / "reader-matrix.md").read_text(encoding="utf-8")
    claim = (f"{len(files)} cases: {counts['accept']} must be accepted, {counts['reject']} must be rejected, "
             f"{counts['implementation-defined']} are implementation-defined.")
    assert claim in text, "run: python scripts/reader_matrix.py"


def test_the_edge_case_count_of_the_syntax_page() -> None:
    cases = set(re.findall(r'"(E\d\d)', (ROOT / "tests/unit/header/test_edge_cases.py").read_text(encoding="utf-8")))
    text = (ROOT / "spec" / "header-syntax.md").read_text(encoding="utf-8")
    assert f"{len(cases)} cases `E01` to `E{len(cases):02d}`" in text


# -- "command-line options win, for every key" (README, Configuration) -----------------------------------------
def _container(folder: Path, name: str, old: bytes, new: bytes) -> Path:
    members = sample_members()
    assert old in members["data.hdr"]
    members["data.hdr"] = members["data.hdr"].replace(old, new, 1)
    folder.mkdir()
    return write_members(folder / name, members)


WARNING = (b"ENVI\n", b"ENVI \n")        # HDR006, a warning: fails only under strict or fail-on warning
ERROR = (b"samples = ", b"Samples = ")   # HDR015, an error
CLEAN = (b"ENVI\n", b"ENVI\n")

KEYS = [  # key, the file's value, the file's defect, exit with the file alone, the command line, exit with it
    ("profile", 'profile = "strict"', WARNING, 1, ["--profile", "exchange"], 0),
    ("select", 'ignore = ["HDR015"]', ERROR, 0, ["--select", "HDR015"], 1),
    ("ignore", 'profile = "strict"\nignore = ["HDR006"]', WARNING, 0, ["--ignore", "HDR015"], 1),
    ("severity", 'severity = { HDR015 = "warning" }', ERROR, 0, ["--severity", "HDR=error"], 1),
    ("fail-on", 'fail-on = "warning"', WARNING, 1, ["--fail-on", "error"], 0),
    ("limits", '[tool.hsi-conform.limits]\nmax-header-bytes = "100"', CLEAN, 1,
     ["--limit", "max-header-bytes=16MiB"], 0),
]


def test_the_claim_is_in_the_readme() -> None:
    assert "command-line options win, for every key" in README
    from hsi_conform.validate import config

    # the keys a file sets that change a verdict are run here; the run settings (content, format, jobs, color) are
    # run key by key in test_cli_settings.py, where the executor is in tests/unit/validate/test_config.py
    run_settings = {"content", "format", "jobs", "color", "executor", "scheduler"}
    assert {k for k, *_ in KEYS} == set(config._KEYS) - {"waiver", "storage-options"} - run_settings


@pytest.mark.parametrize(("key", "setting", "defect", "alone", "cli", "with_cli"), KEYS, ids=[k[0] for k in KEYS])
def test_the_command_line_wins_for_every_key(tmp_path: Path, key: str, setting: str, defect: tuple[bytes, bytes],
                                             alone: int, cli: list[str], with_cli: int) -> None:
    path = _container(tmp_path / "in", "x.hsi", *defect)
    table = setting if setting.startswith("[") else "[tool.hsi-conform]\n" + setting
    (path.parent / "pyproject.toml").write_text(table + "\n", encoding="utf-8")
    first = run_cli("validate", path)
    assert first.returncode == alone, (key, first.stdout, first.stderr)
    second = run_cli("validate", *cli, path)
    assert second.returncode == with_cli, (key, second.stdout, second.stderr)
