"""The ``calibrate`` subcommand of ``hsi-conform``: a raw container to a reflectance container.

The source is judged first, as ``convert`` judges a container source: a nonconformant one is refused (its
findings printed, exit ``NONCONFORMANT``, nothing written) unless ``--allow-nonconformant`` is given. The
calibration's findings (``DAT004``, ``DAT005``) and notes are printed; the destination is validated and the
command exits ``NONCONFORMANT`` when it does not conform (spec/calibration.md#output).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hsi_conform.errors import ExitCode, InputNotFoundError

if TYPE_CHECKING:
    from hsi_conform.finding import Finding


def add_calibrate(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform calibrate``."""
    from hsi_conform.pipeline.calibrate import DEFAULT_SCALE, DTYPES

    p = sub.add_parser("calibrate", help="calibrate a raw container to reflectance with its white and black references",
                       description="Write DST: SRC with its cube calibrated to reflectance, R = (raw - black) / "
                                   "(white - black), from Reference/ (spec/calibration.md).")
    p.add_argument("source", type=Path, metavar="SRC.hsi")
    p.add_argument("dest", type=Path, metavar="DST.hsi")
    p.add_argument("--dtype", choices=DTYPES, default=DTYPES[0],
                   help="float32 (default): the reflectance; uint16: round(R * scale), NaN as 65535")
    p.add_argument("--scale", type=float, default=None,
                   help=f"uint16 only: the reflectance scale factor (default {DEFAULT_SCALE:g})")
    p.add_argument("--no-thumbnail", dest="thumbnail", action="store_false",
                   help="write no thumbnail.jpg (by default it is rendered from the calibrated cube)")
    p.add_argument("--allow-nonconformant", action="store_true",
                   help="calibrate a source that does not conform anyway (its findings are kept in the output as "
                        "Metadata/hsi-conform/source-report.json); by default it is refused")
    p.set_defaults(run=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> ExitCode:
    """Run ``calibrate``: judge the source, write the destination, print findings and notes, validate it."""
    from hsi_conform.converters.guard import CONTAINER_READER, judge_source
    from hsi_conform.errors import NonconformantSourceError
    from hsi_conform.pipeline.calibrate import calibrate
    from hsi_conform.validate import check

    if not args.source.exists():
        raise InputNotFoundError(str(args.source))
    try:
        report = judge_source(CONTAINER_READER, args.source, allow_nonconformant=args.allow_nonconformant)
    except NonconformantSourceError as exc:
        from hsi_conform.report import render

        sys.stdout.write(render("text", [exc.report]))  # the findings, as validate prints them
        raise
    findings: list[Finding] = []
    done = calibrate(args.source, args.dest, dtype=args.dtype, scale=args.scale, thumbnail=args.thumbnail,
                     findings=findings, source_report=report)  # a bad --scale is an InvalidArgumentError: exit 2
    print(f"calibrated {args.source} -> {done.path} ({args.dtype}, {done.record['options']['interleave']})")
    for finding in findings:
        print_finding(finding)
    for note in done.notes:
        print(f"  note: {note}")
    result = check(done.path)
    counts = ", ".join(f"{n} {label}" for label, n in result.counts.items())
    print(f"  validation: {'conformant' if result.conformant else 'NOT conformant'} ({counts})")
    for finding in result.failures():
        print_finding(finding)
    return ExitCode.OK if result.conformant else ExitCode.NONCONFORMANT


def print_finding(finding: Finding) -> None:
    """Print one finding of a pipeline stage, as ``validate`` prints findings (escaped)."""
    from hsi_conform.report.text import clean

    where = f" {finding.location}:" if str(finding.location) else ":"
    print(f"  {finding.severity.label} {finding.rule} [{finding.name}]{clean(where)} {clean(finding.message)}")
