"""The Dask executor: a batch's items on a ``distributed`` cluster, in bounded waves (spec/batch.md#dask).

``distributed`` is imported only when this executor is chosen; without the ``[dask]`` extra it raises
:class:`~hsi_conform.errors.MissingDependencyError`. Without a scheduler address a ``LocalCluster`` is started (and
stopped) by the executor; with one, the executor connects to that cluster and leaves it running.

Items are sent in chunks (one task per chunk) and at most :attr:`DaskExecutor.window` items are submitted and not
yet yielded: submitting 10⁵ futures at once makes the scheduler the bottleneck and the client's memory grow with
the number of inputs. A task whose worker dies is run again on another worker by the scheduler itself (up to its
``allowed-failures``); a task that raises is retried ``retries`` times, then its exception reaches the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from hsi_conform.errors import ConfigError, MissingDependencyError
from hsi_conform.validate.executor import Intake, run_chunk

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

T = TypeVar("T")
R = TypeVar("R")


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise MissingDependencyError("running a batch on Dask (--executor dask)", ("distributed",), "dask",
                                     str(exc)) from None
    return distributed


class DaskExecutor:
    """Run a batch on a Dask ``distributed`` cluster; use it as a context manager.

    Args:
        scheduler: Address of a running scheduler (``tcp://host:8786``); None starts a ``LocalCluster``.
        client: An existing ``distributed.Client`` to use (then ``scheduler`` must be None; it is not closed).
        workers: Workers of the ``LocalCluster`` (one thread each; default: one per core).
        processes: Whether the ``LocalCluster``'s workers are processes (True) or threads of this process.
        chunk: Items per task (16: a task of one small container would make the scheduler the bottleneck).
        window: Most items submitted and not yet yielded (default: four chunks per worker thread); as many tasks
            with another ``chunk``.
        retries: Times a task that raised is run again before its exception is the caller's.
        timeout: How long to try to reach the scheduler (a Dask duration, e.g. ``"20s"``).
    """

    def __init__(self, scheduler: str | None = None, *, client: Client | None = None, workers: int | None = None,
                 processes: bool = True, chunk: int = 16, window: int | None = None, retries: int = 2,
                 timeout: str = "20s") -> None:
        self._distributed = _distributed()
        if scheduler is not None and client is not None:
            raise ConfigError("give a scheduler address or a client, not both")
        if chunk < 1 or (window is not None and window < 1) or (workers is not None and workers < 1):
            raise ConfigError("the number of workers, the chunk size and the window must be at least 1")
        self.scheduler = scheduler
        self.workers = workers
        self.processes = processes
        self.chunk = chunk
        self.retries = retries
        self.timeout = timeout
        self._window = window
        self._client: Client | None = client
        self._owned = client is None
        self._cluster: LocalCluster | None = None

    def __enter__(self) -> Self:
        self.client  # noqa: B018 -- start (or connect) now, not at the first item
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def client(self) -> Client:
        """The ``distributed.Client`` (connecting, or starting the ``LocalCluster``, on first use)."""
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> Client:
        distributed = self._distributed
        if self.scheduler is None:
            self._cluster = distributed.LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                                     processes=self.processes, dashboard_address=None)
            return distributed.Client(self._cluster)  # type: ignore[no-any-return]
        try:
            return distributed.Client(self.scheduler, timeout=self.timeout)  # type: ignore[no-any-return]
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler {self.scheduler}: {exc}") from None

    @property
    def window(self) -> int:
        """Most items submitted and not yet yielded at any time."""
        return self._tasks() * self.chunk

    def _tasks(self) -> int:
        """Most tasks in flight."""
        if self._window is not None:
            return max(1, self._window // self.chunk)
        threads = sum(self.client.nthreads().values())  # type: ignore[no-untyped-call]
        return 4 * max(1, threads)

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T], *, chunk: int | None = None,
                      on_lost: Callable[[T, str], R] | None = None,
                      ahead: int | None = None) -> Iterator[tuple[int, R]]:
        """Yield ``(index, fn(item))`` as tasks finish, with at most :attr:`window` items in flight.

        A task whose workers kept dying (Dask's ``KilledWorker``) is split into one task per item; an item whose
        own task meets the same fate gets ``on_lost(item, reason)`` (without ``on_lost``: the exception).
        """
        client = self.client
        intake = Intake(items, chunk or self.chunk, ahead)
        tasks = self._tasks()
        finished = self._distributed.as_completed()
        in_flight: dict[Any, tuple[tuple[int, T], ...]] = {}

        def submit(batch: tuple[tuple[int, T], ...] | None) -> bool:
            if batch is None:
                return False
            # pure=False: a task has side effects (migrate writes) and equal items are still distinct tasks
            future = client.submit(run_chunk, fn, batch, pure=False, retries=self.retries)
            in_flight[future] = batch
            finished.add(future)
            return True

        try:
            while len(in_flight) < tasks and submit(intake.take()):
                pass
            for future in finished:
                batch = in_flight.pop(future)
                try:
                    results: list[tuple[int, R]] = future.result()
                except self._distributed.KilledWorker as exc:
                    if on_lost is None:
                        raise
                    results = self._lost(batch, exc, on_lost, submit)
                future.release()  # the scheduler forgets it now, not when the loop ends
                for index, result in results:
                    intake.yielded(index)
                    yield index, result
                # one out, one in, unless the next item would run too far ahead of the first not yielded
                while len(in_flight) < tasks and submit(intake.take()):
                    pass
        finally:  # stopped early (an interruption, an exception): what has not started never will
            if in_flight:
                client.cancel(list(in_flight))  # type: ignore[no-untyped-call]

    @staticmethod
    def _lost(batch: tuple[tuple[int, T], ...], exc: BaseException, on_lost: Callable[[T, str], R],
              submit: Callable[[tuple[tuple[int, T], ...]], bool]) -> list[tuple[int, R]]:
        """Results for a task whose workers died: one task per item again, or ``on_lost`` for a single item."""
        if len(batch) > 1:
            for pair in batch:  # which item kills its worker is not known: each gets its own chance
                submit((pair,))
            return []
        ((index, item),) = batch
        return [(index, on_lost(item, f"every worker that ran it died ({exc})"))]

    def close(self) -> None:
        """Close the client and stop the ``LocalCluster`` this executor started (a given client stays open)."""
        if self._client is not None and self._owned:
            self._client.close()  # type: ignore[no-untyped-call]
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
