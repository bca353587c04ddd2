"""The executors of a batch (spec/batch.md): the local one and Dask on a ``LocalCluster(processes=False)``.

The same inputs give the same reports, in input order, on every executor; a generator of 10⁵ items is consumed
at most one window ahead of what was yielded, and the client never holds more futures than the window allows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hsi_conform.errors import ConfigError
from hsi_conform.rules.context import Content
from hsi_conform.validate import CheckOptions
from hsi_conform.validate.batch import check_many
from hsi_conform.validate.engine import Policy
from tests._paths import FIXTURES

distributed = pytest.importorskip("distributed")

from hsi_conform.validate.dask_executor import DaskExecutor  # noqa: E402


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    """A two-worker cluster of threads in this process: fast to start, the real scheduler."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c, \
            distributed.Client(c) as cl:
        yield cl


def _inputs() -> list[Path | str]:
    """Containers with and without findings, a missing name, and a file that is not a ZIP."""
    found: list[Path | str] = sorted(FIXTURES.glob("*/*/*.hsi"))[:12]
    return [*found[:6], FIXTURES / "no-such.hsi", FIXTURES / "Case.schema.json", *found[6:]]


def _square(x: int) -> int:
    return x * x


def test_the_inputs_differ_in_their_findings() -> None:
    reports = check_many([(p, Policy()) for p in _inputs()], CheckOptions())
    assert len({(r.conformant, r.counts["error"], r.input_error is None) for r in reports}) >= 3


@pytest.mark.parametrize("content", [Content.NONE, Content.CRC])
def test_dask_gives_the_reports_of_one_process_in_input_order(client: distributed.Client, content: Content) -> None:
    jobs = [(p, Policy()) for p in _inputs()]
    options = CheckOptions(content=content)
    expected = check_many(jobs, options)
    with DaskExecutor(client=client, chunk=2) as executor:
        got = check_many(jobs, options, executor=executor)
    assert [r.path for r in got] == [str(p) for p in _inputs()]
    assert got == expected


def test_process_pool_gives_the_reports_of_one_process() -> None:
    jobs = [(p, Policy()) for p in _inputs()]
    assert check_many(jobs, CheckOptions(), workers=2) == check_many(jobs, CheckOptions())


def _counted(n: int, taken: list[int]) -> Iterator[int]:
    for i in range(n):
        taken[0] += 1
        yield i


def test_a_hundred_thousand_items_in_bounded_waves(client: distributed.Client) -> None:
    n, taken, yielded, most_ahead, most_futures = 100_000, [0], 0, 0, 0
    total = 0
    with DaskExecutor(client=client, chunk=1000, window=4000) as executor:
        for _, result in executor.map_unordered(_square, _counted(n, taken)):
            yielded += 1
            total += result
            most_ahead = max(most_ahead, taken[0] - yielded)
            most_futures = max(most_futures, len(client.futures))
    assert yielded == n and total == sum(i * i for i in range(n))
    assert most_ahead <= 4000  # the generator is never listed: the client holds one window of items
    # Four chunks of a thousand in flight, never the whole batch (a hundred chunks); the client forgets a released
    # future on its event loop a moment later, so a few released ones may still be counted.
    assert most_futures <= 8
    for _ in range(200):  # released, not kept to the end of the run
        if not client.futures:
            break
        time.sleep(0.05)
    assert not client.futures


def test_an_exception_of_the_task_reaches_the_caller(client: distributed.Client) -> None:
    with DaskExecutor(client=client, retries=0) as executor, pytest.raises(ZeroDivisionError):
        list(executor.map_unordered(lambda x: 1 // x, [1, 0, 2]))


def test_an_unreachable_scheduler_is_a_configuration_error() -> None:
    executor = DaskExecutor("tcp://127.0.0.1:9", timeout="1s")
    with pytest.raises(ConfigError, match=r"cannot reach the Dask scheduler tcp://127\.0\.0\.1:9"):
        executor.__enter__()


def test_one_item_per_task_keeps_the_number_of_tasks(client: distributed.Client) -> None:
    """migrate's chunk=1: the window holds as many tasks as with the executor's chunk, not as many items."""
    taken, yielded, most_ahead = [0], 0, 0
    with DaskExecutor(client=client, chunk=100, window=300) as executor:
        for _ in executor.map_unordered(_square, _counted(40, taken), chunk=1):
            yielded += 1
            most_ahead = max(most_ahead, taken[0] - yielded)
    assert yielded == 40 and most_ahead <= 3


def _first_waits(x: int) -> int:
    if x == 0:
        time.sleep(1.0)  # the others finish meanwhile: only the bound keeps them from running on
    return x


def test_dask_runs_no_further_than_ahead_past_the_first_not_yielded(client: distributed.Client) -> None:
    taken = [0]
    with DaskExecutor(client=client, chunk=1, window=4) as executor:
        for index, _ in executor.map_unordered(_first_waits, _counted(200, taken), ahead=6):
            if index == 0:
                assert taken[0] <= 6  # the reorder buffer of check_many holds at most this many
                break
