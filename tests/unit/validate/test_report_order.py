"""Reports in input order as soon as they can be (spec/batch.md#order), and a client that keeps none of them.

The reorder buffer is bounded by the executor's window: the executor takes no input more than a window ahead of the
first report not yet yielded, so a slow input holds at most a window of finished ones. Memory is asserted as a count
of live ``Report`` objects (never a time).
"""

from __future__ import annotations

import gc
import io
import time
from collections.abc import Iterator
from pathlib import Path

from hsi_conform.finding import Report
from hsi_conform.report import open_writer
from hsi_conform.validate import CheckOptions
from hsi_conform.validate.batch import check_many, iter_check_many
from hsi_conform.validate.engine import Policy
from hsi_conform.validate.executor import Intake, ProcessExecutor
from tests._paths import FIXTURES


def _first_is_slow(x: int) -> int:
    if x == 0:
        time.sleep(1.0)  # the others, instant, finish meanwhile: only the bound keeps them from running on
    return x


def _counted(n: int, taken: list[int]) -> Iterator[int]:
    for i in range(n):
        taken[0] += 1
        yield i


def test_the_pool_runs_no_further_than_ahead_past_the_first_not_yielded() -> None:
    taken: list[int] = [0]
    executor = ProcessExecutor(2, chunk=1, window=4)
    for index, _ in executor.map_unordered(_first_is_slow, _counted(200, taken), ahead=6):
        if index == 0:
            assert taken[0] <= 6  # item 6 waits for item 0
            break


def test_the_intake_opens_again_as_the_first_items_are_yielded() -> None:
    intake = Intake(iter(range(10)), size=3, ahead=4)
    assert intake.take() == ((0, 0), (1, 1), (2, 2))
    assert intake.take() == ((3, 3),)
    assert intake.take() is None  # four taken, none yielded
    intake.yielded(2)
    assert intake.take() is None  # 0 is still out
    intake.yielded(0)
    assert intake.take() == ((4, 4),)
    intake.yielded(1)
    assert intake.take() == ((5, 5), (6, 6))
    for i in range(3, 7):
        intake.yielded(i)
    assert intake.take() == ((7, 7), (8, 8), (9, 9)) and intake.take() is None


def test_reports_come_in_input_order_as_soon_as_they_are_done() -> None:
    paths = sorted(FIXTURES.glob("*/*/*.hsi"))[:8]
    taken = [0]

    def jobs() -> Iterator[tuple[Path, Policy]]:
        for path in paths:
            taken[0] += 1
            yield path, Policy()

    stream = iter_check_many(jobs(), CheckOptions())
    first = next(stream)
    assert first.path == str(paths[0]) and taken[0] == 1  # out before the second input was even taken
    rest = list(stream)
    assert [first, *rest] == check_many([(p, Policy()) for p in paths], CheckOptions(), workers=2)


def _live_reports() -> int:
    gc.collect()
    return sum(isinstance(o, Report) for o in gc.get_objects())


def test_two_thousand_inputs_stream_through_text_and_json_without_keeping_reports(tmp_path: Path) -> None:
    """The client's live reports stay a handful whatever the number of inputs; a list of them grows with it."""
    n = 2000
    jobs = ((tmp_path / f"missing-{i}.hsi", Policy()) for i in range(n))
    baseline = _live_reports()
    most = 0
    with (tmp_path / "out.json").open("w", encoding="utf-8") as json_out, \
            (tmp_path / "out.txt").open("w", encoding="utf-8") as text_out:
        writers = [open_writer("json", json_out), open_writer("text", text_out)]
        for i, report in enumerate(iter_check_many(jobs, CheckOptions())):
            for writer in writers:
                writer.write(report)
            del report
            if i % 250 == 0:
                most = max(most, _live_reports() - baseline)
        for writer in writers:
            writer.close()
    assert most <= 4, most
    assert (tmp_path / "out.txt").read_text().endswith(f"{n} files: 0 conformant, 0 nonconformant, {n} unreadable\n")
    kept = check_many(((tmp_path / f"missing-{i}.hsi", Policy()) for i in range(n)), CheckOptions())
    assert _live_reports() - baseline >= n  # what the test would see if the stream kept them
    del kept


def test_a_writer_holds_no_report_after_write() -> None:
    report = Report.unreadable("x.hsi", "gone", profile="exchange", content="none")
    for fmt in ("text", "json", "junit"):
        writer = open_writer(fmt, io.StringIO())
        writer.write(report)
        assert not any(isinstance(v, Report) or (isinstance(v, list) and v and isinstance(v[0], Report))
                       for v in vars(writer).values()), fmt
