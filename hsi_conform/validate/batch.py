"""Batch validation: many containers on an executor (in this process, worker processes, or Dask), with progress.

An input that cannot be read (missing, not a file or folder, an unreadable folder met while walking a directory,
an I/O error, a remote object that cannot be fetched) does not stop the batch: it becomes a report with
:attr:`~hsi_conform.finding.Report.input_error`, named as the user gave it (a URL verbatim), and every other input
is still validated (spec/safety.md#batches).

The checks run on an executor (:mod:`hsi_conform.validate.executor`: in this process, worker processes, or Dask
with :mod:`hsi_conform.validate.dask_executor`), in bounded waves; the reports come back in input order whatever
the executor, each as soon as those before it are done (:func:`iter_check_many`; spec/batch.md#order).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from hsi_conform._progress import Progress
from hsi_conform._walk import WalkError
from hsi_conform.errors import ConfigError, InputUnreadableError, MissingDependencyError
from hsi_conform.finding import Report
from hsi_conform.validate import CheckOptions, check
from hsi_conform.validate.engine import Policy
from hsi_conform.validate.executor import EXECUTORS, Executor, ProcessExecutor

__all__ = ["EXECUTORS", "Executor", "Job", "ProcessExecutor", "check_job", "check_many", "iter_check_many", "lost_job",
           "make_executor"]

Job = tuple[Path | str | WalkError, Policy] | tuple[Path | str | WalkError, Policy, CheckOptions]
"""One input of a batch (a path, or a URL as a ``str``), its policy and optionally its own options (its
configuration's limits and storage options); a :class:`~hsi_conform._walk.WalkError` is an input that could not be
read while a directory was walked."""

def make_executor(name: str = "processes", *, workers: int | None = None, scheduler: str | None = None) -> Executor:
    """Return the executor called ``name`` (one of :data:`EXECUTORS`).

    ``workers`` is the number of local processes (``processes``; default 1: in this process) or of the workers
    of the ``LocalCluster`` that ``dask`` starts when no ``scheduler`` address is given (default: one per core).
    Use the executor as a context manager (a Dask one holds the client and the cluster).

    Raises:
        ConfigError: an unknown name, or a ``scheduler`` for the ``processes`` executor.
        MissingDependencyError: ``dask`` without the ``[dask]`` extra installed.
    """
    if name == "processes":
        if scheduler is not None:
            raise ConfigError("--scheduler needs --executor dask")
        return ProcessExecutor(workers or 1)
    if name == "dask":
        from hsi_conform.validate.dask_executor import DaskExecutor

        return DaskExecutor(scheduler, workers=workers)
    raise ConfigError(f"unknown executor {name!r} (expected one of {', '.join(EXECUTORS)})")


def check_job(job: tuple[Path | str | WalkError, Policy, CheckOptions]) -> Report:
    """Validate one input of a batch; an input that cannot be read gets a report with ``input_error`` set.

    The task a worker runs (it pickles, and so does its report).
    """
    item, policy, options = job
    if isinstance(item, WalkError):
        return _unreadable(item.path, item.reason, policy, options)
    try:
        return check(item, policy=policy, options=options)
    except InputUnreadableError as exc:
        return _unreadable(item, exc.reason, policy, options)
    except MissingDependencyError as exc:  # e.g. a JPEG-XL cube at --content full without its codec: not checked
        return _unreadable(item, f"could not be checked: {exc}", policy, options)


def lost_job(job: tuple[Path | str | WalkError, Policy, CheckOptions], reason: str) -> Report:
    """Return the report of an input whose workers kept dying while they checked it.

    It could not be checked (``input_error``, exit 3); every other input still is (spec/batch.md#failures).
    """
    item, policy, options = job
    path = item.path if isinstance(item, WalkError) else item
    return _unreadable(path, f"could not be checked: {reason}", policy, options)


def _unreadable(path: Path | str, reason: str, policy: Policy, options: CheckOptions) -> Report:
    return Report.unreadable(str(path), reason, profile=policy.profile, content=options.content.value,
                             fail_on=policy.fail_on)


def iter_check_many(jobs: Iterable[Job], options: CheckOptions, *, workers: int = 1,
                    progress: bool | Progress = False, executor: Executor | None = None,
                    total: int | None = None) -> Iterator[Report]:
    """Validate every ``(path, policy)`` or ``(path, policy, options)`` and yield the reports in input order.

    Each report is yielded as soon as it and every report before it are done (spec/batch.md#order): the executor
    takes no input more than its window ahead of the first report not yet yielded, so at most a window of reports
    is held back behind a slow input, whatever the number of inputs. ``options`` applies to the jobs that bring
    none. The jobs run on ``executor`` (default: a :class:`ProcessExecutor` of ``workers`` processes; reports
    pickle). ``progress`` (True: a counter on stderr when it is a terminal; or a :class:`Progress`) names each file
    as the executor takes it and is erased at the end (``total`` is its end, default ``len(jobs)`` when ``jobs``
    has a length). An input that cannot be read gets a report with ``input_error`` set (never an exception), so
    one bad input never hides the others; so does one whose workers kept dying while they checked it (e.g. out of
    memory), where the executor can tell.
    """
    if total is None and isinstance(jobs, Sequence):
        total = len(jobs)
    bar = progress if isinstance(progress, Progress) else Progress(total or 0, what="validating",
                                                                    enabled=None if progress else False)
    runner = executor or ProcessExecutor(workers)
    held: dict[int, Report] = {}  # finished out of order: at most the executor's window
    wanted = 0
    with bar:
        for index, report in runner.map_unordered(check_job, _taken(jobs, options, bar), on_lost=lost_job,
                                                  ahead=runner.window):
            bar.advance(report.path)
            held[index] = report
            while wanted in held:
                yield held.pop(wanted)
                wanted += 1


def check_many(jobs: Iterable[Job], options: CheckOptions, *, workers: int = 1, progress: bool | Progress = False,
               executor: Executor | None = None, total: int | None = None) -> list[Report]:
    """Validate every job and return the reports in input order: :func:`iter_check_many`, listed."""
    return list(iter_check_many(jobs, options, workers=workers, progress=progress, executor=executor, total=total))


def _taken(jobs: Iterable[Job], options: CheckOptions,
           bar: Progress) -> Iterator[tuple[Path | str | WalkError, Policy, CheckOptions]]:
    """Yield each job with its options, naming it on the bar as the executor takes it (in one process: as it runs)."""
    for job in jobs:
        item = job[0]
        bar.start(str(item.path if isinstance(item, WalkError) else item))
        yield job if len(job) == 3 else (item, job[1], options)
