"""The ``tiff`` converter: profiles ``gdal`` (lossless, one IFD with every band) and ``imagej`` (one page per band).

``gdal``: one planar-separate IFD (``SamplesPerPixel`` = bands), ``GDAL_METADATA`` with each band's wavelength,
FWHM and name, the verbatim header in a private tag, and every other member in a stored ZIP appended after the
TIFF data (the file is also a ZIP), so TIFF -> container restores every member byte for byte.
``imagej``: a hyperstack of one page per band with wavelength slice labels and the header in ``Info``; it
cannot carry the other members, other data types, compression or more than 4 GiB (spec/tiff-mapping.md).
Tags, names and defaults are data: ``converters/tiff.toml``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import struct
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar
from xml.sax.saxutils import escape

import numpy as np

from hsi_conform._atomic import atomic_path
from hsi_conform.container.reader import CubeLayout
from hsi_conform.container.source import SourceFile, map_array
from hsi_conform.container.write import iter_slabs
from hsi_conform.converters._stream import (
    FROM_BSQ,
    TO_BSQ,
    HashThread,
    Scratch,
    band_strips,
    band_values,
    member_layout,
    payload_range,
    safe_value,
)
from hsi_conform.converters.base import (
    NO_OPTIONS,
    Blob,
    ConverterBase,
    HsiDataset,
    Need,
    OptionSpec,
    Payload,
    dataset_members,
    mapping_table,
    optional,
    parse_flag,
    payload_bytes,
    payload_chunks,
    payload_size,
    resolve_options,
)
from hsi_conform.converters.cube_slabs import CubeDigest, check_cube_crc, cube_member_chunks
from hsi_conform.converters.geotiff import geotiff_tags
from hsi_conform.converters.guard import guard_write
from hsi_conform.converters.imagej import derived_thumbnail, imagej_view
from hsi_conform.converters.tiff_image import write_planes
from hsi_conform.errors import ConfigError, ContainerError, ConverterUnavailableError, HsiConformError
from hsi_conform.header import Header, parse_header
from hsi_conform.members import (
    CUBE_DATA,
    CUBE_HEADER,
    MANDATORY,
    MemberKind,
    classify_member,
    data_of,
)

TABLE = mapping_table("tiff")
_T, _G, _ITEMS, _BLOB = TABLE["tags"], TABLE["gdal"], TABLE["gdal"]["items"], TABLE["blob"]
_MANIFEST = ".hsi-tiff/manifest.json"
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
#: Members read back as arrays of the dataset (references and previews); the rest stay bytes.
_ARRAY_HEADERS = (MemberKind.REFERENCE_HEADER, MemberKind.PREVIEW_HEADER)


class TiffConverter(ConverterBase):
    """Multiband TIFF: ``gdal`` profile (lossless, default) or ``imagej`` profile (one page per band)."""

    name: ClassVar[str] = "tiff"
    description: ClassVar[str] = "TIFF: profiles gdal (one IFD, lossless) and imagej (page per band)"
    requires: ClassVar[tuple[str, ...]] = ("tifffile",)
    extra: ClassVar[str | None] = "tiff"
    suffixes: ClassVar[tuple[str, ...]] = tuple(TABLE["format"]["suffixes"])
    write_options: ClassVar[Mapping[str, OptionSpec]] = {
        "profile": OptionSpec(help="gdal: one IFD, lossless; imagej: one page per band, for ImageJ",
                              default="gdal", choices=tuple(TABLE["format"]["profiles"])),
        "compression": OptionSpec(help="zstd needs imagecodecs", parse=optional(str),
                                  choices=("zlib", "zstd"), needs=(Need("profile", ("gdal",)),)),
        "level": OptionSpec(help="compression level (none: the codec's default)", parse=optional(int),
                            needs=(Need("compression"),)),
        "predictor": OptionSpec(help="horizontal differencing (none: on when compressed)",
                                parse=optional(parse_flag), needs=(Need("compression"),)),
        "bigtiff": OptionSpec(help="write BigTIFF (none: automatic above 4 GiB)", parse=optional(parse_flag),
                              needs=(Need("profile", ("gdal",)),)),
        "lossy": OptionSpec(help="imagej profile: write although members would be dropped", default=False,
                            parse=parse_flag, needs=(Need("profile", ("imagej",)),)),
    }

    #: Members whose source CRC-32 the writer checks from the bytes it reads (spec/safety.md#crc-while-copying).
    crc_checked: ClassVar[tuple[str, ...]] = (CUBE_DATA,)

    def can_read(self, source: Path) -> bool:
        """Return whether ``source`` is a TIFF written by this converter (either profile)."""
        if not source.is_file():
            return False
        with open(source, "rb") as f:
            if f.read(4) not in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
                return False
        try:
            with _tifffile().TiffFile(source) as tif:
                return _profile(tif) is not None
        except (OSError, ValueError):
            return False

    def read(self, source: Path, options: Mapping[str, Any] = NO_OPTIONS) -> HsiDataset:
        """Read a TIFF of either profile into the neutral dataset, checking the stored SHA-256 of every member.

        Options: none.

        Raises:
            ContainerError: not written by this converter, or a checksum mismatch.
            ConverterUnavailableError: the compression needs ``imagecodecs``.
            ConfigError: an option.
        """
        self.parsed_read_options(options)
        tifffile = _tifffile()
        scratch = Scratch()
        with tifffile.TiffFile(source) as tif:
            profile = _profile(tif)
            if profile is None:
                raise ContainerError(None, f"{source} carries no ENVI header (not written by hsi-conform)")
            dataset = _read_gdal(source, tif, scratch) if profile == "gdal" else _read_imagej(tif, scratch)
        scratch.bind(dataset)
        return dataset

    def write(self, dataset: HsiDataset, dest: Path, options: Mapping[str, Any] = NO_OPTIONS) -> Path:
        """Write the dataset as a TIFF (published atomically).

        Options (:attr:`write_options`; strings are parsed as on the command line):
            profile: ``"gdal"`` (default) or ``"imagej"``.
            compression: None (default), ``"zlib"`` or ``"zstd"`` (needs ``imagecodecs``); ``gdal`` only.
            level: compression level; predictor: horizontal differencing (default True when compressed).
            bigtiff: None (automatic above 4 GiB), True or False.
            lossy: ``imagej`` only: write although members would be dropped (otherwise ConfigError).

        Raises:
            ConfigError: an unknown option or value, or content the chosen profile cannot carry.
            ConverterUnavailableError: ``zstd`` without ``imagecodecs``.
            OutputIsInputError, MemberNameError, DataBudgetError: see
                :func:`~hsi_conform.converters.guard.guard_write` (nothing is written).
        """
        opts = _options(options)
        guard_write(dataset, (dest,))
        with atomic_path(dest) as tmp:
            if opts["profile"] == "imagej":
                _write_imagej(dataset, tmp, opts)
            else:
                _write_gdal(dataset, tmp, opts)
        return dest


def _tifffile() -> Any:
    if importlib.util.find_spec("tifffile") is None:
        raise ConverterUnavailableError("tiff", ("tifffile",), extra="tiff")
    return importlib.import_module("tifffile")


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    opts = resolve_options(TiffConverter.write_options, options, "tiff writer")
    if opts["compression"] == "zstd" and importlib.util.find_spec("imagecodecs") is None:
        raise ConverterUnavailableError("tiff", ("imagecodecs",), extra="tiff-codecs")
    if opts["profile"] == "imagej" and (opts["compression"] or opts["bigtiff"]):
        raise ConfigError("the imagej profile cannot be compressed nor BigTIFF (ImageJ cannot read them)")
    return opts


# -- gdal profile: writing -----------------------------------------------------------------------------------------
def _write_gdal(dataset: HsiDataset, tmp: Path, opts: dict[str, Any]) -> None:
    tifffile = _tifffile()
    layout = member_layout(CUBE_HEADER, dataset.header)
    cube = dataset.cube if dataset.cube.shape == layout.shape else None
    if cube is None:
        raise ContainerError(CUBE_DATA, "the cube cannot be mapped as an array; the tiff profiles need one")
    view = cube.transpose(TO_BSQ[layout.interleave])
    shape = tuple(int(n) for n in view.shape)
    byteorder = ">" if layout.byte_order else "<"
    # data.envi's SHA-256 and CRC-32: from the writer's own reads when the member is the cube's bytes and the data
    # is copied as it is, else in a pass of their own (a thread, meanwhile).
    digest = CubeDigest()
    fused = dataset.cube_raw is None and opts["compression"] is None
    if not fused:
        digest.feed(cube_member_chunks(dataset))
    bigtiff = opts["bigtiff"]
    if bigtiff is None:
        bigtiff = layout.nbytes > TABLE["format"]["bigtiff_threshold"]
    common = {"shape": shape, "dtype": cube.dtype, "byteorder": byteorder, "bigtiff": bool(bigtiff),
              "planarconfig": "separate", "photometric": "minisblack", "metadata": None,
              "extratags": _extratags(dataset.header, layout, shape[0])}
    if shape[0] == 1:  # one band: a plain 2-D page (tifffile refuses "separate" planes of one sample)
        common.update(shape=shape[1:], planarconfig=None)
    if opts["compression"] is None:
        written: Any = tifffile.imwrite(tmp, None, returnoffset=True, **common)
        write_planes(tmp, cube, layout.interleave, int(written[0]), budget=_G["block_bytes"],
                     digest=digest if fused else None)
    else:
        tile = (_G["tile"], _G["tile"])
        default = cube.dtype.kind == "f" or (cube.dtype.kind in "iu" and cube.dtype.itemsize <= 4)
        predictor = default if opts["predictor"] is None else opts["predictor"]
        try:
            tifffile.imwrite(tmp, _tiles(view, tile), tile=tile, compression=opts["compression"],
                             compressionargs={} if opts["level"] is None else {"level": opts["level"]},
                             predictor=bool(predictor), **common)
        except ValueError as exc:  # tifffile refuses e.g. a predictor for 64-bit integers or complex data
            raise ConfigError(f"tifffile cannot write this combination: {exc}") from exc
    sha, crc = digest.result()
    check_cube_crc(dataset, crc)
    _append_members(tmp, dataset, layout, sha)


def _tiles(view: np.ndarray[Any, Any], tile: tuple[int, int]) -> Iterator[np.ndarray[Any, Any]]:
    """Yield full-size tiles (edge tiles zero-padded: tifffile misreads a partial tile one sample wide)."""
    for strip in band_strips(view, tile[0], _G["block_bytes"]):
        for x in range(0, strip.shape[1], tile[1]):
            part = strip[:, x : x + tile[1]]
            if part.shape == tile:
                yield np.ascontiguousarray(part)
            else:
                padded = np.zeros(tile, dtype=view.dtype)
                padded[: part.shape[0], : part.shape[1]] = part
                yield padded


def _extratags(header: Header, layout: CubeLayout, bands: int) -> list[tuple[int, int, int, Any, bool]]:
    types = TABLE["tag_types"]
    text = header.to_bytes()
    marker = json.dumps({"mapping": TABLE["format"]["mapping"], "members": "appended-zip"}).encode()
    tags = [(_T["gdal_metadata"], types["ascii"], 0, gdal_metadata(header, layout, bands), True),
            (_T["envi_header"], types["undefined"], len(text), text, True),
            (_T["manifest"], types["undefined"], len(marker), marker, True)]
    nodata = safe_value(header, TABLE["header_fields"]["data_ignore_value"])
    if isinstance(nodata, int | float):
        tags.append((_T["gdal_nodata"], types["ascii"], 0, repr(nodata), True))
    return tags + geotiff_tags(header)


def gdal_metadata(header: Header, layout: CubeLayout, bands: int) -> str:
    """Return the ``GDAL_METADATA`` XML: container items and each band's wavelength, FWHM and description."""
    fields = TABLE["header_fields"]
    units = safe_value(header, fields["wavelength_units"])
    waves = band_values(header, fields["wavelength"], bands, float)
    fwhm = band_values(header, fields["fwhm"], bands, float)
    names = band_values(header, fields["band_names"], bands, str)
    items: list[tuple[str, str, int | None, str | None]] = [
        (_ITEMS["interleave"], str(layout.interleave), None, _G["domain"]),
        (_ITEMS["byte_order"], str(int(layout.byte_order)), None, _G["domain"]),
        (_ITEMS["version"], TABLE["format"]["mapping"], None, _G["domain"])]
    text = header.to_text()
    if all(c >= " " or c in "\t\r\n" for c in text):
        items.append((_ITEMS["envi_header"], text, None, _G["domain"]))
    if units is not None:
        items.append((_ITEMS["wavelength_units"], str(units), None, None))
    for key, name in _G["fields"].items():  # kept as written in the header (a list keeps its braces)
        entry = header.get(key)
        if entry is not None:
            items.append((name, entry.value_raw.strip(), None, None))
    factor = _G["micrometres_per_unit"].get(str(units).lower()) if units is not None else None
    for b in range(bands):
        if names is not None or waves is not None:
            label = names[b] if names is not None else f"{waves[b]:g} {units or ''}".strip()  # type: ignore[index]
            items.append((_ITEMS["description"], label, b, None))
        if waves is not None:
            items.append((_ITEMS["wavelength"], repr(waves[b]), b, None))
            if units is not None:
                items.append((_ITEMS["wavelength_units"], str(units), b, None))
            if factor is not None:
                items.append((_ITEMS["central_wavelength_um"], f"{waves[b] * factor:.9g}", b, _G["imagery_domain"]))
        if fwhm is not None:
            items.append((_ITEMS["fwhm"], repr(fwhm[b]), b, None))
            if factor is not None:
                items.append((_ITEMS["fwhm_um"], f"{fwhm[b] * factor:.9g}", b, _G["imagery_domain"]))
    lines = ["<GDALMetadata>"]
    for name, value, sample, domain in items:
        attrs = f' name="{name}"' + (f' sample="{sample}"' if sample is not None else "")
        attrs += ' role="description"' if name == _ITEMS["description"] else ""
        attrs += f' domain="{domain}"' if domain else ""
        lines.append(f"  <Item{attrs}>{escape(value)}</Item>")
    lines.append("</GDALMetadata>")
    return "\n".join(lines).encode("ascii", "xmlcharrefreplace").decode("ascii")


