"""The ``calibrate`` subcommand of ``hsi-conform``: a raw container to a reflectance container.

The source is judged first, as ``convert`` judges a container source: a nonconformant one is refused (its
findings printed, exit ``NONCONFORMANT``, nothing written) unless ``--allow-nonconformant`` is given. The
calibration's findings (``DAT004``, ``DAT005``) and notes are printed; the destination is validated and the
command exits ``NONCONFORMANT`` when it does not conform (spec/calibration.md#output).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from hsi_conform.cli.destinations import add_overwrite, prepare_destination
from hsi_conform.cli.output import output_of
from hsi_conform.cli.stage import finding_line, judge, validated
from hsi_conform.cli.streams import file_destination, file_source
from hsi_conform.errors import ExitCode

if TYPE_CHECKING:
    from hsi_conform.finding import Finding


def add_calibrate(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform calibrate``."""
    from hsi_conform.pipeline.calibrate import DEFAULT_SCALE, DTYPES

    p = sub.add_parser("calibrate", help="calibrate a raw container to reflectance with its white and black references",
                       description="Write DST: SRC with its cube calibrated to reflectance, R = (raw - black) / "
                                   "(white - black), from Reference/ (spec/calibration.md).")
    p.add_argument("source", type=file_source, metavar="SRC.hsi", help="the raw container to read")
    p.add_argument("dest", type=file_destination, metavar="DST.hsi", help="the reflectance container to write")
    p.add_argument("--dtype", choices=DTYPES, default=DTYPES[0], metavar="DTYPE",
                   help="float32 (default): the reflectance; uint16: round(R * scale), NaN as 65535")
    p.add_argument("--scale", type=float, default=None, metavar="FACTOR",
                   help=f"uint16 only: the reflectance scale factor (default {DEFAULT_SCALE:g})")
    p.add_argument("--no-thumbnail", dest="thumbnail", action="store_false",
                   help="write no thumbnail.jpg (by default it is rendered from the calibrated cube)")
    p.add_argument("--allow-nonconformant", action="store_true",
                   help="calibrate a source that does not conform anyway (its findings are kept in the output as "
                        "Metadata/hsi-conform/source-report.json); by default it is refused")
    add_overwrite(p)
    p.set_defaults(run=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> ExitCode:
    """Run ``calibrate``: judge the source, write the destination, print findings and notes, validate it."""
    from hsi_conform.pipeline.calibrate import calibrate

    out = output_of(args)
    with out.activity(f"judging {args.source.name}"):
        report = judge(args.source, allow_nonconformant=args.allow_nonconformant)
    prepare_destination(args.dest, overwrite=args.overwrite, sources=[args.source])
    findings: list[Finding] = []
    with out.activity(f"calibrating {args.source.name}"):
        done = calibrate(args.source, args.dest, dtype=args.dtype, scale=args.scale, thumbnail=args.thumbnail,
                         findings=findings, source_report=report)  # a bad --scale is an InvalidArgumentError: exit 2
    out.say(f"calibrated {args.source} -> {done.path} ({args.dtype}, {done.record['options']['interleave']})")
    for finding in findings:
        out.verdict(finding_line(finding))
    for note in done.notes:
        out.say(f"  note: {note}")
    return validated(done.path, out)
