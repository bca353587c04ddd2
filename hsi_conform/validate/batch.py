"""Batch validation: many containers, optionally in parallel worker processes, with progress and a summary.

An input that cannot be read (missing, not a file or folder, an unreadable folder met while walking a directory,
an I/O error, a remote object that cannot be fetched) does not stop the batch: it becomes a report with
:attr:`~hsi_conform.finding.Report.input_error`, named as the user gave it (a URL verbatim), and every other input
is still validated (spec/safety.md#batches).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from hsi_conform._walk import WalkError
from hsi_conform.errors import InputUnreadableError
from hsi_conform.finding import Report
from hsi_conform.validate import CheckOptions, check
from hsi_conform.validate.engine import Policy

Job = tuple[Path | str | WalkError, Policy] | tuple[Path | str | WalkError, Policy, CheckOptions]
"""One input of a batch (a path, or a URL as a ``str``), its policy and optionally its own options (its
configuration's limits and storage options); a :class:`~hsi_conform._walk.WalkError` is an input that could not be
read while a directory was walked."""


def _check_one(job: tuple[Path | str | WalkError, Policy, CheckOptions]) -> Report:
    item, policy, options = job
    if isinstance(item, WalkError):
        return _unreadable(item.path, item.reason, policy, options)
    try:
        return check(item, policy=policy, options=options)
    except InputUnreadableError as exc:
        return _unreadable(item, exc.reason, policy, options)


def _unreadable(path: Path | str, reason: str, policy: Policy, options: CheckOptions) -> Report:
    return Report.unreadable(str(path), reason, profile=policy.profile, content=options.content.value,
                             fail_on=policy.fail_on)


def check_many(jobs: Sequence[Job], options: CheckOptions, *, workers: int = 1,
               progress: bool = False) -> list[Report]:
    """Validate every ``(path, policy)`` or ``(path, policy, options)`` and return the reports in input order.

    ``options`` applies to the jobs that bring none. ``workers > 1`` spreads the files over that many processes
    (reports pickle); ``progress`` writes a one-line counter to stderr. An input that cannot be read gets a report
    with ``input_error`` set (never an exception), so one bad input never hides the others.
    """
    work = [job if len(job) == 3 else (job[0], job[1], options) for job in jobs]
    reports: list[Report] = []
    if workers == 1 or len(work) < 2:
        for done, job in enumerate(work, 1):
            reports.append(_check_one(job))
            _progress(progress, done, len(work))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for done, report in enumerate(pool.map(_check_one, work, chunksize=4), 1):
                reports.append(report)
                _progress(progress, done, len(work))
    if progress:
        sys.stderr.write("\n")
    return reports


def _progress(enabled: bool, done: int, total: int) -> None:
    if enabled:
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\rvalidating [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()


def _verdict(report: Report) -> str:
    if report.input_error is not None:
        return "UNREADABLE"
    return "ok" if report.conformant else "FAIL"


def summary_table(reports: Sequence[Report]) -> str:
    """Return a plain-text table: one line per file with its verdict and counts, then the totals."""
    rows = [(r.path, _verdict(r), *(str(r.counts[k]) for k in ("fatal", "error", "warning", "info")))
            for r in reports]
    header = ("file", "verdict", "fatal", "error", "warning", "info")
    conformant = sum(r.conformant for r in reports)
    unreadable = sum(r.input_error is not None for r in reports)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows]]
    lines.append(f"{conformant} of {len(reports)} conformant" + (f", {unreadable} unreadable" if unreadable else ""))
    return "\n".join(lines) + "\n"