def _append_members(path: Path, dataset: HsiDataset, layout: CubeLayout, cube_sha: str) -> None:
    """Append a stored ZIP of every other member (and the manifest with every SHA-256) after the TIFF data."""
    payloads = dataset_members(dataset)
    names = [n for n in dataset.member_names() if n not in MANDATORY]
    sha: dict[str, str] = {}
    with open(path, "r+b") as f:
        f.seek(0, os.SEEK_END)
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name in names:
                content = payloads[name]
                sha[name] = _zip_add(zf, name, iter_slabs(content) if isinstance(content, np.ndarray)
                                     else payload_chunks(content))
            for name, chunks in _raw_parts(dataset.cube_raw, layout, dataset.cube.nbytes):
                _zip_add(zf, name, chunks)
            sha[CUBE_DATA] = cube_sha
            sha[CUBE_HEADER] = HashThread(iter([dataset.header.to_bytes()])).result()
            manifest = {"mapping": TABLE["format"]["mapping"], "order": dataset.member_names(), "sha256": sha}
            # A ZipInfo dates it 1980-01-01 like the others (a bare name takes the clock): same input, same bytes.
            zf.writestr(zipfile.ZipInfo(_MANIFEST), json.dumps(manifest, indent=1))


def _zip_add(zf: zipfile.ZipFile, name: str, chunks: Iterator[Any]) -> str:
    digest = hashlib.sha256()
    with zf.open(name, "w", force_zip64=True) as out:
        for chunk in chunks:
            out.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def _raw_parts(raw: Payload | None, layout: CubeLayout, nbytes: int) -> Iterator[tuple[str, Iterator[bytes]]]:
    if raw is None:
        return
    size = payload_size(raw)
    if layout.header_offset:
        yield _BLOB["envi_head"], payload_range(raw, 0, layout.header_offset)
    end = layout.header_offset + nbytes
    if size > end:
        yield _BLOB["envi_tail"], payload_range(raw, end, size - end)


