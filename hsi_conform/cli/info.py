"""``hsi-conform info SRC``: a dataset at a glance, like ``gdalinfo`` or ``rio info`` (spec/cli-tools.md#info).

``--format json`` prints :func:`hsi_conform.info`'s result, which ``spec/info.schema.json`` describes; the text
form shows the same facts, one per line, and the members as a table.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hsi_conform.errors import ExitCode

FORMATS = ("text", "json")


def add_info(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform info``."""
    p = sub.add_parser("info", help="describe a container or any dataset a converter reads",
                       description="Show the layout, wavelengths, georeferencing, members, previews, references, "
                                   "read procedures and thumbnail of SRC: a .hsi file, an expanded folder, a URL, "
                                   "or any format hsi-conform formats lists.")
    p.add_argument("source", metavar="SRC", help="a .hsi file, an expanded folder, a URL or another format's file")
    p.add_argument("--format", choices=FORMATS, default=FORMATS[0], dest="info_format",
                   help="text (default) or json (spec/info.schema.json)")
    p.add_argument("--from", dest="from_format", default=None, metavar="FMT",
                   help="read SRC with this converter (default: detected)")
    p.add_argument("--storage-option", action="append", default=[], metavar="KEY=VALUE", dest="storage_options",
                   help="an fsspec option for a URL (repeatable; VALUE read as JSON when it is JSON)")
    p.set_defaults(run=cmd_info)


def cmd_info(args: argparse.Namespace) -> ExitCode:
    """Run ``info``: print the description; exit ``OK`` (an unreadable source exits with its error's code)."""
    from hsi_conform.converters.info import info
    from hsi_conform.errors import ConfigError, ConverterNotFoundError
    from hsi_conform.remote import parse_storage_option

    storage = dict(parse_storage_option(text) for text in args.storage_options)
    try:
        described = info(args.source, from_format=args.from_format, storage_options=storage or None)
    except ConverterNotFoundError as exc:
        if args.from_format is None or exc.source != args.from_format:
            raise  # no converter reads the source: exit 3, as for any unreadable input
        raise ConfigError(f"unknown format {exc.source!r} (installed: {', '.join(exc.candidates)})") from exc
    if args.info_format == "json":
        sys.stdout.write(json.dumps(described, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(described))
    return ExitCode.OK


def _bytes(n: int) -> str:
    size, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            break
        size /= 1024
    return f"{n} B" if unit == "B" else f"{size:.1f} {unit} ({n} B)"


def _layout_lines(d: dict[str, Any]) -> list[str]:
    layout = d["layout"]
    if layout is None:
        return ["Layout: unreadable (hsi-conform validate says why)"]
    order = "little endian" if layout["byte_order"] == 0 else "big endian"
    lines = [f"Size: {layout['lines']} lines x {layout['samples']} samples x {layout['bands']} bands",
             f"Data type: {layout['data_type']} ({layout['dtype']}), {order}, interleave {layout['interleave']}",
             f"Cube bytes: {_bytes(layout['bytes'])}, header offset {layout['header_offset']}"]
    cube = d["cube"]
    if cube is not None:
        how = "stored" if cube["stored"] else "compressed"
        mapped = "memory-mappable" if cube["mappable"] else "not memory-mappable"
        lines.append(f"Cube member: {cube['member']} at byte {cube['offset']} (aligned to {cube['alignment']} bytes; "
                     f"{how}, {mapped})")
        short = layout["header_offset"] + layout["bytes"] - cube["size"]
        if short > 0:
            lines.append(f"Cube member is {short} bytes shorter than the header describes (hsi-conform validate)")
    return lines


def _georef_line(geo: dict[str, Any] | None) -> str:
    if geo is None:
        return "Georeferencing: none"
    crs = geo["crs"]
    name = "no CRS" if crs is None else crs["name"] + (f" (EPSG:{crs['epsg']})" if crs["epsg"] else "")
    transform = "" if geo["transform"] is None else "; transform " + ", ".join(f"{v:g}" for v in geo["transform"])
    return f"Georeferencing: {name}{transform}"


def render_text(d: dict[str, Any]) -> str:
    """Return the text form of an :func:`~hsi_conform.converters.info.info` result."""
    waves = d["wavelengths"]
    wave_line = ("Wavelengths: none" if waves is None else f"Wavelengths: {waves['count']}, {waves['min']:g} .. "
                 f"{waves['max']:g} {waves['units'] or '(no units)'}")
    previews = ", ".join(f"{p['level'] or 'preview'} {p['lines']}x{p['samples']}x{p['bands']}" for p in d["previews"])
    thumb = d["thumbnail"]
    lines = [f"Source: {d['source']}", f"Format: {d['format']}", *_layout_lines(d), wave_line,
             _georef_line(d["georeferencing"]), f"Previews: {previews or 'none'}",
             f"References: {', '.join(d['references']) or 'none'}",
             f"Read procedures: {'; '.join(d['procedures']) or 'none'}",
             f"Thumbnail: {'none' if thumb is None else str(thumb['width']) + ' x ' + str(thumb['height']) + ' px'}",
             f"Members: {len(d['members'])}"]
    width = max((len(str(m["size"])) for m in d["members"]), default=1)
    kind_width = max((len(m["kind"]) for m in d["members"]), default=1)
    lines += [f"  {m['size']:>{width}}  {m['kind']:<{kind_width}}  {m['name']}" for m in d["members"]]
    return "\n".join(lines) + "\n"
