"""The executor interface of batches and the local executor (spec/batch.md#executors).

An :class:`Executor` runs one function over many items and yields ``(index, result)`` as results finish, with a
bounded number of items submitted and not yet yielded, so the client's memory does not grow with the number of
items. :class:`ProcessExecutor` is the local one (``-j N``); the Dask one is
:class:`~hsi_conform.validate.dask_executor.DaskExecutor`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar

from hsi_conform.errors import ConfigError

T = TypeVar("T")
R = TypeVar("R")

EXECUTORS: tuple[str, ...] = ("processes", "dask")
"""The executor names of ``--executor`` and the ``executor`` configuration key."""


class Executor(Protocol):
    """Runs a function over many items, wherever its workers are (spec/batch.md#executors).

    Used as a context manager: leaving it releases what it holds (a cluster, a client).
    """

    def __enter__(self) -> Self:
        ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        ...

    @property
    def window(self) -> int:
        """Most items submitted and not yet yielded at any time."""
        ...

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T], *, chunk: int | None = None,
                      on_lost: Callable[[T, str], R] | None = None,
                      ahead: int | None = None) -> Iterator[tuple[int, R]]:
        """Yield ``(index of the item, fn(item))`` for every item, in the order they finish.

        ``items`` is consumed lazily: at most :attr:`window` items are taken ahead of what was yielded (with a
        ``chunk`` other than the executor's, as many tasks as its window holds). ``chunk`` is the number of items
        per task (default: the executor's; 1 when each item is long work whose result must be seen at once).
        ``ahead``: never take item ``k`` before every item up to ``k - ahead`` was yielded (a caller that puts
        results back in input order then holds at most ``ahead`` of them; spec/batch.md#order).
        ``fn`` and the items must pickle for executors whose workers are other processes. An exception of ``fn``
        propagates. ``on_lost(item, reason)`` gives the result of an item whose workers kept dying while they ran
        it, where the executor can tell (spec/batch.md#failures); without it, that is an exception too.
        """
        ...


def run_chunk(fn: Callable[[T], R], chunk: Sequence[tuple[int, T]]) -> list[tuple[int, R]]:
    """Apply ``fn`` to every ``(index, item)`` of a chunk: one task of a worker, a few items at once."""
    return [(index, fn(item)) for index, item in chunk]


def chunks(items: Iterable[T], size: int) -> Iterator[tuple[tuple[int, T], ...]]:
    """Yield the items numbered from 0, ``size`` at a time (lazily: a generator of 10⁵ items is never listed)."""
    numbered = enumerate(items)
    while chunk := tuple(itertools.islice(numbered, size)):
        yield chunk


class Intake(Generic[T]):
    """The items of a batch, numbered from 0 and taken a chunk at a time, never ``ahead`` past the first not yielded.

    An executor calls :meth:`take` whenever it has room for a task and :meth:`yielded` for each result it yields.
    """

    def __init__(self, items: Iterable[T], size: int, ahead: int | None = None) -> None:
        self._numbered = enumerate(items)
        self._size = size
        self._ahead = ahead if ahead is None else max(1, ahead)
        self._taken = 0
        self._first = 0  # the first index not yet yielded
        self._yielded: set[int] = set()  # yielded indices past it (at most ``ahead``)

    def take(self) -> tuple[tuple[int, T], ...] | None:
        """Return the next chunk, or None when the items are exhausted or the next would run too far ahead."""
        size = self._size
        if self._ahead is not None:
            size = min(size, self._first + self._ahead - self._taken)
            if size <= 0:
                return None
        chunk = tuple(itertools.islice(self._numbered, size))
        self._taken += len(chunk)
        return chunk or None

    def yielded(self, index: int) -> None:
        """Record that the result of item ``index`` was yielded."""
        self._yielded.add(index)
        while self._first in self._yielded:
            self._yielded.discard(self._first)
            self._first += 1


class ProcessExecutor:
    """The local executor: the items in this process (``workers == 1``) or in a pool of worker processes.

    Args:
        workers: Number of processes (1: in this process, in input order).
        chunk: Items per task sent to a worker process (16: each task costs this process about a millisecond of
            pickling and bookkeeping while its workers use every core; spec/batch.md#waves).
        window: Most items in flight (default: 4 chunks per worker); as many tasks with another ``chunk``.
    """

    def __init__(self, workers: int = 1, *, chunk: int = 16, window: int | None = None) -> None:
        if workers < 1 or chunk < 1:
            raise ConfigError("the number of workers and the chunk size must be at least 1")
        self.workers = workers
        self.chunk = chunk
        self._window = window or 4 * chunk * workers

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None  # each map_unordered call holds its own pool

    @property
    def window(self) -> int:
        """Most items submitted and not yet yielded at any time."""
        return self._window

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T], *, chunk: int | None = None,
                      on_lost: Callable[[T, str], R] | None = None,
                      ahead: int | None = None) -> Iterator[tuple[int, R]]:
        """Yield ``(index, fn(item))`` as items finish (see :class:`Executor`).

        A worker process that dies breaks the whole pool (``BrokenProcessPool``): ``on_lost`` is not used.
        """
        if self.workers == 1:  # in this process, in input order: never ahead
            for index, item in enumerate(items):
                yield index, fn(item)
            return
        per_wave = max(1, self._window // self.chunk)
        pool = ProcessPoolExecutor(max_workers=self.workers)
        try:
            intake = Intake(items, chunk or self.chunk, ahead)
            pending: set[Future[list[tuple[int, R]]]] = set()
            while len(pending) < per_wave and (batch := intake.take()) is not None:
                pending.add(pool.submit(run_chunk, fn, batch))
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    for index, result in future.result():
                        intake.yielded(index)
                        yield index, result
                # one out, one in (the wave stays bounded), unless the next item would run too far ahead
                while len(pending) < per_wave and (batch := intake.take()) is not None:
                    pending.add(pool.submit(run_chunk, fn, batch))
        finally:  # stopped early: what has not started never will; what runs ends (its output is atomic)
            pool.shutdown(wait=True, cancel_futures=True)
