"""The wheel ships its data (grammar, converter tables, golden corpus, spec), and an installed wheel uses it.

With a flat layout every other test imports the checkout, so only this test proves the wheel is complete. One
wheel and one virtual environment serve the whole module: building and installing are the slow part.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from hsi_conform.cli.explain import explain
from hsi_conform.corpus.golden import load_cases
from tests._paths import ROOT

DATA_ROOTS = {"grammar": "hsi_conform/_grammar", "converters": "hsi_conform/_converters",
              "fixtures": "hsi_conform/_fixtures", "spec": "hsi_conform/_spec"}
# `corpus run` starts one reader process per case: every RUN_STRIDE-th exported case keeps the run short.
RUN_STRIDE = 10

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Installed:
    """The wheel installed in a fresh virtual environment, and a working directory outside the checkout."""

    bin: Path
    cwd: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        return subprocess.run([str(self.bin / args[0]), *args[1:]], cwd=self.cwd, env=env,
                              capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True)
    (built,) = out.glob("hsi_conform-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # with the JPEG-XL codec: the corpus has JPEG-XL cases graded at --content full, which a bare install reports
    # as not checked (spec/jpegxl.md#validator)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"{wheel}[jpegxl]"],
                   check=True, capture_output=True)
    return Installed(venv / "bin", tmp_path_factory.mktemp("elsewhere"))


@pytest.fixture(scope="module")
def exported(installed: Installed) -> tuple[subprocess.CompletedProcess[str], Path]:
    run = installed.run("hsi-conform", "corpus", "export", "D")
    return run, installed.cwd / "D"


def test_wheel_contains_the_data_files_byte_for_byte(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for root, packaged in DATA_ROOTS.items():
            for source in sorted((ROOT / root).rglob("*")):
                if source.is_file():
                    inside = f"{packaged}/{source.relative_to(ROOT / root).as_posix()}"
                    assert inside in names, inside
                    assert zf.read(inside) == source.read_bytes()
        assert "hsi_conform/py.typed" in names
        assert not any(n.startswith(("tests/", "fixtures/", "spec/")) for n in names)


def test_wheel_ships_the_html_report_templates(wheel: Path) -> None:
    templates = ROOT / "hsi_conform" / "report" / "templates"
    with zipfile.ZipFile(wheel) as zf:
        for source in sorted(templates.iterdir()):
            inside = f"hsi_conform/report/templates/{source.name}"
            assert zf.read(inside) == source.read_bytes(), inside
    assert {p.suffix for p in templates.iterdir()} >= {".j2", ".css", ".js"}


def test_wheel_registers_the_xarray_engine(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
        points = configparser.ConfigParser(delimiters=("=",))
        points.read_string(zf.read(name).decode())
    assert dict(points["xarray.backends"]) == {"hsi": "hsi_conform.xarray_backend:HsiBackendEntrypoint"}


def test_installed_wheel_loads_its_data_outside_the_checkout(installed: Installed) -> None:
    probe = (
        "import hsi_conform, hsi_conform.header.grammar as g\n"
        "from hsi_conform.corpus.golden import FIXTURES\n"
        "from hsi_conform.cli.explain import SPEC\n"
        "assert 'site-packages' in hsi_conform.__file__, hsi_conform.__file__\n"
        "assert '_grammar' in str(g.grammar_path()), g.grammar_path()\n"
        "assert FIXTURES.name == '_fixtures' and SPEC.name == '_spec', (FIXTURES, SPEC)\n"
        "tree = g.parser().parse('ENVI\\nsamples = 2\\n', start='start')\n"
        "h = hsi_conform.parse_header(b'ENVI\\nsamples = 2\\n')\n"
        "assert h.value('samples') == 2 and len(tree.children) == 2\n"
        "print('ok')\n"
    )
    run = installed.run("python", "-c", probe)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_installed_corpus_export_writes_every_golden_case(exported: tuple[subprocess.CompletedProcess[str], Path],
                                                          ) -> None:
    run, directory = exported
    assert run.returncode == 0, run.stderr
    entries = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))["cases"]
    assert entries
    assert sorted(f for e in entries for f in e["fixtures"]) == sorted(c.id for c in load_cases())


def test_installed_corpus_run_scores_the_installed_reader(installed: Installed,
                                                          exported: tuple[subprocess.CompletedProcess[str], Path],
                                                          ) -> None:
    _, directory = exported
    entries = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))["cases"]
    subset = entries[::RUN_STRIDE]
    assert {e["expect"] for e in subset} == {"accept", "reject", "implementation-defined"}
    part = installed.cwd / "D-part"
    part.mkdir()
    for entry in subset:
        shutil.copyfile(directory / entry["file"], part / entry["file"])
    (part / "manifest.json").write_text(json.dumps({"cases": subset}), encoding="utf-8")
    run = installed.run("hsi-conform", "corpus", "run", "--reader", "hsi-conform", "--json", "matrix.json", "D-part")
    assert run.returncode == 0, run.stdout + run.stderr
    [reader] = json.loads((installed.cwd / "matrix.json").read_text(encoding="utf-8"))["readers"]
    assert reader["counts"]["cases"] == len(subset)
    assert reader["counts"]["failures"] == 0


def test_installed_explain_has_the_spec_text_and_both_examples(installed: Installed) -> None:
    run = installed.run("hsi-conform", "explain", "HDR015")
    assert run.returncode == 0, run.stderr
    assert "Keys are written in lower case" in run.stdout and "<a id=" not in run.stdout  # plain text
    assert "Failing example:" in run.stdout and "Valid example:" in run.stdout
    assert run.stdout == explain("HDR015")  # the same text as from the checkout


def test_installed_sample_validates(installed: Installed) -> None:
    assert installed.run("hsi-conform", "sample", "x.hsi").returncode == 0
    run = installed.run("hsi-conform", "validate", "x.hsi")
    assert run.returncode == 0, run.stdout + run.stderr


def test_installed_without_the_report_extra_html_names_the_pip_command(installed: Installed) -> None:
    # The wheel is installed without extras: no Jinja2, no matplotlib.
    assert installed.run("hsi-conform", "sample", "h.hsi").returncode == 0
    run = installed.run("hsi-conform", "validate", "--format", "html", "-o", "h.html", "h.hsi")
    assert run.returncode == 3, run.stdout + run.stderr  # MissingDependencyError, as for a missing converter extra
    assert "pip install 'hsi-conform[report]'" in run.stderr
    assert not (installed.cwd / "h.html").exists()


def test_version_is_the_distribution_metadata() -> None:
    import importlib.metadata

    import hsi_conform

    assert hsi_conform.__version__ == importlib.metadata.version("hsi-conform")
