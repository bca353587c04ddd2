"""The local executor and the choice of executor (spec/batch.md#executors); these need no Dask."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hsi_conform.errors import ConfigError, ExitCode
from hsi_conform.testing.samples import write_sample_container
from hsi_conform.validate.batch import ProcessExecutor, make_executor


def _square(x: int) -> int:
    return x * x


def _counted(n: int, taken: list[int]) -> Iterator[int]:
    for i in range(n):
        taken[0] += 1
        yield i


def test_the_process_pool_consumes_a_generator_in_bounded_waves() -> None:
    taken, yielded, most_ahead, total = [0], 0, 0, 0
    executor = ProcessExecutor(2, chunk=50, window=200)
    for _, result in executor.map_unordered(_square, _counted(5000, taken)):
        yielded += 1
        total += result
        most_ahead = max(most_ahead, taken[0] - yielded)
    assert yielded == 5000 and total == sum(i * i for i in range(5000)) and most_ahead <= 200


def test_one_process_yields_in_input_order() -> None:
    assert list(ProcessExecutor().map_unordered(_square, iter(range(5)))) == [(i, i * i) for i in range(5)]


def _touch(folder: Path, i: int) -> int:
    (folder / str(i)).touch()
    return i


def test_a_stopped_batch_does_not_run_what_had_not_started(tmp_path: Path) -> None:
    taken = [0]
    results = ProcessExecutor(2, chunk=1, window=4).map_unordered(functools.partial(_touch, tmp_path),
                                                                  _counted(10_000, taken))
    next(results)
    results.close()  # as an interruption of the consumer does: the pool is shut down, queued tasks cancelled
    assert taken[0] <= 5  # four tasks, and one more for the one that finished
    assert 1 <= len(list(tmp_path.iterdir())) <= taken[0]


def test_executor_names_and_their_arguments_are_checked() -> None:
    with pytest.raises(ConfigError, match="unknown executor"):
        make_executor("spark")
    with pytest.raises(ConfigError, match="--scheduler needs --executor dask"):
        make_executor("processes", scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ConfigError):
        ProcessExecutor(0)


def test_dask_without_its_extra_names_the_pip_command(tmp_path: Path) -> None:
    """``distributed`` made unimportable in a child process, as in an installation without the extra."""
    path = write_sample_container(tmp_path / "a.hsi")
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from hsi_conform.cli.main import main\n"
            f"sys.exit(main(['validate', '--executor', 'dask', {str(path)!r}]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == ExitCode.UNREADABLE
    assert "pip install 'hsi-conform[dask]'" in done.stderr and "Traceback" not in done.stderr
