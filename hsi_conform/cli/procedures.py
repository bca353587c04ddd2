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
import tempfile
from pathlib import Path
from typing import Any

from hsi_conform.cli.destinations import add_overwrite, prepare_destination
from hsi_conform.cli.output import Output, output_of
from hsi_conform.cli.stage import finding_line, judge, validated
from hsi_conform.cli.streams import file_destination, file_source
from hsi_conform.errors import ExitCode

__all__ = ["add_procedures", "cmd_procedures"]


def add_procedures(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform procedures``."""
    p = sub.add_parser("procedures", help="re-enact a container's read procedures into a new container",
                       description="Run the read procedures of SRC's data.hdr in order (crop, rotate, resample, "
                                   "merge, allowed micro-services) and write the result to DST.")
    p.add_argument("source", type=file_source, metavar="SRC.hsi", help="the container whose procedures run")
    p.add_argument("dest", type=file_destination, metavar="DST.hsi", help="the container to write")
    p.add_argument("--allow-microservice", action="append", default=[], metavar="NAME",
                   help="run the installed micro-service NAME when a procedure names it (repeatable); no other "
                        "micro-service ever runs")
    p.add_argument("--allow-nonconformant", action="store_true",
                   help="run the procedures of a source that does not conform anyway; by default it is refused")
    p.add_argument("--calibrate", action="store_true",
                   help="calibrate to reflectance first (float32, as `hsi-conform calibrate` does), then run the "
                        "procedures on the reflectance")
    add_overwrite(p)
    p.set_defaults(run=cmd_procedures)


def cmd_procedures(args: argparse.Namespace) -> ExitCode:
    """Run ``procedures``."""
    import hsi_conform
    from hsi_conform.pipeline.procedures import procedure_items, write_procedures

    out = output_of(args)
    with out.activity(f"judging {args.source.name}"):
        judge(args.source, allow_nonconformant=args.allow_nonconformant)
    prepare_destination(args.dest, overwrite=args.overwrite, sources=[args.source])
    with contextlib.ExitStack() as stack:
        source = _calibrated(args.source, args.dest, stack, out) if args.calibrate else args.source
        container = stack.enter_context(hsi_conform.open(source))
        items = procedure_items(container)
        with out.activity(f"running the read procedures of {args.source.name}"):
            written = write_procedures(container, args.dest, allow_microservices=args.allow_microservice)
    what = "; ".join(" ".join(i.split()) for i in items) if items else "none (copied)"
    out.say(f"{args.source} -> {written}: read procedures {what}")
    return validated(written, out, indent="    ")


def _calibrated(source: Path, dest: Path, stack: contextlib.ExitStack, out: Output) -> Path:
    """Calibrate ``source`` into a temp container beside ``dest`` (removed when ``stack`` closes); return its path."""
    from hsi_conform.errors import OutputUnwritableError
    from hsi_conform.finding import Finding
    from hsi_conform.pipeline.calibrate import calibrate

    try:
        folder = stack.enter_context(tempfile.TemporaryDirectory(dir=dest.parent or ".",
                                                                 prefix=f".{dest.name}.calibrate-"))
    except OSError as exc:
        raise OutputUnwritableError.from_os_error(str(dest), exc) from exc
    findings: list[Finding] = []
    with out.activity(f"calibrating {source.name}"):
        done = calibrate(source, Path(folder) / "reflectance.hsi", thumbnail=False, findings=findings)
    out.say(f"calibrated {source} to reflectance (float32) before the procedures")
    for finding in findings:
        out.verdict(finding_line(finding))
    return done.path
