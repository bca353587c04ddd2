"""Atheris target: the container validator on arbitrary bytes.

The fuzzed bytes are written to a scratch ``.hsi`` file and validated with every content check
(``check(path, content="full")``). :func:`hsi_conform.check` never raises for content problems, so any exception
is a bug; so is a rule that crashed inside the engine, which ``check`` lists in ``Report.internal_errors`` (exit
code 4 at the command line) instead of raising: the target raises :class:`~hsi_conform.errors.InternalError` for it.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hsi_conform.errors import InternalError
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
    """Validate ``data`` as a ``.hsi`` file (exceptions propagate: they are the bugs).

    Raises:
        InternalError: a rule crashed (the report's ``internal_errors``).
    """
    path = scratch_file()
    path.write_bytes(data)
    report = check(path, content="full")
    if report.internal_errors:
        raise InternalError(f"rule crashed {crash_key(report.internal_errors)}: {'; '.join(report.internal_errors)}")


def crash_key(internal_errors: Sequence[str]) -> str:
    """Return the crashed rules with their exception types (``HDR001 KeyError, ...``), the identity of a crash."""
    keys = []
    for error in internal_errors:  # "<ID> [<name>]: <Type>: <message>", as the engine records it
        rule_id, _, rest = error.partition(" ")
        kind = rest.partition(": ")[2].partition(":")[0]
        keys.append(f"{rule_id} {kind}".strip())
    return ", ".join(sorted(set(keys)))
