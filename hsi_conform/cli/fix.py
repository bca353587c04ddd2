"""The ``fix`` subcommand of ``hsi-conform``: repair what the rules' declared fixes can repair (spec/fix.md).

``fix SRC DST`` writes DST and validates it; ``--dry-run`` prints the diff of every changed header and the plan of
member-level changes and writes nothing; ``--in-place`` replaces SRC atomically (keeping ``SRC.orig`` unless
``--no-backup``). Either way the command exits 0 when the result conforms and 1 when findings remain (listed).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from hsi_conform.cli.destinations import add_overwrite, prepare_destination
from hsi_conform.cli.output import output_of
from hsi_conform.cli.stage import finding_line
from hsi_conform.cli.streams import file_destination, file_source
from hsi_conform.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from hsi_conform.fix import FixResult


def add_fix(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform fix``."""
    p = sub.add_parser("fix", help="fix what can be fixed mechanically (key case, line endings, alignment, ...)",
                       description="Write DST: SRC with the findings of rules that declare a fix repaired "
                                   "(hsi-conform rules shows which; spec/fix.md). SRC is never modified, "
                                   "except with --in-place.")
    p.add_argument("source", type=file_source, metavar="SRC.hsi", help="the container to fix")
    p.add_argument("dest", type=file_destination, nargs="?", default=None, metavar="DST.hsi",
                   help="the fixed container to write (or give --in-place, or --dry-run)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the header diffs and the member plan, and the findings that would remain; "
                        "write nothing")
    p.add_argument("--select", action="append", default=None, metavar="RULE",
                   help="apply only the fixes of these rules (id, id prefix or name; repeatable, comma-separated)")
    p.add_argument("--ignore", action="append", default=None, metavar="RULE", help="do not apply these fixes")
    p.add_argument("--unsafe", action="store_true",
                   help="also apply the unsafe fixes (a duplicate key dropped, wavelength units inferred, "
                        "trailing bytes truncated)")
    p.add_argument("--in-place", action="store_true",
                   help="replace SRC atomically with the fixed container, keeping SRC.orig")
    p.add_argument("--no-backup", dest="backup", action="store_false", help="with --in-place: keep no SRC.orig")
    add_overwrite(p)
    p.set_defaults(run=cmd_fix)


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for value in values or () for v in value.split(",") if v.strip())


def cmd_fix(args: argparse.Namespace) -> ExitCode:
    """Run ``fix``: plan, write (unless a dry run), print what was fixed and what remains."""
    from hsi_conform.fix import fix

    if args.in_place == (args.dest is not None):
        raise ConfigError("give DST, or --in-place (not both)")
    if not args.backup and not args.in_place:
        raise ConfigError("--no-backup needs --in-place")
    if args.dest is not None and not args.dry_run:
        prepare_destination(args.dest, overwrite=args.overwrite, sources=[args.source])
    with output_of(args).activity(f"fixing {args.source.name}"):
        result = fix(args.source, args.dest, select=_split(args.select), ignore=_split(args.ignore),
                     unsafe=args.unsafe, dry_run=args.dry_run, backup=args.backup)
    _print(args, result)
    return ExitCode.OK if result.result.conformant else ExitCode.NONCONFORMANT


def _print(args: argparse.Namespace, result: FixResult) -> None:
    from hsi_conform.report.text import clean

    out = output_of(args)
    target = "(dry run)" if args.dry_run else str(result.written or "(unchanged: nothing to fix)")
    out.say(f"fix {clean(str(args.source))} -> {clean(target)}")
    if args.dry_run and not out.quiet:
        for diff in result.diffs.values():
            sys.stdout.write(clean(diff, keep="\n"))
    for change in result.plan.changes:
        out.say(f"  {'would change' if args.dry_run else 'changed'} {clean(str(change))}")
    if result.backup is not None:
        out.say(f"  kept the original as {clean(str(result.backup))}")
    for finding in result.fixed:
        out.say(f"  fixed {finding.rule} [{finding.name}] {clean(str(finding.location))}")
    counts = ", ".join(f"{n} {label}" for label, n in result.result.counts.items())
    verdict = "conformant" if result.result.conformant else "NOT conformant"
    out.verdict(f"  {'would be' if args.dry_run else 'validation:'} {verdict} ({counts})")
    for finding in result.result.counted:  # what remains, errors and notes alike
        out.verdict(finding_line(finding))