# -- gdal profile: reading -----------------------------------------------------------------------------------------
def _profile(tif: Any) -> str | None:
    page = tif.pages.first
    if _T["envi_header"] in page.tags and _T["manifest"] in page.tags:
        return "gdal"
    info = (tif.imagej_metadata or {}).get("Info") if tif.is_imagej else None
    return "imagej" if isinstance(info, str) and info.startswith("ENVI") else None


def _read_gdal(source: Path, tif: Any, scratch: Scratch) -> HsiDataset:
    page = tif.pages.first
    header = parse_header(bytes(page.tags[_T["envi_header"]].value))
    layout = member_layout(CUBE_HEADER, header)
    members, manifest, parts = _read_zip(source)
    cube = _read_cube(source, tif, [page], layout, scratch, parts)
    raw = None
    if parts:
        raw = _with_parts(scratch, cube, parts, layout)
    dataset = HsiDataset(header=header, cube=cube, cube_raw=raw, order=list(manifest.get("order", [])))
    _split_members(dataset, members)
    sha = manifest.get("sha256", {})
    checks = {CUBE_DATA: payload_chunks(raw) if raw is not None else iter_slabs(cube),
              CUBE_HEADER: iter([header.to_bytes()]), **{n: payload_chunks(p) for n, p in members.items()}}
    for name, chunks in checks.items():
        if name in sha and HashThread(chunks).result() != sha[name]:
            raise ContainerError(name, "SHA-256 of the restored member does not match the stored one")
    return dataset


