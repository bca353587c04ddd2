"""The ``hdf5`` converter: the container as an HDF5 file readable by GDAL, xarray and h5py (spec/hdf5-mapping.md).

Every ENVI pair becomes a group holding the verbatim header text and the array as ``(band, y, x)`` with CF-1.10
views beside it (:mod:`~hsi_conform.converters.hdf5_cf`: dimension scales, wavelengths, map coordinates, the grid
mapping); every other member is a ``uint8`` dataset under a group that mirrors its container path. The
reverse read restores every member byte for byte (the cube in its original interleave and byte order) and checks
the stored SHA-256 of each. The cube is read once, in slabs of its storage order, which also give its SHA-256
and the CRC-32 checked against the source (:mod:`~hsi_conform.converters.hdf5_cube`); other writes stream in
blocks, so anonymous memory stays bounded whatever the cube size. h5py cannot recover from a write that fails
inside HDF5 (a full disk crashes the process), so the file is written into space reserved up front for
:func:`output_bound` bytes, and HDF5 truncates it to what it used on close. The paths and names are data:
``converters/hdf5.toml``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hsi_conform._atomic import atomic_path
from hsi_conform._space import reserve
from hsi_conform.container.reader import CubeLayout
from hsi_conform.container.source import SourceFile, map_array
from hsi_conform.container.write import iter_slabs
from hsi_conform.converters._stream import (
    FROM_BSQ,
    TO_BSQ,
    HashThread,
    Scratch,
    aligned_empty,
    block_shape,
    iter_blocks,
    member_layout,
    safe_value,
)
from hsi_conform.converters.base import (
    NO_OPTIONS,
    Blob,
    ConverterBase,
    EnviArray,
    HsiDataset,
    Need,
    OptionSpec,
    Payload,
    mapping_table,
    optional,
    parse_flag,
    payload_chunks,
    payload_size,
    resolve_options,
)
from hsi_conform.converters.cf import CONVENTIONS
from hsi_conform.converters.cube_slabs import CubeDigest, check_cube_crc
from hsi_conform.converters.guard import guard_write
from hsi_conform.converters.hdf5_cf import write_views
from hsi_conform.converters.hdf5_cube import chunk_shape, write_cube, write_raw_parts
from hsi_conform.errors import ConfigError, ContainerError, ConverterUnavailableError
from hsi_conform.header import Header, parse_header
from hsi_conform.members import CUBE_DATA, CUBE_HEADER, DATA_SUFFIX, HEADER_SUFFIX

TABLE = mapping_table("hdf5")
_P, _D, _A, _F = TABLE["paths"], TABLE["datasets"], TABLE["cube_attrs"], TABLE["file_attrs"]


def parse_chunks(text: str) -> str | tuple[int, int, int]:
    """Parse the ``chunks`` option (``none`` is handled by :func:`optional`): ``auto`` or ``BANDS,LINES,SAMPLES``.

    Raises:
        ValueError: anything else.
    """
    word = text.strip().lower()
    if word == "auto":
        return "auto"
    parts = word.split(",")
    if len(parts) != 3:
        raise ValueError(f"expected auto, none or BANDS,LINES,SAMPLES, got {text!r}")
    bands, lines, samples = (int(p) for p in parts)
    return bands, lines, samples


class Hdf5Converter(ConverterBase):
    """HDF5 file in the HSI-HDF5 mapping (GDAL sees the bands, xarray the wavelengths)."""

    name: ClassVar[str] = "hdf5"
    description: ClassVar[str] = "HDF5 (band, y, x) with CF-1.10 views; lossless (spec/hdf5-mapping.md)"
    requires: ClassVar[tuple[str, ...]] = ("h5py",)
    #: The judge leaves data.envi's CRC-32 to the writer, which computes it from the reads it makes anyway
    #: (spec/safety.md#crc-while-copying).
    crc_checked: ClassVar[tuple[str, ...]] = (CUBE_DATA,)
    extra: ClassVar[str | None] = "hdf5"
    suffixes: ClassVar[tuple[str, ...]] = tuple(TABLE["format"]["suffixes"])
    write_options: ClassVar[Mapping[str, OptionSpec]] = {
        "compression": OptionSpec(help="gzip adds shuffle, readable everywhere; zstd and blosc need hdf5plugin "
                                       "(also to read)", parse=optional(str), choices=tuple(TABLE["compression"]),
                                  needs=(Need("chunks"),)),
        "level": OptionSpec(help="compression level (none: the mapping table's for the compression)",
                            parse=optional(int), needs=(Need("compression"),)),
        "chunks": OptionSpec(help="auto: balanced band/spectrum access; none: contiguous, no compression; or "
                                  "BANDS,LINES,SAMPLES", default="auto", parse=optional(parse_chunks),
                             type="auto, none or BANDS,LINES,SAMPLES"),
        "checksum": OptionSpec(help="store the SHA-256 of every member",
                               default=True, parse=parse_flag),
    }

    def can_read(self, source: Path) -> bool:
        """Return whether ``source`` is an HDF5 file written in this mapping (signature and root attribute)."""
        magic = TABLE["format"]["magic"].encode("latin-1")
        if not source.is_file():
            return False
        with open(source, "rb") as f:
            if f.read(len(magic)) != magic:
                return False
        h5py = _h5py()
        try:
            with h5py.File(source, "r") as h5:
                return TABLE["root_attrs"]["mapping"] in h5.attrs
        except OSError:
            return False

    def read(self, source: Path, options: Mapping[str, Any] = NO_OPTIONS) -> HsiDataset:
        """Read an HSI-HDF5 file back into the neutral dataset, checking every member's SHA-256 (options: none).

        Chunked or filtered arrays are decoded into a temporary file (memory-mapped, removed with the dataset);
        contiguous unfiltered ones are mapped in place. Member datasets stay lazy byte ranges of ``source``.

        Raises:
            ContainerError: not this mapping, a missing part, or a checksum mismatch.
            ConverterUnavailableError: a filter needs ``hdf5plugin``, which is not installed.
            ConfigError: an option.
        """
        self.parsed_read_options(options)
        return read_file(_h5py(), source)

    def write(self, dataset: HsiDataset, dest: Path, options: Mapping[str, Any] = NO_OPTIONS) -> Path:
        """Write the dataset as an HSI-HDF5 file (published atomically).

        Options (:attr:`write_options`; strings are parsed as on the command line):
            compression: None (default), ``"gzip"`` (+shuffle; readable everywhere), ``"zstd"`` or ``"blosc"``
                (need ``hdf5plugin``, also to read).
            level: compression level (default from the mapping table).
            chunks: ``"auto"`` (default: balanced band/spectrum access), None (contiguous; no compression), or a
                ``(bands, lines, samples)`` tuple.
            checksum: store the SHA-256 of every member (default True; hashed in a background thread).

        Raises:
            ConfigError: an unknown option or value.
            ConverterUnavailableError: the compression needs ``hdf5plugin``.
            ContainerError: a header of the dataset lacks a layout field.
            OutputIsInputError, MemberNameError, DataBudgetError: see
                :func:`~hsi_conform.converters.guard.guard_write` (nothing is written).
            NoSpaceError: :func:`output_bound` bytes (the uncompressed size) do not fit (nothing is written).
        """
        opts = WriteOptions.parse(options)
        h5py = _h5py()
        guard_write(dataset, (dest,))
        with atomic_path(dest) as tmp:
            with h5py.File(tmp, "w"):
                pass  # an empty HDF5 file, opened again below, keeps the space reserved after its end
            reserve(tmp, output_bound(dataset, opts), dest=dest)
            with h5py.File(tmp, "r+") as h5:
                write_file(h5py, h5, dataset, opts)
        return dest


class WriteOptions:
    """Validated write options."""

    def __init__(self, compression: str | None, level: int | None, chunks: Any, checksum: bool) -> None:
        self.compression = compression
        self.level = level
        self.chunks = chunks
        self.checksum = checksum

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> WriteOptions:
        """Check the options given to :meth:`Hdf5Converter.write` (declared in its ``write_options``).

        Raises:
            ConfigError: unknown option, compression or chunk value.
            ConverterUnavailableError: a plugin compression without ``hdf5plugin``.
        """
        given = resolve_options(Hdf5Converter.write_options, options, "hdf5 writer")
        compression, chunks, level = given["compression"], given["chunks"], given["level"]
        if chunks is None and compression is not None:
            raise ConfigError("hdf5 compression needs chunks (chunks=None means contiguous)")
        if not (chunks in ("auto", None) or (isinstance(chunks, tuple | list) and len(chunks) == 3)):
            raise ConfigError(f"hdf5 chunks must be 'auto', None or (bands, lines, samples), not {chunks!r}")
        opts = cls(compression, None if level is None else int(level), chunks, bool(given["checksum"]))
        opts.filter_kwargs()  # fail early when a plugin is missing
        return opts

    def filter_kwargs(self) -> dict[str, Any]:
        """Return the ``create_dataset`` keyword arguments of the chosen compression."""
        if self.compression is None:
            return {}
        spec = TABLE["compression"][self.compression]
        level = spec["level"] if self.level is None else self.level
        if "plugin" not in spec:
            return {"compression": "gzip", "compression_opts": level, "shuffle": bool(spec.get("shuffle"))}
        plugin = load_plugin(spec["plugin"])
        make = getattr(plugin, spec["filter"])
        if "cname" in spec:
            return dict(make(cname=spec["cname"], clevel=level, shuffle=make.SHUFFLE))
        return dict(make(clevel=level))


def load_plugin(module: str) -> Any:
    """Import the HDF5 filter plugin package (it registers its filters with HDF5 on import).

    Raises:
        ConverterUnavailableError: the package is not installed.
    """
    if importlib.util.find_spec(module) is None:
        raise ConverterUnavailableError("hdf5", (module,), extra="hdf5-plugins")
    return importlib.import_module(module)


def _h5py() -> Any:
    if importlib.util.find_spec("h5py") is None:
        raise ConverterUnavailableError("hdf5", ("h5py",), extra="hdf5")
    return importlib.import_module("h5py")


# -- writing -------------------------------------------------------------------------------------------------------
#: Room for HDF5's own structures: per file, per ENVI pair (scales, attributes), per member, per chunk (its index
#: entry), and per byte of chunked data (deflate's worst case, on data that does not compress).
_FILE_OVERHEAD, _PAIR_OVERHEAD, _MEMBER_OVERHEAD = 1 << 20, 64 << 10, 8 << 10
_CHUNK_OVERHEAD, _FILTER_OVERHEAD = 96, 1 / 64


def output_bound(dataset: HsiDataset, opts: WriteOptions) -> int:
    """Return an upper bound of the size of the dataset's HDF5 file (compression ignored: the space reserved).

    Chunked arrays count whole chunks, as HDF5 stores them: edge chunks are full size.
    """
    pairs = list(envi_pairs(dataset))
    size = _FILE_OVERHEAD + _PAIR_OVERHEAD * len(pairs) + _MEMBER_OVERHEAD * len(dataset.members)
    size += sum(payload_size(p) for p in dataset.members.values())
    for base, header, array, raw in pairs:
        size += 2 * len(header.to_bytes()) + 32 * sum(array.shape)  # the header text, scales and coordinates
        size += max(0, payload_size(raw) - array.nbytes) if raw is not None else 0
        if array.size:
            shape = array.transpose(TO_BSQ[member_layout(base + HEADER_SUFFIX, header).interleave]).shape
            size += _stored_bytes(tuple(int(n) for n in shape), array.dtype.itemsize, opts)
    return size


def _stored_bytes(shape: tuple[int, ...], itemsize: int, opts: WriteOptions) -> int:
    chunks = cube_chunks(shape, itemsize, opts)
    if chunks is None:
        return math.prod(shape) * itemsize
    count = math.prod(-(-n // c) for n, c in zip(shape, chunks, strict=True))
    chunk_bytes = math.prod(chunks) * itemsize
    return count * (chunk_bytes + _CHUNK_OVERHEAD + int(chunk_bytes * _FILTER_OVERHEAD))


def cube_chunks(shape: tuple[int, ...], itemsize: int, opts: WriteOptions) -> tuple[int, ...] | None:
    """Return the chunks of a (band, line, sample) cube under the write options (None: contiguous)."""
    chunks = chunk_shape(shape, itemsize) if opts.chunks == "auto" else opts.chunks
    return None if chunks is None else tuple(min(max(1, int(c)), n) for c, n in zip(chunks, shape, strict=True))


def write_file(h5py: Any, h5: Any, dataset: HsiDataset, opts: WriteOptions) -> None:
    """Write every part of the dataset into an open, empty HDF5 file."""
    h5.attrs[TABLE["root_attrs"]["mapping"]] = TABLE["format"]["mapping"]
    h5.attrs[TABLE["root_attrs"]["conventions"]] = CONVENTIONS
    h5.attrs[TABLE["root_attrs"]["order"]] = np.array(dataset.member_names(), dtype=h5py.string_dtype())
    for base, header, array, raw in envi_pairs(dataset):
        root = base == _P["root_cube"]
        crc = write_envi_group(h5py, h5.require_group(f"{_P['envi']}/{base}"), base, header, array, raw, opts,
                               crc=root)
        if root and crc is not None:
            check_cube_crc(dataset, crc)  # crc_checked: the judge left data.envi's CRC to this writer
    for name, payload in dataset.members.items():
        write_member(h5, name, payload, opts.checksum)


def envi_pairs(dataset: HsiDataset) -> Iterator[tuple[str, Header, np.ndarray[Any, Any], Payload | None]]:
    """Yield ``(container base name, header, array, raw bytes)`` of every ENVI pair of the dataset."""
    yield _P["root_cube"], dataset.header, dataset.cube, dataset.cube_raw
    for key, item in dataset.references.items():
        yield f"{_P['references']}/{key}", item.header, item.array, item.raw
    for lod, item in dataset.previews.items():
        yield (f"{_P['preview']}_{lod}" if lod else _P["preview"]), item.header, item.array, item.raw


def write_envi_group(h5py: Any, group: Any, base: str, header: Header, array: np.ndarray[Any, Any],
                     raw: Payload | None, opts: WriteOptions, *, crc: bool = False) -> int | None:
    """Write one ENVI pair: verbatim header, cube with scales and attributes, bytes that are not the array.

    The data member's SHA-256 (stored when ``opts.checksum``) and, when ``crc`` is asked for, its CRC-32 (returned)
    come from the writer's own reads of the array when the member is the array's bytes
    (spec/hdf5-mapping.md#streaming), else from a thread that reads the member meanwhile.
    """
    text = header.to_bytes()
    if text.count(b"\0") == 0 and _is_utf8(text):
        group.create_dataset(_D["header"], data=text.decode("utf-8"), dtype=h5py.string_dtype("utf-8"))
    else:
        group.create_dataset(_D["header"], data=np.frombuffer(text, dtype=np.uint8))
    layout = member_layout(base + HEADER_SUFFIX, header)
    mapped = array.size > 0 and array.shape == layout.shape
    digest = CubeDigest(sha256=opts.checksum) if opts.checksum or crc else None
    if digest is not None and not (mapped and raw is None):  # the member is not (only) the array's bytes
        digest.feed(payload_chunks(raw) if raw is not None else iter_slabs(array))
    if raw is not None:
        write_raw_parts(group, raw, layout, array if mapped else None)
    if mapped:
        shape = tuple(int(n) for n in array.transpose(TO_BSQ[layout.interleave]).shape)
        cube = write_cube(h5py, group, _D["cube"], array, layout.interleave,
                          chunks=cube_chunks(shape, array.dtype.itemsize, opts), filters=opts.filter_kwargs(),
                          budget=TABLE["chunking"]["block_bytes"], digest=digest if raw is None else None)
    else:
        cube = group.create_dataset(_D["cube"], shape=(0, 0, 0), dtype=np.uint8)
    write_views(h5py, group, cube, header)
    sha, member_crc = digest.result() if digest is not None else ("", None)
    _cube_attrs(cube, base, header, layout, sha if opts.checksum else None)
    return member_crc


def write_member(h5: Any, name: str, payload: Payload, checksum: bool) -> None:
    """Write one member as a contiguous ``uint8`` dataset under the files group (streamed in chunks)."""
    path = f"{_P['files']}/{name}"
    if path in h5:
        raise ContainerError(name, "member path collides with another member in the HDF5 mapping")
    size = payload_size(payload)
    ds = h5.create_dataset(path, shape=(size,), dtype=np.uint8)
    digest = hashlib.sha256()
    pos = 0
    for chunk in payload_chunks(payload):
        data = np.frombuffer(chunk, dtype=np.uint8)
        if data.size:
            ds.write_direct(data, dest_sel=np.s_[pos : pos + data.size])
        digest.update(chunk)
        pos += data.size
    ds.attrs[_F["member"]] = name
    if checksum:
        ds.attrs[_F["sha256"]] = digest.hexdigest()


def _cube_attrs(cube: Any, base: str, header: Header, layout: CubeLayout, sha256: str | None) -> None:
    attrs = {
        "interleave": str(layout.interleave), "byte_order": int(layout.byte_order),
        "data_type": int(layout.data_type), "header_offset": layout.header_offset,
        "data_member": base + DATA_SUFFIX, "header_member": base + HEADER_SUFFIX,
    }
    for key, value in attrs.items():
        cube.attrs[_A[key]] = value
    file_type = safe_value(header, TABLE["header_fields"]["file_type"])
    if file_type is not None:
        cube.attrs[_A["file_type"]] = str(file_type)
    if sha256 is not None:
        cube.attrs[_A["sha256"]] = sha256


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# -- reading -------------------------------------------------------------------------------------------------------
#: HDF5 filters every HDF5 library has (gzip, shuffle, fletcher32, szip, n-bit, scale-offset).
BUILTIN_FILTERS = frozenset({1, 2, 3, 4, 5, 6})


def read_file(h5py: Any, source: Path) -> HsiDataset:
    """Read an open-able HSI-HDF5 file into a dataset (see :meth:`Hdf5Converter.read`)."""
    if importlib.util.find_spec("hdf5plugin") is not None:
        importlib.import_module("hdf5plugin")
    scratch = Scratch()
    with h5py.File(source, "r") as h5:
        if TABLE["root_attrs"]["mapping"] not in h5.attrs:
            raise ContainerError(None, f"{source} is not an {TABLE['format']['mapping']} file")
        order = [str(n) for n in h5.attrs.get(TABLE["root_attrs"]["order"], [])]
        groups = _visit(h5[_P["envi"]], lambda o: hasattr(o, "keys") and _D["header"] in o)
        pairs = {base: read_envi_group(source, base, g, scratch) for base, g in groups.items()}
        members = read_members(source, h5[_P["files"]]) if _P["files"] in h5 else {}
    root = pairs.pop(_P["root_cube"], None)
    if root is None:
        raise ContainerError(CUBE_HEADER, "the HDF5 file has no root ENVI group")
    dataset = HsiDataset(header=root.header, cube=root.array, cube_raw=root.raw, members=members, order=order)
    for base, item in pairs.items():
        parent, _, leaf = base.rpartition("/")
        if parent == _P["references"]:
            dataset.references[leaf] = item
        elif base == _P["preview"] or base.startswith(_P["preview"] + "_"):
            dataset.previews[base[len(_P["preview"]) + 1 :]] = item
        else:
            dataset.notes.append(f"HDF5 group {_P['envi']}/{base} is not a container ENVI pair; skipped")
    scratch.bind(dataset)
    return dataset


def read_envi_group(source: Path, base: str, group: Any, scratch: Scratch) -> EnviArray:
    """Return one ENVI pair: its header, its array in storage order, and its raw member bytes when needed."""
    stored = group[_D["header"]][()]
    header = parse_header(stored if isinstance(stored, bytes) else np.asarray(stored, dtype=np.uint8).tobytes())
    layout = member_layout(base + HEADER_SUFFIX, header)
    cube = group[_D["cube"]]
    _check_filters(cube)
    raw: Payload | None
    if _D["whole"] in group:
        raw = _dataset_payload(source, group[_D["whole"]])
        array: np.ndarray[Any, Any] = np.empty((0, 0, 0), dtype=np.uint8)
    else:
        head = _small_bytes(group, _D["embedded_header"])
        tail = _small_bytes(group, _D["trailing"])
        array, raw = _read_cube(source, cube, layout, scratch, head, tail)
    expected = cube.attrs.get(_A["sha256"])
    if expected is not None:
        actual = HashThread(payload_chunks(raw) if raw is not None else iter_slabs(array)).result()
        if actual != expected:
            raise ContainerError(base + DATA_SUFFIX, "SHA-256 of the restored member does not match the stored one")
    return EnviArray(header=header, array=array, raw=raw)


def read_members(source: Path, files: Any) -> dict[str, Payload]:
    """Return every member dataset under the files group by container path (lazy ranges where possible)."""
    members: dict[str, Payload] = {}
    for rel, ds in _visit(files, lambda o: hasattr(o, "dtype")).items():
        name = str(ds.attrs.get(_F["member"], rel))
        _check_filters(ds)
        payload = _dataset_payload(source, ds)
        expected = ds.attrs.get(_F["sha256"])
        if expected is not None and HashThread(payload_chunks(payload)).result() != expected:
            raise ContainerError(name, "SHA-256 of the restored member does not match the stored one")
        members[name] = payload
    return members


def _visit(group: Any, keep: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def visit(name: str, obj: Any) -> None:  # returning a value would stop h5py's walk
        if keep(obj):
            found[name] = obj

    group.visititems(visit)
    return found


def _read_cube(source: Path, cube: Any, layout: CubeLayout, scratch: Scratch, head: bytes,
               tail: bytes) -> tuple[np.ndarray[Any, Any], Payload | None]:
    offset = cube.id.get_offset() if cube.chunks is None and not _filters(cube) else None
    if offset is not None and not head and not tail and cube.dtype == layout.dtype:
        with SourceFile.open(source) as f:
            mapped = map_array(f, layout.dtype, offset, cube.shape)
        return mapped.transpose(FROM_BSQ[layout.interleave]), None
    path = scratch.new(len(head) + layout.nbytes + len(tail))
    array = np.memmap(path, dtype=layout.dtype, mode="r+", offset=len(head), shape=layout.shape)
    view = array.transpose(TO_BSQ[layout.interleave])
    shape = tuple(int(n) for n in view.shape)
    block = block_shape(shape, cube.chunks or (1, 1, shape[2]), layout.dtype.itemsize,
                        TABLE["chunking"]["block_bytes"])
    buffer = aligned_empty(math.prod(block), layout.dtype)
    for sel in iter_blocks(shape, block):
        out = buffer[: math.prod(s.stop - s.start for s in sel)].reshape([s.stop - s.start for s in sel])
        cube.read_direct(out, source_sel=sel)
        view[sel] = out
    array.flush()
    if not head and not tail:
        return array, None
    with open(path, "r+b") as f:
        f.write(head)
        f.seek(len(head) + layout.nbytes)
        f.write(tail)
    return array, Blob(path, 0, len(head) + layout.nbytes + len(tail))


def _dataset_payload(source: Path, ds: Any) -> Payload:
    offset = ds.id.get_offset() if ds.chunks is None and not _filters(ds) and ds.size else None
    if offset is None:
        return np.asarray(ds[()], dtype=np.uint8).tobytes() if ds.size else b""
    return Blob(source, int(offset), int(ds.size))


def _small_bytes(group: Any, name: str) -> bytes:
    return np.asarray(group[name][()], dtype=np.uint8).tobytes() if name in group else b""


def _filters(ds: Any) -> set[int]:
    plist = ds.id.get_create_plist()
    return {plist.get_filter(i)[0] for i in range(plist.get_nfilters())}


def _check_filters(ds: Any) -> None:
    foreign = _filters(ds) - BUILTIN_FILTERS
    if foreign and importlib.util.find_spec("hdf5plugin") is None:
        raise ConverterUnavailableError("hdf5", ("hdf5plugin",), extra="hdf5-plugins")
