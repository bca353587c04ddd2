"""The ``corpus`` subcommand of ``hsi-conform``: export the golden corpus, run readers over it.

``corpus export DIR [--generate N --seed S]`` writes ``y_``/``n_``/``i_``/``g_`` files and ``manifest.json``.
``corpus run --reader CMD [DIR]`` runs readers on every case (exit 0 accept, 1 reject, other crash, timeout) and
prints the results matrix; it exits ``OK`` when every reader got every case right, ``NONCONFORMANT`` otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from hsi_conform._atomic import publish_text
from hsi_conform.cli.output import output_of
from hsi_conform.cli.streams import file_destination, file_source
from hsi_conform.errors import ConfigError, ExitCode


def add_corpus(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform corpus`` with its ``export`` and ``run`` subcommands."""
    p = sub.add_parser("corpus", help="export the test corpus for other readers; score readers on it",
                       description="Export the golden cases as self-describing files, or run readers over them.")
    actions = p.add_subparsers(dest="corpus_command", required=True, parser_class=type(p))
    _add_export(actions)
    _add_run(actions)


def _add_export(actions: argparse._SubParsersAction[Any]) -> None:
    p = actions.add_parser("export", help="write every golden case as a file, plus manifest.json",
                           description="Write y_ (must accept), n_ (must reject), i_ (implementation-defined) and "
                                       "g_ (generated) files and DIR/manifest.json; deterministic.")
    p.add_argument("directory", type=file_destination, metavar="DIR", help="where the cases and manifest.json go")
    p.add_argument("--generate", type=int, default=0, metavar="N", help="also write N generated cases")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the generated cases (default 0)")
    p.set_defaults(run=cmd_export)


def _add_run(actions: argparse._SubParsersAction[Any]) -> None:
    p = actions.add_parser("run", help="run readers on every case and print the results matrix",
                           description="Run each reader on each case: exit 0 = accepted, 1 = rejected, anything "
                                       "else = crash. Built-in readers: gdal, spectral, hsi-conform.")
    p.add_argument("directory", type=file_source, nargs="?", default=None, metavar="DIR",
                   help="an exported corpus (default: a fresh export in a temporary directory)")
    p.add_argument("--reader", action="append", required=True, metavar="CMD",
                   help="'CMD {file}' ({content}: the case's content tier) or gdal, spectral, hsi-conform "
                        "(repeatable)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="per case (default 10)")
    p.add_argument("--json", type=file_destination, default=None, metavar="FILE",
                   help="also write the results as JSON (replaced if it exists)")
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N", help="parallel runs (default: CPUs)")
    p.set_defaults(run=cmd_run)


def cmd_export(args: argparse.Namespace) -> ExitCode:
    """Export the corpus and print what was written."""
    from hsi_conform.corpus.export import export_corpus

    if args.generate < 0:
        raise ConfigError("--generate must not be negative")
    files = export_corpus(args.directory, generate=args.generate, seed=args.seed)
    counts = Counter(f.expect for f in files)
    summary = ", ".join(f"{n} {expect}" for expect, n in sorted(counts.items()))
    print(f"wrote {len(files)} cases ({summary}) and manifest.json to {args.directory}")
    return ExitCode.OK


def cmd_run(args: argparse.Namespace) -> ExitCode:
    """Run the readers and print the matrix."""
    from hsi_conform.corpus.harness import Reader

    readers = [Reader.parse(spec) for spec in args.reader]
    if args.timeout <= 0:
        raise ConfigError("--timeout must be positive")
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    if args.directory is not None:
        return _run_in(args.directory, readers, args)
    from hsi_conform.corpus.export import export_corpus

    with tempfile.TemporaryDirectory(prefix="hsi-corpus-") as tmp:
        export_corpus(tmp)
        return _run_in(Path(tmp), readers, args)


def _run_in(directory: Path, readers: list[Any], args: argparse.Namespace) -> ExitCode:
    from hsi_conform.corpus.harness import render_markdown, results_json, run_corpus

    results = run_corpus(directory, readers, timeout=args.timeout, jobs=args.jobs,
                         progress=output_of(args).progress(0, "running readers"))
    sys.stdout.write(render_markdown(results))
    if args.json is not None:
        publish_text(args.json, json.dumps(results_json(results), indent=2) + "\n")
    return ExitCode.OK if all(not r.failures() for r in results) else ExitCode.NONCONFORMANT