def _read_zip(source: Path) -> tuple[dict[str, Payload], dict[str, Any], dict[str, bytes]]:
    members: dict[str, Payload] = {}
    parts: dict[str, bytes] = {}
    try:
        zf = zipfile.ZipFile(source)
    except zipfile.BadZipFile as exc:
        raise ContainerError(None, f"{source}: the appended member archive is missing or damaged") from exc
    with zf, open(source, "rb") as f:
        manifest = json.loads(zf.read(_MANIFEST))
        for info in zf.infolist():
            if info.filename == _MANIFEST:
                continue
            f.seek(info.header_offset)
            fixed = _LOCAL_HEADER.unpack(f.read(_LOCAL_HEADER.size))
            blob = Blob(source, info.header_offset + _LOCAL_HEADER.size + fixed[-2] + fixed[-1], info.file_size)
            if info.filename in (_BLOB["envi_head"], _BLOB["envi_tail"]):
                parts[info.filename] = blob.read()
            else:
                members[info.filename] = blob
    return members, manifest, parts


def _split_members(dataset: HsiDataset, members: dict[str, Payload]) -> None:
    """Put references and previews back as arrays; keep every other member as bytes."""
    from hsi_conform.converters.base import EnviArray

    for header_name in [n for n in members if classify_member(n).kind in _ARRAY_HEADERS]:
        data_name = data_of(header_name)
        if data_name not in members:
            continue
        header = parse_header(payload_bytes(members[header_name]))
        try:
            layout = CubeLayout.from_header(header)
        except HsiConformError:
            continue
        data = members[data_name]
        if not isinstance(data, Blob) or data.size != layout.nbytes or layout.header_offset:
            continue
        with SourceFile.open(data.file) as f:
            array = map_array(f, layout.dtype, data.offset, layout.shape)
        item = EnviArray(header=header, array=array)
        found = classify_member(header_name)
        if found.reference is not None:
            dataset.references[found.reference] = item
        else:
            dataset.previews[found.lod or ""] = item
        del members[header_name], members[data_name]
    dataset.members.update(members)


