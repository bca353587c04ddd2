"""Reader harness: the 0/1/other/timeout protocol, the results matrix, the built-in readers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hsi_conform.corpus.harness import Reader, Run, render_markdown, results_json, run_corpus, run_one
from hsi_conform.errors import ConfigError, InputUnreadableError
from hsi_conform.testing.generate import ContainerSpec, build_valid
from hsi_conform.testing.mutations import BY_NAME
from hsi_conform.testing.samples import write_sample_container
from tests._support import CliRunner

PY = sys.executable


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return f"{PY} {path} {{file}}"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    cases = [("y_X001_ok.hsi", "accept"), ("n_X002_bad.hsi", "reject"), ("i_X003_odd.hsi", "implementation-defined")]
    for name, _ in cases:
        (root / name).write_bytes(name.encode())
    manifest = {"cases": [{"file": n, "expect": e, "rules": [], "spec": []} for n, e in cases]}
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


@pytest.fixture
def by_name(tmp_path: Path) -> str:
    """A reader that accepts exactly the files whose name starts with y_ or i_."""
    return _script(tmp_path, "by_name.py",
                   "import os, sys\nsys.exit(0 if os.path.basename(sys.argv[1])[:2] in ('y_', 'i_') else 1)\n")


def test_correct_reader_has_no_failures(corpus: Path, by_name: str) -> None:
    [result] = run_corpus(corpus, [Reader.parse(by_name)], jobs=2)
    counts = result.counts()
    assert counts["accepted"] == counts["should_accept"] == 1
    assert counts["rejected"] == counts["should_reject"] == 1
    assert counts["implementation_accepted"] == 1
    assert counts["crashes"] == counts["timeouts"] == counts["failures"] == 0


def test_accept_all_reader_fails_the_reject_case(corpus: Path, tmp_path: Path) -> None:
    reader = Reader.parse(_script(tmp_path, "yes.py", "import sys\nsys.exit(0)\n"))
    [result] = run_corpus(corpus, [reader])
    assert [(r.file, r.status) for r in result.failures()] == [("n_X002_bad.hsi", "should-have-rejected")]


def test_other_exit_codes_and_signals_are_crashes(corpus: Path, tmp_path: Path) -> None:
    three = Reader.parse(_script(tmp_path, "three.py", "import sys\nsys.exit(3)\n"))
    abort = Reader.parse(_script(tmp_path, "abort.py", "import os\nos.abort()\n"))
    for result in run_corpus(corpus, [three, abort]):
        counts = result.counts()
        assert counts["crashes"] == counts["failures"] == 3
        assert {r.status for r in result.runs} == {"crash"}


def test_timeout(corpus: Path, tmp_path: Path) -> None:
    reader = Reader.parse(_script(tmp_path, "slow.py", "import time\ntime.sleep(60)\n"))
    run = run_one(reader, corpus / "y_X001_ok.hsi", "accept", timeout=0.5)
    assert run.outcome == "timeout" and run.failed


def test_file_is_appended_without_placeholder(corpus: Path, tmp_path: Path) -> None:
    script = tmp_path / "by_name.py"
    script.write_text("import os, sys\nsys.exit(0 if os.path.basename(sys.argv[-1]).startswith('y_') else 1)\n")
    reader = Reader.parse(f"{PY} {script}")
    assert run_one(reader, corpus / "y_X001_ok.hsi", "accept").outcome == "accepted"
    assert run_one(reader, corpus / "n_X002_bad.hsi", "reject").outcome == "rejected"


def test_implementation_defined_outcomes_are_not_failures() -> None:
    assert not Run("i.hsi", "implementation-defined", "rejected").failed
    assert Run("i.hsi", "implementation-defined", "crash").failed


def test_unknown_program_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError):
        Reader.parse("no-such-reader-program-xyz {file}")


def test_not_a_corpus_is_a_configuration_error(tmp_path: Path, by_name: str) -> None:
    with pytest.raises(ConfigError):
        run_corpus(tmp_path, [Reader.parse(by_name)])


def test_empty_corpus_is_unreadable_input(tmp_path: Path, by_name: str, cli: CliRunner) -> None:
    (tmp_path / "manifest.json").write_text('{"cases": []}', encoding="utf-8")
    with pytest.raises(InputUnreadableError):
        run_corpus(tmp_path, [Reader.parse(by_name)])
    assert cli(["corpus", "run", "--reader", by_name, str(tmp_path)]).code == 3


def test_matrix_lists_failures(corpus: Path, by_name: str, tmp_path: Path) -> None:
    yes = Reader.parse(_script(tmp_path, "yes.py", "import sys\nsys.exit(0)\n"))
    results = run_corpus(corpus, [Reader.parse(by_name), yes])
    text = render_markdown(results)
    assert "n_X002_bad.hsi" in text and "y_X001_ok.hsi" not in text
    data = results_json(results)
    assert [r["counts"]["failures"] for r in data["readers"]] == [0, 1]


def test_cli_run_writes_json_and_exit_code(corpus: Path, by_name: str, tmp_path: Path, cli: CliRunner) -> None:
    out = tmp_path / "results.json"
    assert cli(["corpus", "run", "--reader", by_name, "--json", out, corpus]).code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["readers"][0]["counts"]["failures"] == 0
    yes = _script(tmp_path, "yes.py", "import sys\nsys.exit(0)\n")
    assert cli(["corpus", "run", "--reader", yes, corpus]).code == 1
    assert cli(["corpus", "run", "--reader", by_name, "--timeout", "0", corpus]).code == 2


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("readers")
    (root / "junk.hsi").write_bytes(b"PK\x03\x04 this is not a container")
    return {"valid": write_sample_container(root / "valid.hsi"), "junk": root / "junk.hsi"}


@pytest.mark.parametrize("reader", ["gdal", "spectral", "hsi-conform"])
def test_builtin_reader(reader: str, samples: dict[str, Path]) -> None:
    def code(path: Path) -> int:
        return subprocess.run([PY, "-m", "hsi_conform.corpus.readers", reader, str(path)], capture_output=True,
                              timeout=60).returncode

    assert code(samples["valid"]) == 0
    assert code(samples["junk"]) == 1


def test_builtin_reader_usage() -> None:
    from hsi_conform.corpus.readers import main as readers_main

    assert readers_main(["no-such-reader", "x.hsi"]) == 2
    assert readers_main(["hsi-conform", "x.hsi", "everything"]) == 2


def test_each_case_is_run_at_its_content_tier(tmp_path: Path) -> None:
    # A wrong CRC shows only when the data is read: the manifest says crc, and the harness passes it on.
    root = tmp_path / "corpus"
    root.mkdir()
    vc = build_valid(ContainerSpec())
    (root / "n_ZIP050_bad-crc.hsi").write_bytes(BY_NAME["zip-crc-mismatch"].apply(vc))
    (root / "y_ZIP050_good.hsi").write_bytes(vc.data)
    cases = [{"file": "n_ZIP050_bad-crc.hsi", "expect": "reject", "content": "crc", "rules": ["ZIP050"], "spec": []},
             {"file": "y_ZIP050_good.hsi", "expect": "accept", "content": "none", "rules": [], "spec": []}]
    (root / "manifest.json").write_text(json.dumps({"cases": cases}), encoding="utf-8")
    tier = Reader.parse(_script(tmp_path, "tier.py", "import sys\nsys.exit(0 if sys.argv[2] == 'none' else 1)\n")
                        + " {content}")
    builtin = Reader.parse("hsi-conform")
    for result in run_corpus(root, [tier, builtin], jobs=2):
        assert result.counts()["failures"] == 0, result.to_dict()
    assert run_one(builtin, root / "n_ZIP050_bad-crc.hsi", "reject", content="none").outcome == "accepted"


def test_cli_run_without_directory_uses_a_fresh_export(corpus: Path, by_name: str, monkeypatch: pytest.MonkeyPatch,
                                                       cli: CliRunner) -> None:
    import shutil

    import hsi_conform.corpus.export

    def fake_export(directory: str | Path, **_: object) -> list[object]:
        shutil.copytree(corpus, directory, dirs_exist_ok=True)
        return []

    monkeypatch.setattr(hsi_conform.corpus.export, "export_corpus", fake_export)
    assert cli(["corpus", "run", "--reader", by_name]).code == 0
