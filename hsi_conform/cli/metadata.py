"""The ``metadata`` subcommand of ``hsi-conform``: export a container's metadata as JSON, or import JSON into a copy.

``hsi-conform metadata SRC.hsi --to stac|ieee4001|cf [-o FILE]`` prints (or writes atomically to FILE) a STAC Item,
the IEEE 4001 camera metadata or the CF attributes of SRC; ``hsi-conform metadata SRC.hsi --from DOC.json -o DST.hsi``
writes DST: SRC's members plus DOC under ``Metadata/`` (never SRC in place). The mapping and the decisions:
spec/metadata-crosswalk.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hsi_conform.cli.destinations import add_overwrite, prepare_destination
from hsi_conform.cli.streams import STDIO
from hsi_conform.errors import ConfigError, ExitCode, InputNotFoundError
from hsi_conform.members import IMPORTED_METADATA

__all__ = ["add_metadata", "cmd_metadata"]


def add_metadata(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform metadata``."""
    p = sub.add_parser("metadata", help="export metadata as STAC, IEEE 4001 or CF JSON, or import such JSON",
                       description="--to KIND prints SRC's metadata as JSON (or writes it to -o FILE); --from DOC "
                                   "writes -o DST.hsi: SRC's members plus DOC under Metadata/ "
                                   "(spec/metadata-crosswalk.md).")
    p.add_argument("source", metavar="SRC.hsi", help="a .hsi file or folder; with --to also a URL (spec/remote.md)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--to", choices=tuple(IMPORTED_METADATA), help="the document to export")
    what.add_argument("--from", dest="document", type=Path, metavar="DOC.json",
                      help="a STAC Item, IEEE 4001 metadata or CF attributes (JSON) to import into a copy")
    p.add_argument("-o", "--output", type=_output, metavar="FILE",
                   help="with --to: the JSON file to write (default, or -: standard output); with --from: DST.hsi")
    add_overwrite(p)
    p.set_defaults(run=cmd_metadata)


def _output(text: str) -> Path | None:
    """``-o`` as given; ``-`` is standard output (the default)."""
    return None if text == STDIO else Path(text)


def cmd_metadata(args: argparse.Namespace) -> ExitCode:
    """Run ``metadata``: export or import; exit ``OK`` when the document was written."""
    from hsi_conform.metadata import export_metadata, import_metadata
    from hsi_conform.remote import is_url

    if not is_url(args.source) and not Path(args.source).exists():
        raise InputNotFoundError(args.source)
    if args.document is not None:
        if args.output is None:
            raise ConfigError("--from needs -o DST.hsi: the import writes a new container, never SRC in place")
        sources = [] if is_url(args.source) else [Path(args.source), args.document]
        prepare_destination(args.output, overwrite=args.overwrite, sources=sources)
        dest, member = import_metadata(args.source, args.document, args.output)
        print(f"wrote {dest}: {args.document.name} as {member}")
        return ExitCode.OK
    if args.output is not None:  # a JSON document, replaced like a report (spec/cli.md#destinations)
        prepare_destination(args.output, overwrite=True, suffixes=(), what="a JSON document",
                            sources=[] if is_url(args.source) else [Path(args.source)])
    text = export_metadata(args.source, args.to, args.output)
    if args.output is None:
        sys.stdout.write(text)
    else:
        print(f"wrote {args.output}")
    return ExitCode.OK