def _read_cube(source: Path, tif: Any, pages: list[Any], layout: CubeLayout, scratch: Scratch,
               parts: dict[str, bytes]) -> np.ndarray[Any, Any]:
    """Map the image data in place when possible, else decode it into a scratch file in storage order."""
    dtype = np.dtype(pages[0].dtype).newbyteorder(tif.byteorder)
    bsq = (layout.bands, layout.lines, layout.samples)
    if all(p.is_contiguous and not p.compression > 1 for p in pages) and not parts and dtype == layout.dtype:
        starts = [int(p.dataoffsets[0]) for p in pages]
        step = layout.lines * layout.samples * dtype.itemsize
        if all(s == starts[0] + i * step for i, s in enumerate(starts)):
            with SourceFile.open(source) as f:
                mapped = map_array(f, dtype, starts[0], bsq)
            return mapped.transpose(FROM_BSQ[layout.interleave])
    head = len(parts.get(_BLOB["envi_head"], b""))
    path = scratch.new(head + layout.nbytes + len(parts.get(_BLOB["envi_tail"], b"")))
    array = np.memmap(path, dtype=layout.dtype, mode="r+", offset=head, shape=layout.shape)
    view = array.transpose(TO_BSQ[layout.interleave])
    for number, page in enumerate(pages):
        for segment, index, _shape in page.segments():
            plane, y, x = (number if len(pages) > 1 else index[0]), index[2], index[3]
            h, w = min(segment.shape[1], layout.lines - y), min(segment.shape[2], layout.samples - x)
            view[plane, y : y + h, x : x + w] = segment[0, :h, :w, 0]
    array.flush()
    return array


