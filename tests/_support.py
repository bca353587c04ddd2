"""Helpers shared by the test modules: expanded containers, member digests, verdicts, the CLI runner's result.

Fixtures built on them live in ``tests/conftest.py``; these are plain functions so that a test can also use
them in ``pytest.mark.parametrize`` and in module-scoped fixtures.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import hsi_conform
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


def missing_entry_points(pyproject: Path) -> dict[str, dict[str, str]]:
    """Return ``group -> {name: value}`` of the entry points ``pyproject`` declares that Python cannot find.

    An editable install records its entry points when it is installed, so one declared since then (the xarray
    engine, say) is missing until the next ``pip install -e``.
    """
    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("entry-points", {})
    missing: dict[str, dict[str, str]] = {}
    for group, points in declared.items():
        found = {ep.name for ep in entry_points(group=group)}
        absent = {name: value for name, value in points.items() if name not in found}
        if absent:
            missing[group] = absent
    return missing


def write_entry_points(folder: Path, points: Mapping[str, Mapping[str, str]]) -> Path:
    """Write a minimal dist-info declaring ``points`` into ``folder`` (put on ``sys.path``, Python finds them)."""
    info = folder / "hsi_conform_checkout_entry_points-0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hsi-conform-checkout-entry-points\nVersion: 0\n")
    text = "".join(f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in named.items()) + "\n"
                   for group, named in points.items())
    (info / "entry_points.txt").write_text(text)
    return folder
