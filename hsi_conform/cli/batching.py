"""Where ``validate`` and ``migrate`` run their batches: ``--executor``, ``--scheduler`` (spec/batch.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hsi_conform.validate.executor import EXECUTORS, Executor


def add_executor_options(p: argparse.ArgumentParser, *, jobs: bool = False) -> None:
    """Add ``--executor`` and ``--scheduler`` (and ``-j`` when the command has none yet)."""
    if jobs:
        p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                       help="N worker processes (with --executor dask and no --scheduler: N LocalCluster workers)")
    p.add_argument("--executor", choices=EXECUTORS, default=None,
                   help="processes: this machine's processes (-j N; default); dask: a Dask cluster "
                   "(pip install 'hsi-conform[dask]'); also the configuration's 'executor' key")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="the Dask scheduler to run on, e.g. tcp://10.0.0.5:8786 (default: a LocalCluster of "
                   "-j workers, one per core when -j is 1); implies --executor dask")


def open_executor(args: argparse.Namespace, *, jobs: int | None = None) -> Executor:
    """Return the executor the command line and the configuration ask for; use it as a context manager.

    The configuration is the one ``--config`` names, else the one found from the current directory upward
    (spec/batch.md#configuration). ``jobs`` is the effective ``-j`` where the command resolved it from the
    configuration too (default: ``args.jobs``).

    Raises:
        ConfigError: ``--jobs`` below 1, an unknown executor in the configuration, or ``--scheduler`` with the
            ``processes`` executor.
        MissingDependencyError: ``dask`` without the ``[dask]`` extra.
    """
    from hsi_conform.errors import ConfigError
    from hsi_conform.validate.batch import make_executor
    from hsi_conform.validate.config import load_executor

    workers = args.jobs if jobs is None else jobs
    if workers < 1:
        raise ConfigError("--jobs must be at least 1")
    found: dict[str, Any] = {"config": getattr(args, "config", None), "isolated": getattr(args, "isolated", False)}
    name, scheduler = load_executor(Path.cwd(), **found, executor=args.executor, scheduler=args.scheduler)
    # -j 1 is the default: for a LocalCluster it means "not given", one worker per core
    return make_executor(name, workers=workers if name == "processes" or workers > 1 else None,
                         scheduler=scheduler)