def _with_parts(scratch: Scratch, cube: np.ndarray[Any, Any], parts: dict[str, bytes], layout: CubeLayout) -> Blob:
    path = Path(cube.filename) if isinstance(cube, np.memmap) and cube.filename else scratch.paths[-1]
    head, tail = parts.get(_BLOB["envi_head"], b""), parts.get(_BLOB["envi_tail"], b"")
    with open(path, "r+b") as f:
        f.write(head)
        f.seek(len(head) + layout.nbytes)
        f.write(tail)
    return Blob(path, 0, len(head) + layout.nbytes + len(tail))


# -- imagej profile ------------------------------------------------------------------------------------------------
def _write_imagej(dataset: HsiDataset, tmp: Path, opts: dict[str, Any]) -> None:
    layout = member_layout(CUBE_HEADER, dataset.header)
    lost = imagej_losses(dataset, layout)
    if lost and not opts["lossy"]:
        raise ConfigError("the imagej profile cannot carry: " + "; ".join(lost) + " (pass lossy=True to drop them)")
    view = dataset.cube.transpose(TO_BSQ[layout.interleave])
    shown = imagej_view(dataset.header, layout.bands)
    digest = CubeDigest(sha256=False)  # its CRC (crc_checked), in a thread while tifffile writes
    digest.feed(cube_member_chunks(dataset))
    _tifffile().imwrite(tmp, band_strips(view, layout.lines, _G["block_bytes"]), shape=view.shape,
                        dtype=view.dtype, byteorder=">" if layout.byte_order else "<", imagej=True,
                        metadata=shown.metadata, resolution=shown.resolution)
    check_cube_crc(dataset, digest.result()[1])
    if shown.note:
        dataset.notes.append(shown.note)


def imagej_losses(dataset: HsiDataset, layout: CubeLayout) -> list[str]:
    """Return what the ``imagej`` profile cannot carry for this dataset (empty: nothing is lost)."""
    lost = []
    if layout.dtype.str[1:] not in TABLE["imagej"]["dtypes"]:
        raise ConfigError(f"the imagej profile holds {TABLE['imagej']['dtypes']} only, not {layout.dtype.str[1:]}")
    if layout.nbytes > TABLE["format"]["bigtiff_threshold"]:
        raise ConfigError("the imagej profile holds at most 4 GiB (ImageJ cannot read BigTIFF)")
    if "\0" in dataset.header.to_text() or dataset.header.bom:
        raise ConfigError("the imagej profile cannot carry this header verbatim (NUL or BOM)")
    others = [n for n in dataset.member_names() if n not in MANDATORY and not derived_thumbnail(dataset, n)]
    if others:
        lost.append("members " + ", ".join(others))
    if dataset.cube_raw is not None:
        lost.append("bytes of data.envi outside the array (header offset or trailing bytes)")
    return lost


def _read_imagej(tif: Any, scratch: Scratch) -> HsiDataset:
    header = parse_header(tif.imagej_metadata["Info"].encode("utf-8"))
    layout = member_layout(CUBE_HEADER, header)
    cube = _read_cube(Path(tif.filehandle.path), tif, list(tif.pages), layout, scratch, {})
    return HsiDataset(header=header, cube=cube, order=list(MANDATORY),
                      notes=["imagej profile: only data.hdr and data.envi are carried"])


# -- helpers -------------------------------------------------------------------------------------------------------
