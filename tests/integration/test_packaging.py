"""The wheel ships the grammar and the converter tables, and an installed wheel loads them.

With a flat layout every other test imports the checkout, so only this test proves the wheel is complete.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests._paths import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True)
    (built,) = out.glob("hsi_conform-*.whl")
    return built


def test_wheel_contains_the_data_files_byte_for_byte(wheel: Path) -> None:
    data_roots = {"grammar": "hsi_conform/_grammar", "converters": "hsi_conform/_converters"}
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for root, packaged in data_roots.items():
            for source in sorted((ROOT / root).rglob("*")):
                if source.is_file():
                    inside = f"{packaged}/{source.relative_to(ROOT / root).as_posix()}"
                    assert inside in names, inside
                    assert zf.read(inside) == source.read_bytes()
        assert "hsi_conform/py.typed" in names
        assert not any(n.startswith(("tests/", "fixtures/", "spec/")) for n in names)


def test_installed_wheel_loads_the_grammar_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, capture_output=True)
    probe = (
        "import hsi_conform, hsi_conform.header.grammar as g\n"
        "assert 'site-packages' in hsi_conform.__file__, hsi_conform.__file__\n"
        "assert '_grammar' in str(g.grammar_path()), g.grammar_path()\n"
        "tree = g.parser().parse('ENVI\\nsamples = 2\\n', start='start')\n"
        "h = hsi_conform.parse_header(b'ENVI\\nsamples = 2\\n')\n"
        "assert h.value('samples') == 2 and len(tree.children) == 2\n"
        "print('ok')\n"
    )
    run = subprocess.run([str(python), "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_version_is_the_distribution_metadata() -> None:
    import importlib.metadata

    import hsi_conform

    assert hsi_conform.__version__ == importlib.metadata.version("hsi-conform")
