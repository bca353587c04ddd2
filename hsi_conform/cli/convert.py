"""The ``convert`` and ``migrate`` subcommands of ``hsi-conform``.

``--option KEY=VALUE`` options go to the converter that declares them: the source's ``read_options`` (e.g. the
legacy reader's ``quantize``), the destination's ``write_options``, or both; an option neither declares exits 2
naming what each accepts (``hsi-conform formats`` lists them all). ``convert`` runs the one pipeline,
:func:`hsi_conform.converters.run_conversion`, prints what the reader noted (inferred values, quantisation error)
and validates ``.hsi`` outputs: it exits ``OK`` when the output has no ERROR
finding, ``NONCONFORMANT`` otherwise, naming the rule of each such finding.

A nonconformant container source is refused (its findings printed, exit ``NONCONFORMANT``, nothing written) unless
``--allow-nonconformant`` is given; an output that is an input is a usage error (spec/safety.md#refused).

``--no-thumbnail`` is the ``hsi`` writer's option ``thumbnail=false``: a ``.hsi`` output gets no ``thumbnail.jpg``
rendered from its cube (spec/previews.md#writers); for another destination it is an unknown option (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hsi_conform.cli.batching import add_executor_options, open_executor
from hsi_conform.cli.destinations import add_overwrite, prepare_destination
from hsi_conform.cli.output import output_of
from hsi_conform.cli.streams import file_destination, file_source, name_destination, name_source
from hsi_conform.errors import ConfigError, ConverterNotFoundError, ExitCode

if TYPE_CHECKING:

    pass


def add_convert(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform convert``."""
    p = sub.add_parser("convert", help="convert between .hsi and other formats",
                       description="Convert SRC to DST through the neutral dataset (formats: hsi-conform formats).")
    p.add_argument("source", type=file_source, metavar="SRC", help="the file or folder to read")
    p.add_argument("dest", type=file_destination, metavar="DST",
                   help="the file to write (its suffix names the format unless --to is given)")
    p.add_argument("--from", dest="from_format", default=None, metavar="FMT", help="source format (default: detected)")
    p.add_argument("--to", dest="to_format", default=None, metavar="FMT",
                   help="destination format: hsi, envi, specim, hdf5, tiff, ... (default: from DST's suffix)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="reader or writer option (repeatable; hsi-conform formats lists them)")
    _add_allow_nonconformant(p)
    _add_no_thumbnail(p)
    add_overwrite(p)
    p.set_defaults(run=cmd_convert)


def _add_allow_nonconformant(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-nonconformant", action="store_true",
                   help="convert a .hsi source that does not conform anyway (its findings are kept in the output as "
                        "Metadata/hsi-conform/source-report.json); by default it is refused")


def _add_no_thumbnail(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-thumbnail", action="store_true",
                   help="write no thumbnail.jpg when the source has none (the hsi writer's option thumbnail=false); "
                        "by default one is rendered from the cube")


def add_migrate(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform migrate``."""
    p = sub.add_parser("migrate", help="convert every dataset of a tree to validated .hsi files (resumable)",
                       description="Walk SRC_DIR (read only), convert each recognised dataset to DST_DIR/<path>.hsi, "
                                   "validate it and journal it in DST_DIR/migrate-journal.jsonl. Either may be an "
                                   "fsspec URL (s3://bucket/prefix, memory://, file://); under a URL the journal is "
                                   "one object per record in DST_DIR/.hsi-conform/journal/ "
                                   "(spec/batch.md#remote-migrate).")
    # kept as strings: a URL must reach migrate unmangled (Path folds s3://b into s3:/b)
    p.add_argument("source", type=name_source, metavar="SRC_DIR",
                   help="the tree to read (never written): a folder or a URL that can be listed")
    p.add_argument("dest", type=name_destination, metavar="DST_DIR",
                   help="where the .hsi files and the journal go, a folder or a URL (a run resumes what an "
                        "earlier one left)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="reader option, e.g. quantize=int16 (repeatable)")
    _add_allow_nonconformant(p)
    _add_no_thumbnail(p)
    p.add_argument("--storage-option", action="append", default=[], metavar="KEY=VALUE", dest="storage_options",
                   help="an fsspec option for a URL SRC_DIR or DST_DIR (repeatable; VALUE read as JSON when it is "
                        "JSON), over the storage options of the configuration found from the current folder")
    add_executor_options(p, jobs=True)
    p.set_defaults(run=cmd_migrate)


def parse_options(values: list[str]) -> dict[str, str]:
    """Parse ``KEY=VALUE`` strings.

    Raises:
        ConfigError: an item without ``=`` or with an empty key.
    """
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """Return the ``--option`` values, with ``--no-thumbnail`` as the ``thumbnail`` option of the hsi writer."""
    options: dict[str, Any] = dict(parse_options(args.option))
    if args.no_thumbnail:
        options["thumbnail"] = False
    return options


def cmd_convert(args: argparse.Namespace) -> ExitCode:
    """Run ``convert``."""
    from hsi_conform.converters import run_conversion
    from hsi_conform.errors import InputNotFoundError, NonconformantSourceError

    options = _options(args)
    out = output_of(args)
    if not args.source.exists():
        raise InputNotFoundError(str(args.source))
    _prepare(args)
    try:
        with out.activity(f"converting {args.source.name}"):
            done = run_conversion(args.source, args.dest, options, from_format=args.from_format,
                                  to_format=args.to_format, allow_nonconformant=args.allow_nonconformant,
                                  overwrite=args.overwrite)
    except ConverterNotFoundError as exc:
        usage = _usage_error(exc, args)
        if usage is None:
            raise  # no converter reads the source: exit 3, as for any unreadable input
        raise usage from exc
    except NonconformantSourceError as exc:
        from hsi_conform.report import render

        sys.stdout.write(render("text", [exc.report]))  # the findings, as validate prints them
        raise
    out.say(f"converted {args.source} ({done.reader}) -> {done.written} ({done.writer})")
    for note in done.notes:
        out.say(f"  note: {note}")
    if done.writer != "hsi":
        return ExitCode.OK
    from hsi_conform.cli.stage import validated

    return validated(done.written, out, indent="    ")  # each failing finding named: the exit code says too little


def _prepare(args: argparse.Namespace) -> None:
    """Refuse a destination whose suffix another format claims than ``--to``.

    The conversion checks the rest, in its order: the output is no input, ``--overwrite``, the folder.
    """
    from hsi_conform.converters.registry import format_for, get_converter

    suffixes: tuple[str, ...] = ()
    if args.to_format is not None:
        try:
            claimed = format_for(args.dest)
        except ConverterNotFoundError:
            claimed = None  # a suffix no format claims (a folder, a name without one): --to decides
        if claimed is not None and claimed != args.to_format:
            try:
                suffixes = tuple(get_converter(args.to_format).suffixes)
            except ConverterNotFoundError:
                return  # an unknown --to is reported as such by the conversion
    if suffixes and args.dest.suffix.lower() not in suffixes:  # the rest is checked by the conversion, in order
        prepare_destination(args.dest, overwrite=True, suffixes=suffixes, what=f"the {args.to_format} format")


def _usage_error(exc: ConverterNotFoundError, args: argparse.Namespace) -> ConfigError | None:
    """Return the usage error (exit 2) a failed lookup means, or None when the source is what no converter reads."""
    if exc.source in (args.from_format, args.to_format):
        return ConfigError(f"unknown format {exc.source!r} (installed: {', '.join(exc.candidates)})")
    if exc.source == str(args.dest):
        return ConfigError(f"cannot tell the format of {args.dest} from its suffix: give --to")
    return None


def cmd_migrate(args: argparse.Namespace) -> ExitCode:
    """Run ``migrate``: print the summary; exit ``OK`` when everything converted without ERROR findings."""
    from hsi_conform.converters.migrate import migrate
    from hsi_conform.remote import parse_storage_option
    from hsi_conform.validate.config import load_storage_options

    storage = load_storage_options(Path.cwd(), options=dict(parse_storage_option(t) for t in args.storage_options))
    out = output_of(args)
    progress = out.progress(0, "migrating")
    with open_executor(args) as executor:
        summary = migrate(args.source, args.dest, options=_options(args), progress=progress,
                          allow_nonconformant=args.allow_nonconformant, executor=executor, storage_options=storage)
    for line in summary.lines():
        out.verdict(line)
    return summary.exit_code
