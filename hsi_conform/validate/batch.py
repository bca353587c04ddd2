"""Batch validation: many containers, optionally in parallel worker processes, with progress and a summary.

An input that cannot be read (missing, not a file or folder, an unreadable folder met while walking a directory,
an I/O error, a remote object that cannot be fetched) does not stop the batch: it becomes a report with
:attr:`~hsi_conform.finding.Report.input_error`, named as the user gave it (a URL verbatim), and every other input
is still validated (spec/safety.md#batches).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from hsi_conform._progress import Progress
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
               progress: bool | Progress = False) -> list[Report]:
    """Validate every ``(path, policy)`` or ``(path, policy, options)`` and return the reports in input order.

    ``options`` applies to the jobs that bring none. ``workers > 1`` spreads the files over that many processes
    (reports pickle); ``progress`` (True: a counter on stderr when it is a terminal; or a :class:`Progress`) names
    the file in progress and is erased at the end. An input that cannot be read gets a report with ``input_error``
    set (never an exception), so one bad input never hides the others.
    """
    work = [job if len(job) == 3 else (job[0], job[1], options) for job in jobs]
    bar = progress if isinstance(progress, Progress) else Progress(len(work), what="validating",
                                                                    enabled=None if progress else False)
    reports: list[Report] = []
    with bar:
        if workers == 1 or len(work) < 2:
            for job in work:
                bar.start(str(job[0].path if isinstance(job[0], WalkError) else job[0]))
                reports.append(_check_one(job))
                bar.advance()
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for report in pool.map(_check_one, work, chunksize=4):
                    reports.append(report)
                    bar.advance(report.path)
    return reports
