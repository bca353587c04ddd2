"""The public ``check`` and ``validate``: build a check context, run the engine, grade the report."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from hsi_conform.errors import ConformanceError, InputUnreadableError
from hsi_conform.finding import Report
from hsi_conform.members import MANDATORY
from hsi_conform.rules.context import CheckContext, CheckOptions, Content
from hsi_conform.validate.engine import Policy, run_rules

__all__ = ["check", "expand_inputs", "is_container_folder", "validate"]


def check(path: str | os.PathLike[str], *, policy: Policy | None = None, options: CheckOptions | None = None,
          profile: str | None = None, content: str | Content | None = None) -> Report:
    """Validate one ``.hsi`` file or expanded container folder; never raises for content problems.

    Args:
        path: the container.
        policy: rule selection and grading (default: profile ``exchange``, fail on ERROR).
        options: content tier and ZIP limits.
        profile: shorthand for ``Policy(profile=...)``.
        content: shorthand for ``CheckOptions(content=...)``: ``none``, ``crc`` or ``full``.

    Raises:
        InputUnreadableError: the path does not exist or cannot be read (exit code 3 at the CLI).
    """
    if profile is not None:
        policy = replace(policy or Policy(), profile=profile)
    if content is not None:
        options = replace(options or CheckOptions(), content=Content(content))
    p = Path(path)
    if not p.exists():
        raise InputUnreadableError(str(p), "no such file or directory")
    if not (p.is_file() or p.is_dir()):
        raise InputUnreadableError(str(p), "not a regular file or directory")
    options = options or CheckOptions()
    context = CheckContext(p, options)
    return run_rules(context, policy=policy or Policy(), path=str(p), content=options.content.value)


def validate(path: str | os.PathLike[str], *, policy: Policy | None = None, options: CheckOptions | None = None,
             profile: str | None = None, content: str | Content | None = None) -> Report:
    """Like :func:`check`, but raise when the container does not conform.

    Raises:
        ConformanceError: a finding at or above the policy's ``fail_on`` severity.
        InputUnreadableError: the path does not exist or cannot be read.
    """
    report = check(path, policy=policy, options=options, profile=profile, content=content)
    if not report.conformant:
        raise ConformanceError(report)
    return report


def is_container_folder(path: Path) -> bool:
    """Whether a directory is an expanded container (it holds ``data.hdr`` or ``data.envi``)."""
    return any((path / name).is_file() for name in MANDATORY)


def expand_inputs(paths: Sequence[str | os.PathLike[str]]) -> Iterator[Path]:
    """Yield the containers named by ``paths``.

    Files and expanded container folders are yielded as given; other directories are searched recursively for
    ``*.hsi`` files and container folders (sorted).
    """
    for raw in paths:
        p = Path(raw)
        if p.is_dir() and not is_container_folder(p):
            yield from _walk(p)
        else:
            yield p


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        for d in list(dirnames):
            if is_container_folder(base / d):
                dirnames.remove(d)
                yield base / d
        for name in sorted(filenames):
            if name.lower().endswith(".hsi"):
                yield base / name
