"""The ``procedures`` subcommand: re-enact a container's ``read procedures`` into a new container.

``hsi-conform procedures SRC.hsi DST.hsi [--allow-microservice NAME]`` judges SRC first as ``convert`` does (a
nonconformant source is refused with its findings, exit ``NONCONFORMANT``, unless ``--allow-nonconformant``), runs
the procedures (spec/procedures.md), streams the result into DST and validates it: exit ``OK`` when DST conforms,
``NONCONFORMANT`` when it does not, and ``NONCONFORMANT`` (the finding's rule named, nothing written) when the
procedure list cannot be re-enacted (spec/procedures.md#cli).

``--calibrate`` first calibrates SRC to reflectance exactly as ``hsi-conform calibrate`` does (into a temp container
beside DST, removed afterwards), then runs the procedures on that: D4.1's order, calibration before the
procedures that prepare the view (spec/procedures.md#calibrate).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path
from typing import Any

from hsi_conform.errors import ExitCode

__all__ = ["add_procedures", "cmd_procedures"]


def add_procedures(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform procedures``."""
    p = sub.add_parser("procedures", help="re-enact a container's read procedures into a new container",
                       description="Run the read procedures of SRC's data.hdr in order (crop, rotate, resample, "
                                   "merge, allowed micro-services) and write the result to DST.")
    p.add_argument("source", type=Path, metavar="SRC")
    p.add_argument("dest", type=Path, metavar="DST")
    p.add_argument("--allow-microservice", action="append", default=[], metavar="NAME",
                   help="run the installed micro-service NAME when a procedure names it (repeatable); no other "
                        "micro-service ever runs")
    p.add_argument("--allow-nonconformant", action="store_true",
                   help="run the procedures of a source that does not conform anyway; by default it is refused")
    p.add_argument("--calibrate", action="store_true",
                   help="calibrate to reflectance first (float32, as `hsi-conform calibrate` does), then run the "
                        "procedures on the reflectance")
    p.set_defaults(run=cmd_procedures)


def cmd_procedures(args: argparse.Namespace) -> ExitCode:
    """Run ``procedures``."""
    import hsi_conform
    from hsi_conform.cli.convert import _print_failures
    from hsi_conform.converters.guard import CONTAINER_READER, judge_source
    from hsi_conform.errors import InputNotFoundError, NonconformantSourceError
    from hsi_conform.pipeline.procedures import procedure_items, write_procedures
    from hsi_conform.report import render

    if not args.source.exists():
        raise InputNotFoundError(str(args.source))
    try:
        judge_source(CONTAINER_READER, args.source, allow_nonconformant=args.allow_nonconformant)
    except NonconformantSourceError as exc:
        sys.stdout.write(render("text", [exc.report]))  # the findings, as validate prints them
        raise
    with contextlib.ExitStack() as stack:
        source = _calibrated(args.source, args.dest, stack) if args.calibrate else args.source
        container = stack.enter_context(hsi_conform.open(source))
        items = procedure_items(container)
        written = write_procedures(container, args.dest, allow_microservices=args.allow_microservice)
    what = "; ".join(" ".join(i.split()) for i in items) if items else "none (copied)"
    print(f"{args.source} -> {written}: read procedures {what}")
    report = hsi_conform.check(written)
    counts = ", ".join(f"{n} {label}" for label, n in report.counts.items())
    print(f"  validation: {'conformant' if report.conformant else 'NOT conformant'} ({counts})")
    _print_failures(report)
    return ExitCode.OK if report.conformant else ExitCode.NONCONFORMANT


def _calibrated(source: Path, dest: Path, stack: contextlib.ExitStack) -> Path:
    """Calibrate ``source`` into a temp container beside ``dest`` (removed when ``stack`` closes); return its path."""
    from hsi_conform.cli.calibrate import print_finding
    from hsi_conform.errors import OutputUnwritableError
    from hsi_conform.finding import Finding
    from hsi_conform.pipeline.calibrate import calibrate

    try:
        folder = stack.enter_context(tempfile.TemporaryDirectory(dir=dest.parent or ".",
                                                                 prefix=f".{dest.name}.calibrate-"))
    except OSError as exc:
        raise OutputUnwritableError.from_os_error(str(dest), exc) from exc
    findings: list[Finding] = []
    done = calibrate(source, Path(folder) / "reflectance.hsi", thumbnail=False, findings=findings)
    print(f"calibrated {source} to reflectance (float32) before the procedures")
    for finding in findings:
        print_finding(finding)
    return done.path
