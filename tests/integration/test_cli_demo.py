"""``demo`` keeps what it shows under ``./demo-output/`` and says so (issue 20, item 12)."""

from __future__ import annotations

import re
from pathlib import Path

from hsi_conform.cli.demo import DEMO_FILES
from tests._process import run_cli


def test_every_path_the_demo_prints_exists_after_it_exits(tmp_path: Path) -> None:
    run = run_cli("demo", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    kept = run.stdout.split("kept in demo-output/", 1)[1].splitlines()[1:]
    assert [Path(line.strip()) for line in kept] == [Path("demo-output", name) for name in DEMO_FILES]
    printed = re.findall(r"(?:wrote|thumbnail of the calibrated view:) ([^\s:]+)", run.stdout)
    assert printed and all((tmp_path / p).is_file() for p in [*printed, *(line.strip() for line in kept)])
    assert sorted(p.name for p in (tmp_path / "demo-output").iterdir()) == sorted(DEMO_FILES)
