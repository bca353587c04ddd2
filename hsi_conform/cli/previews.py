"""The ``previews`` subcommand of ``hsi-conform``: write levels of detail into a copy of a container.

``hsi-conform previews SRC.hsi DST.hsi [--lods 2,4,8] [--bands 10,20,30|rgb] [--kind mean|mode]`` writes
``preview.envi`` (the coarsest level, longest side at most 256 pixels) and ``preview_<f>.envi`` for each factor,
with their headers; every other member of SRC is copied byte for byte (spec/previews.md#previews).

SRC is judged first as ``convert`` judges a container (refused with its findings, exit ``NONCONFORMANT``, unless
``--allow-nonconformant``); DST is validated and the command exits ``NONCONFORMANT`` when it does not conform.
"""

from __future__ import annotations

import argparse
from typing import Any

from hsi_conform.cli.destinations import add_overwrite, prepare_destination
from hsi_conform.cli.output import output_of
from hsi_conform.cli.stage import judge, validated
from hsi_conform.cli.streams import file_destination, file_source
from hsi_conform.errors import ConfigError, ExitCode
from hsi_conform.pipeline._blocks import KINDS

__all__ = ["add_previews", "cmd_previews", "parse_bands", "parse_lods"]


def add_previews(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform previews``."""
    p = sub.add_parser("previews", help="write preview levels of detail (block means) into a copy of a container",
                       description="Copy SRC to DST with preview.envi (the coarsest level, longest side <= 256 px) and "
                                   "preview_<f>.envi for each factor f: the mean over f x f pixels "
                                   "(spec/previews.md#previews).")
    p.add_argument("source", type=file_source, metavar="SRC.hsi", help="the container to read")
    p.add_argument("dest", type=file_destination, metavar="DST.hsi", help="the container to write")
    p.add_argument("--lods", default="2,4,8", metavar="F,F,...",
                   help="factors of the preview_<f> levels, integers >= 1 (default 2,4,8; '' for preview alone)")
    p.add_argument("--bands", default=None, metavar="B,B,...|rgb",
                   help="1-based bands to keep, or rgb for the thumbnail's display bands (default: all)")
    p.add_argument("--kind", choices=KINDS, default="mean",
                   help="mean for measurements (default), mode for classification and mask data")
    p.add_argument("--allow-nonconformant", action="store_true",
                   help="write previews of a source that does not conform anyway; by default it is refused")
    add_overwrite(p)
    p.set_defaults(run=cmd_previews)


def parse_lods(text: str) -> list[int]:
    """Parse ``--lods``: comma-separated integers >= 1 (an empty text: none).

    Raises:
        ConfigError: an item that is not such an integer.
    """
    return [_positive(item, "--lods") for item in _items(text)]


def parse_bands(text: str | None) -> list[int] | str | None:
    """Parse ``--bands``: None, ``rgb``, or comma-separated 1-based band numbers.

    Raises:
        ConfigError: an item that is not a band number, or no item at all.
    """
    if text is None:
        return None
    if text.strip().lower() == "rgb":
        return "rgb"
    numbers = [_positive(item, "--bands") for item in _items(text)]
    if not numbers:
        raise ConfigError("--bands expects band numbers (1-based) or rgb")
    return numbers


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _positive(item: str, option: str) -> int:
    if not item.isdecimal() or int(item) < 1:
        raise ConfigError(f"{option} expects integers >= 1, got {item!r}")
    return int(item)


def cmd_previews(args: argparse.Namespace) -> ExitCode:
    """Run ``previews``: judge SRC, write DST, validate it; exit ``OK`` when DST conforms."""
    from hsi_conform.pipeline.previews import write_previews

    out = output_of(args)
    lods, bands = parse_lods(args.lods), parse_bands(args.bands)
    with out.activity(f"judging {args.source.name}"):
        judge(args.source, allow_nonconformant=args.allow_nonconformant)
    prepare_destination(args.dest, overwrite=args.overwrite, sources=[args.source])
    with out.activity(f"writing previews of {args.source.name}"):
        written = write_previews(args.source, args.dest, lods=lods, bands=bands, kind=args.kind)
    out.say(f"wrote {written}: preview{''.join(f', preview_{f}' for f in sorted(set(lods)))}")
    return validated(written, out, indent="    ")
