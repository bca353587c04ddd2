"""The ``hsi-conform`` command line.

Its conventions (spec/cli.md): ``-q``/``-v`` on every subcommand, colour after ``--color``, ``NO_COLOR``,
``FORCE_COLOR`` and ``TERM=dumb``, progress on standard error only on a terminal, ``-`` for the standard streams,
no abbreviated long options, and a usage error that names the subcommand and the closest spelling.

Every command returns an :class:`~hsi_conform.errors.ExitCode`; an :class:`~hsi_conform.errors.HsiConformError`
that escapes a command exits with the code its class declares. Commands run with SIGINT, SIGTERM and SIGHUP turned
into :class:`~hsi_conform.errors.Interrupted` (:mod:`hsi_conform._signals`): writers remove their temps and the
command exits 128 + the signal number.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from hsi_conform import _atomic, _lock, _signals, report
from hsi_conform._outputs import refuse_output_on_input
from hsi_conform._version import __version__
from hsi_conform._walk import WalkError
from hsi_conform.cli.batching import add_executor_options, open_executor
from hsi_conform.cli.calibrate import add_calibrate
from hsi_conform.cli.completion import add_completion
from hsi_conform.cli.convert import add_convert, add_migrate
from hsi_conform.cli.corpus import add_corpus
from hsi_conform.cli.destinations import add_overwrite, plain_message, prepare_destination
from hsi_conform.cli.fix import add_fix
from hsi_conform.cli.formats import add_formats
from hsi_conform.cli.info import add_info
from hsi_conform.cli.metadata import add_metadata
from hsi_conform.cli.output import COLOR_CHOICES, output_of
from hsi_conform.cli.parser import Parser, finish
from hsi_conform.cli.previews import add_previews
from hsi_conform.cli.procedures import add_procedures
from hsi_conform.cli.refs import add_refs
from hsi_conform.cli.streams import file_destination, file_source
from hsi_conform.errors import ConfigError, ExitCode, HsiConformError, InputUnreadableError, Interrupted
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.finding import Severity
from hsi_conform.limits import LIMIT_NAMES, parse_limit_assignment
from hsi_conform.rules import PROFILES, catalogue
from hsi_conform.rules.context import Content

if TYPE_CHECKING:
    from hsi_conform.cli.reports import ReportOutputs
    from hsi_conform.cli.settings import RunSettings
    from hsi_conform.rules.context import CheckOptions
    from hsi_conform.validate.engine import Policy


_Parser = Parser

def _add_validate(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("validate", help="check containers against the spec",
                       description="Validate .hsi files, expanded container folders, directories of them, or URLs "
                       "of .hsi files (https://, s3://, gs://, az://, memory://, file://; read by byte ranges).")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="a .hsi file, an expanded container folder, a folder of them, a URL, or - (standard input)")
    p.add_argument("--content", choices=[c.value for c in Content], default=None, metavar="TIER",
                   help="none: metadata only; crc: verify every member's CRC; full: also check the data "
                        f"(default: the configuration's, else {Content.NONE.value})")
    p.add_argument("--profile", choices=PROFILES, default=None, metavar="PROFILE",
                   help="exchange: what a partner may send; reader: what a tolerant reader still opens; strict: "
                        "every recommendation (default: the configuration's, else exchange)")
    p.add_argument("--select", action="append", default=None, metavar="RULE",
                   help="run only these rules (id, id prefix or name; repeatable, comma-separated)")
    p.add_argument("--ignore", action="append", default=None, metavar="RULE",
                   help="do not run these rules (id, id prefix or name; repeatable, comma-separated)")
    p.add_argument("--severity", action="append", default=[], metavar="RULE=LEVEL",
                   help="re-grade a rule: fatal, error, warning or info (repeatable)")
    p.add_argument("--fail-on", default=None, metavar="LEVEL",
                   help="lowest severity that makes a file nonconformant: fatal, error, warning or info "
                        "(default: the configuration's, else error)")
    p.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                   help=f"raise or lower a resource limit ({', '.join(LIMIT_NAMES)}); e.g. max-header-bytes=64MiB")
    p.add_argument("--storage-option", action="append", default=[], metavar="KEY=VALUE", dest="storage_options",
                   help="an fsspec option for URL inputs (repeatable; VALUE read as JSON when it is JSON), "
                   "e.g. anon=true or endpoint_url=http://localhost:9000")
    p.add_argument("--format", action="append", default=None, dest="formats", metavar="FORMAT",
                   choices=tuple(report.RENDERERS),
                   help="report format (repeatable; pairs with -o in order; default: the configuration's, else text)")
    p.add_argument("-o", "--output", action="append", default=[], metavar="FILE",
                   help="write the report of the matching --format to FILE (replaced if it exists), - for standard "
                        "output (default: standard output)")
    p.add_argument("--config", type=file_source, default=None, metavar="FILE",
                   help="configuration file (default: searched upward from each input; run settings from the "
                        "current directory)")
    p.add_argument("--isolated", action="store_true", help="ignore configuration files")
    p.add_argument("--no-waivers", action="store_true", help="apply no waiver of the configuration: show everything")
    baseline = p.add_mutually_exclusive_group()
    baseline.add_argument("--baseline", type=file_source, default=None, metavar="FILE",
                          help="report only findings not in this baseline; they alone decide the exit code")
    baseline.add_argument("--write-baseline", type=file_destination, default=None, metavar="FILE",
                          help="record the current findings in FILE (paths relative to its folder)")
    p.add_argument("--color", choices=COLOR_CHOICES, default=None, metavar="WHEN",
                   help="colour the text report: auto (on a terminal, unless NO_COLOR is set or TERM=dumb; "
                        "FORCE_COLOR forces it), always or never (default: the configuration's, else auto)")
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                   help="validate N files in parallel (default: the configuration's, else 1)")
    p.add_argument("--show-settings", action="store_true",
                   help="print the effective settings, each with where it comes from (command line, configuration "
                        "file, default), and exit")
    add_executor_options(p)
    p.set_defaults(run=_cmd_validate)


def _add_rules(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("rules", help="list the rule catalogue")
    p.add_argument("prefixes", nargs="*", metavar="PREFIX", help="only these rules: ids, id prefixes or names")
    p.add_argument("--format", choices=tuple(catalogue.RENDERERS), default=next(iter(catalogue.RENDERERS)),
                   metavar="FORMAT", help="how to print the catalogue")
    p.set_defaults(run=_cmd_rules)


def _add_explain(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("explain", help="explain a rule: spec text, a failing and a valid example")
    p.add_argument("rule", metavar="ID", help="rule id (HDR015) or name (key-case)")
    p.set_defaults(run=_cmd_explain)


def _cmd_explain(args: argparse.Namespace) -> ExitCode:
    from hsi_conform.cli.explain import explain

    sys.stdout.write(explain(args.rule))
    return ExitCode.OK


def _add_demo(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("demo", help="write the embedded sample container, open it and validate it")
    p.add_argument("directory", nargs="?", type=file_destination, default=Path("demo-output"),
                   help="where to write the sample and what the demo makes of it; kept (default: ./demo-output)")
    p.set_defaults(run=_cmd_demo)


def _add_sample(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("sample", help="write a deterministic synthetic container",
                       description="Write a synthetic scene (soil, a leaf, a white panel) with realistic spectra and "
                       "every optional member: thumbnail, preview, references, Exploration/ classification file, masks "
                       "and bounding boxes, Metadata/.")
    p.add_argument("output", type=file_destination, metavar="OUT.hsi", help="the container to write (a .hsi file)")
    p.add_argument("--lines", type=int, default=64, metavar="N", help="rows of the cube, at least 2")
    p.add_argument("--samples", type=int, default=48, metavar="N", help="columns of the cube, at least 2")
    p.add_argument("--bands", type=int, default=32, metavar="N", help="spectral bands, at least 2")
    p.add_argument("--dtype", type=int, default=int(DataType.UINT16), choices=[int(d) for d in DataType],
                   metavar="CODE", help=f"ENVI data type code (default {int(DataType.UINT16)} = uint16)")
    p.add_argument("--interleave", choices=[i.value for i in Interleave], default=Interleave.BIL.value,
                   metavar="ORDER", help="the cube's interleave")
    p.add_argument("--byte-order", type=int, choices=[int(b) for b in ByteOrder], default=int(ByteOrder.LITTLE),
                   metavar="ORDER", help="0: little-endian, 1: big-endian")
    p.add_argument("--minimal", action="store_true", help="only data.hdr and data.envi")
    p.add_argument("--no-thumbnail", action="store_true", help="every optional member but thumbnail.jpg")
    add_overwrite(p)
    p.set_defaults(run=_cmd_sample)


def _cmd_sample(args: argparse.Namespace) -> ExitCode:
    from hsi_conform.testing.scene import SceneSpec, write_scene

    if min(args.lines, args.samples, args.bands) < 2:
        raise ConfigError("--lines, --samples and --bands must be at least 2")
    spec = SceneSpec(lines=args.lines, samples=args.samples, bands=args.bands, data_type=DataType(args.dtype),
                     interleave=Interleave(args.interleave), byte_order=ByteOrder(args.byte_order),
                     minimal=args.minimal, thumbnail=not args.no_thumbnail)
    prepare_destination(args.output, overwrite=args.overwrite)
    out = output_of(args)
    with out.activity(f"writing {args.output.name}"):
        path = write_scene(args.output, spec)
    out.say(f"wrote {path} ({path.stat().st_size} bytes)")
    return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``hsi-conform`` command."""
    parser = _Parser(prog="hsi-conform", description="Validate, convert and repair HyperImage .hsi hyperspectral "
                     "containers. 'hsi-conform COMMAND --help' describes a command, with examples.")
    parser.add_argument("--version", action="version", version=f"hsi-conform {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(sub)
    parser.set_defaults(root_parser=parser)  # what `completion` and `manpage` describe
    finish(parser)
    return parser


def _split(values: Sequence[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _cmd_validate(args: argparse.Namespace) -> ExitCode:
    from hsi_conform.cli.settings import run_settings, show_settings
    from hsi_conform.validate.config import parse_severity_assignment, read_config

    if args.config is not None and not args.isolated:
        read_config(args.config)  # a bad --config (a FIFO, a folder, a device, invalid) stops the run at once
    args.severity_map = dict(parse_severity_assignment(s) for s in args.severity)
    args.limit_map = dict(parse_limit_assignment(text) for text in args.limit)
    settings = run_settings(args)
    if settings.jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    if args.show_settings:
        sys.stdout.write(show_settings(args, settings))
        return ExitCode.OK
    if not args.paths:
        raise ConfigError("validate needs at least one PATH (or - for standard input)")
    start = time.monotonic()
    with contextlib.ExitStack() as stack:
        outputs = _validate(args, settings, stack)
    if output_of(args).verbose:  # on stderr: the report itself stays the same from run to run
        print(f"hsi-conform: validated {outputs.files} file{'s' if outputs.files != 1 else ''} in "
              f"{time.monotonic() - start:.2f} s ({settings.jobs} job{'s' if settings.jobs != 1 else ''}, content "
              f"{settings.content}; run configuration: {settings.config or 'none'})", file=sys.stderr)
    # The worst of all: an input that could not be read is never a clean pass (exit 3).
    return outputs.code


def _validate(args: argparse.Namespace, settings: RunSettings, stack: contextlib.ExitStack) -> ReportOutputs:
    """Validate the inputs and write each report into every output as it arrives, in input order.

    Only ``--write-baseline`` keeps every report before the first is written: the baseline is made of them all,
    and each is then compared with it (spec/report.md#streaming).
    """
    from hsi_conform.cli.reports import ReportOutputs
    from hsi_conform.cli.streams import STDIN_NAME, STDIO, spool_stdin
    from hsi_conform.validate import CheckOptions
    from hsi_conform.validate.baseline import apply_baseline, read_baseline, write_baseline
    from hsi_conform.validate.batch import iter_check_many

    if args.paths.count(STDIO) > 1:
        raise ConfigError("'-' (standard input) can be given once")
    stdin = spool_stdin(stack) if STDIO in args.paths else None
    baseline = read_baseline(args.baseline) if args.baseline is not None else None  # a bad one stops the run too
    jobs = _validation_jobs(args, args.severity_map, settings, stdin)
    if not jobs:
        raise InputUnreadableError(", ".join(args.paths), "no containers found")
    written = [o for o in args.output if o != STDIO] + ([args.write_baseline] if args.write_baseline else [])
    refuse_output_on_input(written, [p for p, *_ in jobs if isinstance(p, Path)])  # never replace an input
    # (a URL is never a local output; a file:// URL of one is the user's own doing, as with any other name)
    outputs = ReportOutputs(args, settings, stack)  # a bad -o stops the run before any input is read
    out = output_of(args)
    options = CheckOptions(content=Content(settings.content))
    executor = stack.enter_context(open_executor(args, jobs=settings.jobs))
    if len(jobs) > 1:
        bar = out.progress(len(jobs), "validating")
        reports = iter_check_many(jobs, options, executor=executor, progress=bar)
    else:  # one file (--content full of a large cube takes a while): what runs and for how long
        item = jobs[0][0]
        bar = None
        with out.activity(f"validating {Path(str(item.path if isinstance(item, WalkError) else item)).name}"):
            reports = iter(list(iter_check_many(jobs, options, executor=executor)))  # erased before it is written
    if stdin is not None:
        reports = (replace(r, path=STDIN_NAME) if r.path == str(stdin) else r for r in reports)
    if args.write_baseline is not None:  # then compared with it: every finding unchanged, exit 0 unless unreadable
        kept = list(reports)
        baseline = write_baseline(args.write_baseline, kept)
        if not out.quiet:
            print(f"hsi-conform: wrote {args.write_baseline} ({baseline.size} findings)", file=sys.stderr)
        reports = iter(kept)
    for r in reports:
        if baseline is not None:
            (r,) = apply_baseline([r], baseline)
        if bar is not None and outputs.text_on_terminal:
            bar.close()  # erased before the text; drawn again at the next input
        if r.input_error is not None:
            print(f"hsi-conform: cannot read {r.path}: {r.input_error}", file=sys.stderr)
        outputs.write(r)
    outputs.close()
    return outputs


def _validation_jobs(args: argparse.Namespace, severity: dict[str, Severity], settings: RunSettings,
                     stdin: Path | None) -> list[tuple[Path | str | WalkError, Policy, CheckOptions]]:
    """Return each input with its policy and options, in order; what a walk could not read stays in the list.

    Each input gets the limits and storage options of its own configuration, with ``--limit`` and
    ``--storage-option`` on top (spec/safety.md#limits); a URL and standard input take the configuration found from
    the current directory upward (spec/remote.md#urls).
    """
    from hsi_conform.remote import is_url, parse_storage_option
    from hsi_conform.validate import CheckOptions, expand_inputs
    from hsi_conform.validate.config import ConfigSearch, load_limits, load_policy, load_storage_options

    limits = args.limit_map
    storage = dict(parse_storage_option(text) for text in args.storage_options)
    content = Content(settings.content)
    search = ConfigSearch()  # one upward search per directory of the inputs, shared by the three loaders

    def job(item: Path | str | WalkError, path: Path) -> tuple[Path | str | WalkError, Policy, CheckOptions]:
        policy = load_policy(path, config=args.config, isolated=args.isolated, profile=args.profile,
                             select=_split(args.select), ignore=_split(args.ignore), severity=severity,
                             fail_on=args.fail_on, waivers=not args.no_waivers, search=search)
        found = {"config": args.config, "isolated": args.isolated, "search": search}
        return item, policy, CheckOptions(content=content, limits=load_limits(path, **found, limits=limits),
                                          storage_options=load_storage_options(path, **found, options=storage))

    jobs: list[tuple[Path | str | WalkError, Policy, CheckOptions]] = []
    for raw in args.paths:
        if raw == "-" and stdin is not None:
            jobs.append(job(stdin, Path.cwd()))
            continue
        root = Path.cwd() if is_url(raw) else Path(raw)  # never Path(url): it would mangle "//"
        errors: list[WalkError] = []
        for path in expand_inputs([raw], on_error=errors.append):
            jobs.extend(job(error, root) for error in errors)  # in walk order, under the named root's
            errors.clear()                                      # configuration (they cannot be read)
            jobs.append(job(path, root if isinstance(path, str) else path))
        jobs.extend(job(error, root) for error in errors)
    return jobs


def _cmd_rules(args: argparse.Namespace) -> ExitCode:
    from hsi_conform.cli.explain import select_rules

    sys.stdout.write(catalogue.RENDERERS[args.format](select_rules(_split(args.prefixes) or [])))
    return ExitCode.OK


def _cmd_demo(args: argparse.Namespace) -> ExitCode:
    from hsi_conform.cli.demo import run_demo

    return run_demo(args.directory)


_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction[_Parser]], None]] = [
    _add_validate, _add_rules, _add_explain, _add_sample, _add_demo,
    add_convert, add_formats, add_migrate, add_corpus,
    add_procedures,
    add_calibrate,
    add_previews,
    add_fix,
    add_refs,
    add_metadata,
    add_info,
    add_completion,
]


