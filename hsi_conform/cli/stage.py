"""What the commands that write a container from a container share (spec/cli.md#progress).

``calibrate``, ``procedures`` and ``previews`` judge the source before the work, show a long job's progress and
validate what was written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hsi_conform.errors import ExitCode, InputNotFoundError, NonconformantSourceError

if TYPE_CHECKING:
    from hsi_conform.cli.output import Output
    from hsi_conform.finding import Finding, Report

__all__ = ["finding_line", "judge", "print_finding", "validated"]


def judge(source: Path, *, allow_nonconformant: bool) -> Report | None:
    """Return the report of a container source; a nonconformant one is refused with its findings printed.

    Raises:
        InputNotFoundError: ``source`` does not exist.
        NonconformantSourceError: it does not conform and ``allow_nonconformant`` is false (exit 1).
    """
    from hsi_conform.converters.guard import CONTAINER_READER, judge_source

    if not source.exists():
        raise InputNotFoundError(str(source))
    try:
        return judge_source(CONTAINER_READER, source, allow_nonconformant=allow_nonconformant)
    except NonconformantSourceError as exc:
        from hsi_conform.report import render

        sys.stdout.write(render("text", [exc.report]))  # the findings, as validate prints them
        raise


def finding_line(finding: Finding, indent: str = "  ") -> str:
    """Return one finding as ``validate`` prints it (escaped)."""
    from hsi_conform.report.text import clean

    where = f" {finding.location}:" if str(finding.location) else ":"
    return f"{indent}{finding.severity.label} {finding.rule} [{finding.name}]{clean(where)} {clean(finding.message)}"


def print_finding(finding: Finding) -> None:
    """Print one finding of a pipeline stage, as ``validate`` prints findings."""
    print(finding_line(finding))


def validated(path: Path, out: Output, *, indent: str = "  ") -> ExitCode:
    """Validate a written container; print the verdict and what makes it fail; return ``OK`` or ``NONCONFORMANT``."""
    from hsi_conform.validate import check

    with out.activity(f"validating {path.name}"):
        report = check(path)
    counts = ", ".join(f"{n} {label}" for label, n in report.counts.items())
    out.verdict(f"  validation: {'conformant' if report.conformant else 'NOT conformant'} ({counts})")
    for finding in report.failures():
        out.verdict(finding_line(finding, indent))
    return ExitCode.OK if report.conformant else ExitCode.NONCONFORMANT
