"""The ``refs`` subcommand of ``hsi-conform``: kerchunk references for cloud-native readers (spec/refs.md).

``hsi-conform refs SRC.hsi -o refs.json`` (SRC a file or a URL) writes the references of one container;
``hsi-conform refs --combine DIR -o refs.json`` one reference set stacking every ``*.hsi`` under DIR (sorted) on a
new ``container`` dimension. The output is published atomically and is never one of the inputs.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

from hsi_conform.cli.destinations import prepare_destination
from hsi_conform.cli.streams import file_destination
from hsi_conform.errors import ConfigError, ContainerError, ExitCode, InputUnreadableError

__all__ = ["add_refs", "cmd_refs"]


def add_refs(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform refs``."""
    p = sub.add_parser("refs", help="write kerchunk references: read a container's cube as zarr, in place",
                       description="Write kerchunk references (version 1) mapping the cube, references, "
                                   "Exploration images and previews of SRC (a .hsi file or URL, or an expanded "
                                   "container folder) as zarr arrays onto byte ranges inside it; with --combine, one "
                                   "set stacking every *.hsi under DIR (spec/refs.md).")
    p.add_argument("source", nargs="?", default=None, metavar="SRC.hsi",
                   help="the container to reference: a .hsi file, an expanded folder or a URL (not with --combine)")
    p.add_argument("--combine", type=Path, default=None, metavar="DIR",
                   help="stack every *.hsi under DIR (same shape, dtype and coordinates) on a 'container' dimension")
    p.add_argument("-o", "--output", type=file_destination, required=True, metavar="REFS.json",
                   help="the reference set to write (kerchunk version 1 JSON; published atomically)")
    p.add_argument("--url", default=None, metavar="URL",
                   help="what the references call SRC (default: the URL as given, or the file's absolute path), "
                        "e.g. the https:// address the file is published at")
    p.add_argument("--chunk-bytes", type=int, default=None, metavar="N",
                   help="largest zarr chunk in bytes (default 8 MiB; chunks are whole bands or lines)")
    p.add_argument("--storage-option", action="append", default=[], metavar="KEY=VALUE", dest="storage_options",
                   help="an fsspec option for a URL source (repeatable; VALUE read as JSON when it is JSON), over "
                        "the storage options of the configuration found from the current folder")
    p.set_defaults(run=cmd_refs)


def cmd_refs(args: argparse.Namespace) -> ExitCode:
    """Run ``refs``: write the references of SRC, or the combined references of DIR; print what was written."""
    from hsi_conform.refs import write_references
    from hsi_conform.refs.combine import combine
    from hsi_conform.remote import parse_storage_option
    from hsi_conform.validate.config import load_storage_options

    if (args.source is None) == (args.combine is None):
        raise ConfigError("refs needs SRC.hsi or --combine DIR (one of them)")
    if args.chunk_bytes is not None and args.chunk_bytes < 1:
        raise ConfigError("--chunk-bytes must be at least 1")
    storage = load_storage_options(Path.cwd(), options=dict(parse_storage_option(t) for t in args.storage_options))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        if args.combine is not None:
            if args.url is not None:
                raise ConfigError("--url names one container: it does not go with --combine")
            sources = _containers(args.combine)
            names = [p.relative_to(args.combine).as_posix() for p in sources]
            inputs: list[Path] = [args.combine]
            refs = combine([_references(p, None, storage, args.chunk_bytes) for p in sources], names)
            what = f"{len(sources)} containers stacked"
        else:
            inputs = [] if _is_url(args.source) else [Path(args.source)]
            refs = _references(args.source, args.url, storage, args.chunk_bytes)
            what = args.source
    for w in caught:
        if issubclass(w.category, RuntimeWarning):  # what was left out; libraries' own warnings are theirs
            print(f"hsi-conform: warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    # a derived file, replaced like a report (spec/cli.md#destinations); its folder is made as by every writer
    prepare_destination(args.output, overwrite=True, sources=inputs, suffixes=(), what="a reference set")
    write_references(refs, args.output, inputs=inputs)
    chunks = sum(1 for v in refs["refs"].values() if isinstance(v, list))
    print(f"wrote {args.output}: {what}, {chunks} chunk references")
    return ExitCode.OK


def _references(source: str | Path, url: str | None, storage: dict[str, Any], chunk_bytes: int | None) -> Any:
    """Return the references of one source; an error that does not name it is re-raised naming it."""
    from hsi_conform.refs import references

    try:
        return references(source, url=url, storage_options=storage, target_bytes=chunk_bytes)
    except ContainerError as exc:  # the reader names the member, not the file: a --combine run reads many
        where = f"{source}" if exc.member is None else f"{source}, member {exc.member!r}"
        raise ContainerError(None, f"{where}: {exc.reason}") from exc


def _is_url(text: str) -> bool:
    from hsi_conform.remote import is_url

    return is_url(text)


def _containers(folder: Path) -> list[Path]:
    """Return the ``*.hsi`` files under ``folder`` (sorted walk, links not followed).

    Raises:
        InputUnreadableError: ``folder`` is not a folder, holds no ``.hsi`` file, or a part of it cannot be read.
    """
    from hsi_conform.validate import expand_inputs

    if not folder.is_dir():
        raise InputUnreadableError(str(folder), "not a folder (refs --combine walks a folder of .hsi files)")
    errors: list[Any] = []
    found = [p for p in expand_inputs([folder], on_error=errors.append)
             if isinstance(p, Path) and p.suffix.lower() == ".hsi" and p.is_file()]
    if errors:
        raise InputUnreadableError(str(folder), f"cannot be walked: {errors[0]}")
    if not found:
        raise InputUnreadableError(str(folder), "holds no .hsi file")
    return found