def main(argv: Sequence[str] | None = None) -> ExitCode:
    """Run the command line and return its exit code (never raises, except SystemExit from --help or a usage error)."""
    temps, locks = _atomic.live_temps(), _lock.held()
    try:
        with _signals.handlers():
            try:
                code = _run(argv)
            finally:  # what a writer stopped between creating and guarding a temp or a lock left
                _atomic.remove_temps(_atomic.live_temps() - temps)
                _lock.release(_lock.held() - locks)
            signum = _signals.received()
    except Interrupted as exc:  # arrived after the command had finished
        return exc.exit_code
    # A signal whose exception a library swallowed still decides the exit code.
    return code if signum is None else ExitCode.for_signal(signum)


def _run(argv: Sequence[str] | None) -> ExitCode:
    try:
        args = build_parser().parse_args(argv)
        if output_of(args).verbosity <= -2:  # -qq: nothing on standard output; errors still explain exit 2-5
            with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
                return ExitCode(args.run(args))
        return ExitCode(args.run(args))
    except HsiConformError as exc:
        print(f"hsi-conform: {plain_message(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # an I/O error reading or writing a file, with the file named
        where = f": {exc.filename}" if exc.filename else ""
        print(f"hsi-conform: {plain_message(f'{exc.strerror or exc}{where}')}", file=sys.stderr)
        return ExitCode.UNREADABLE
    except Interrupted as exc:
        print(f"hsi-conform: {exc}; temp files removed", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception:
        if (signum := _signals.received()) is not None:  # a consequence of the signal (e.g. a broken pool), not a bug
            return ExitCode.for_signal(signum)
        traceback.print_exc()
        print("hsi-conform: internal error (a bug); please report it with the traceback above",
              file=sys.stderr)
        return ExitCode.INTERNAL
