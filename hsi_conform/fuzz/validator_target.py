"""Atheris target: the container validator on arbitrary bytes.

The fuzzed bytes are written to a scratch ``.hsi`` file and validated with every content check
(``check(path, content="full")``). :func:`hsi_conform.check` never raises for content problems, so any exception
is a bug.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from hsi_conform.validate import check

_scratch: list[Path] = []


def scratch_file() -> Path:
    """Return this process's scratch ``.hsi`` path (its folder is removed at exit)."""
    if not _scratch:
        folder = Path(tempfile.mkdtemp(prefix="hsi-fuzz-"))
        atexit.register(shutil.rmtree, folder, True)
        _scratch.append(folder / "fuzz.hsi")
    return _scratch[0]


def warm_up() -> None:
    """Validate a valid sample once, so that every lazily imported rule module is loaded before instrumentation."""
    from hsi_conform.testing.samples import sample_members, write_members

    path = scratch_file()
    write_members(path, sample_members())
    check(path, content="full")


def test_one_input(data: bytes) -> None:
    """Validate ``data`` as a ``.hsi`` file (exceptions propagate: they are the bugs)."""
    path = scratch_file()
    path.write_bytes(data)
    check(path, content="full")
