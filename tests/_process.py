"""``hsi-conform`` run as users run it: a real subprocess, its exit code, stdout and stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests._paths import ROOT


def run_cli(*args: str | os.PathLike[str], cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m hsi_conform ARGS`` with this checkout first on the import path; never raises on an exit code."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    base = dict(os.environ, PYTHONPATH=path)
    return subprocess.run([sys.executable, "-m", "hsi_conform", *map(os.fspath, args)], cwd=cwd,
                          env={**base, **(env or {})}, capture_output=True, text=True, check=False, timeout=300)
