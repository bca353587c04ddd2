"""Helpers shared by the test modules: expanded containers, member digests, verdicts, the CLI runner's result.

Fixtures built on them live in ``tests/conftest.py``; these are plain functions so that a test can also use
them in ``pytest.mark.parametrize`` and in module-scoped fixtures.
"""

from __future__ import annotations

import hashlib
import os
import signal
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import hsi_conform
from hsi_conform._progress import Progress
from hsi_conform.errors import Interrupted
from hsi_conform.finding import Severity


def write_tree(root: Path, members: Mapping[str, bytes | str | None]) -> Path:
    """Write ``members`` as an expanded container folder at ``root`` and return ``root``.

    Args:
        root: The folder to create.
        members: ``name -> content``; a ``str`` is written as UTF-8, ``None`` leaves the member out (so a test
            can take one away from the sample), and a name ending in ``/`` becomes an empty folder, as a
            directory entry of an archive would.

    Returns:
        ``root``.
    """
    root.mkdir(parents=True, exist_ok=True)
    for name, data in members.items():
        path = root / name
        if data is None:
            continue
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return root


def member_digests(path: Path, *, directories: bool = True) -> dict[str, str]:
    """Return ``member name -> sha256`` of the members of a container (an archive or a folder).

    Args:
        path: The container.
        directories: Include directory entries. Off where the other side of a comparison passed through a
            format that has no directory entries, so that only the files are compared.

    Returns:
        The hex digest of every member.
    """
    with hsi_conform.open(path) as container:
        return {name: hashlib.sha256(container.read_bytes(name)).hexdigest() for name in container.names
                if directories or not name.endswith("/")}


def assert_no_errors(path: Path) -> None:
    """Assert that validating ``path`` finds nothing at ERROR or above (the findings are the message)."""
    report = hsi_conform.check(path)
    bad = [f for f in report.findings if f.severity >= Severity.ERROR]
    assert not bad, bad


@dataclass(frozen=True, slots=True)
class CliResult:
    """What one in-process run of ``hsi-conform`` gave back."""

    code: int
    """The exit code: ``main``'s return value, or the code of the ``SystemExit`` argparse raised."""
    out: str
    """Everything printed to stdout during the run."""
    err: str
    """Everything printed to stderr during the run."""


CliRunner = Callable[[Sequence[str | os.PathLike[str]]], CliResult]
"""The type of the ``cli`` fixture: call it with the argument list ``main`` would get (paths allowed)."""


def traced_peak(fn: Callable[[], object]) -> int:
    """Return the peak of memory Python allocated (tracemalloc) while ``fn`` ran, in bytes."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class StopAfter(Progress):
    """A progress display that stops the run (as Ctrl-C would) after ``n`` datasets finished."""

    def __init__(self, n: int) -> None:
        super().__init__(0, enabled=False)
        self.n = n

    def advance(self, label: str = "") -> None:
        super().advance(label)
        if self.done == self.n:
            raise Interrupted(signal.SIGINT)


class InterruptOnCall:
    """A stand-in for a signal checkpoint that raises ``KeyboardInterrupt`` (as Ctrl-C would) on its ``n``-th call."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
