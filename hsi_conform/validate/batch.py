"""Batch validation: many containers, optionally in parallel worker processes, with progress and a summary."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from hsi_conform.finding import Report
from hsi_conform.validate import CheckOptions, check
from hsi_conform.validate.engine import Policy


def _check_one(job: tuple[Path, Policy, CheckOptions]) -> Report:
    path, policy, options = job
    return check(path, policy=policy, options=options)


Job = tuple[Path, Policy] | tuple[Path, Policy, CheckOptions]
"""One file to validate: its path, its policy and optionally its own options (its configuration's limits)."""


def check_many(jobs: Sequence[Job], options: CheckOptions, *, workers: int = 1,
               progress: bool = False) -> list[Report]:
    """Validate every ``(path, policy)`` or ``(path, policy, options)`` and return the reports in input order.

    ``options`` applies to the jobs that bring none. ``workers > 1`` spreads the files over that many processes
    (reports pickle); ``progress`` writes a one-line counter to stderr.

    Raises:
        InputUnreadableError: a path does not exist or cannot be read.
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


def summary_table(reports: Sequence[Report]) -> str:
    """Return a plain-text table: one line per file with its verdict and counts, then the totals."""
    rows = [(r.path, "ok" if r.conformant else "FAIL", *(str(r.counts[k]) for k in ("fatal", "error", "warning",
                                                                                    "info"))) for r in reports]
    header = ("file", "verdict", "fatal", "error", "warning", "info")
    conformant = sum(r.conformant for r in reports)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows]]
    lines.append(f"{conformant} of {len(reports)} conformant")
    return "\n".join(lines) + "\n"
