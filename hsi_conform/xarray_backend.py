"""The xarray engine ``hsi``: ``xr.open_dataset("scene.hsi", engine="hsi")`` (spec/xarray-mapping.md).

It opens a ``.hsi`` file or an expanded container folder through :func:`hsi_conform.open` and maps it onto a
Dataset without reading any array: the cube and the references and Exploration images are lazily indexed views of
the container's zero-copy memmaps (spec/container.md#zero-copy), read only when indexed, loaded or computed. Names,
units and chunk sizes are data in ``converters/xarray.toml``.
"""

from __future__ import annotations

import enum
import os
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container, CubeArray, CubeLayout
from hsi_conform.converters.base import mapping_table
from hsi_conform.converters.cf import cf_georeferencing, fill_value
from hsi_conform.errors import ContainerError, ConverterUnavailableError, FieldValueError, HsiConformError
from hsi_conform.fields import BY_KEY, Interleave, wavelength_udunits
from hsi_conform.header import Entry, Header
from hsi_conform.members import (
    CUBE_DATA,
    CUBE_HEADER,
    DATA_SUFFIX,
    EXPLORATION_DIR,
    MemberKind,
    classify_member,
    data_of,
    header_of,
    scope_of,
)

try:
    import xarray as xr
    from xarray.backends import BackendArray, BackendEntrypoint
    from xarray.core import indexing
except ImportError as exc:  # the engine is only registered with xarray, but the module can be imported directly
    raise ConverterUnavailableError("xarray", ("xarray",), extra="xarray") from exc

if TYPE_CHECKING:
    from xarray.backends.common import T_PathFileOrDataStore

__all__ = ["HsiBackendArray", "HsiBackendEntrypoint", "open_hsi_dataset", "preferred_chunks"]

TABLE = mapping_table("xarray")
_NAMES: dict[str, str] = TABLE["names"]
#: ENVI axis names in the storage order of each interleave (the dimension names come from the table).
_AXES = {Interleave.BSQ: ("bands", "lines", "samples"), Interleave.BIL: ("lines", "bands", "samples"),
         Interleave.BIP: ("lines", "samples", "bands")}
#: The per-band fields (fields.py): with one value per band, each becomes a coordinate on the band dimension.
_PER_BAND = tuple(spec.key for spec in BY_KEY.values() if spec.count == "bands")


class _Source:
    """The container one Dataset reads, and the memmap of each of its images.

    The images are mapped when the Dataset opens (a mapping reads nothing) and again on the first read after a
    :meth:`close` or in another process: pickling keeps the path only, never the mapped bytes.
    """

    def __init__(self, path: Path, container: Container | None = None) -> None:
        self.path = path
        self._container = container
        self._maps: dict[str, CubeArray] = {}
        self._lock = threading.Lock()  # dask reads chunks from several threads

    def map(self, member: str, header: Header) -> CubeLayout:
        """Map an ENVI data member now and return its layout.

        Raises:
            ContainerError: the member is missing, compressed or smaller than its header says, or the header's
                layout is invalid.
        """
        with self._lock:
            self._maps[member] = self._open().open_array(member, header)
        return CubeLayout.from_header(header)

    def array(self, member: str, shape: tuple[int, ...]) -> CubeArray:
        """Return the memmap of an ENVI data member, mapping it again when it was released.

        Raises:
            ContainerError: the member's layout is no longer the one the Dataset was opened with.
        """
        with self._lock:
            mapped = self._maps.get(member)
            if mapped is None:
                mapped = self._maps[member] = self._open().open_array(member)
        if mapped.shape != shape:
            raise ContainerError(member, f"changed since it was opened: shape {mapped.shape}, not {shape}")
        return mapped

    def close(self) -> None:
        """Release every map; a later read opens the file again (and finds out if it changed meanwhile)."""
        with self._lock:
            self._maps.clear()
            if self._container is not None:
                self._container.close()
            self._container = None

    def __reduce__(self) -> tuple[type[_Source], tuple[Path]]:
        return _Source, (self.path,)

    def _open(self) -> Container:
        if self._container is None:
            self._container = open_container(self.path)
        return self._container


class HsiBackendArray(BackendArray):
    """One ENVI data member as a lazily indexed array in its storage order, values in native byte order."""

    def __init__(self, source: _Source, member: str, layout: CubeLayout) -> None:
        self.source = source
        self.member = member
        self.shape = layout.shape
        self.dtype = layout.dtype.newbyteorder("=")

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray[Any, Any]:
        # Numpy indexes a memmap with slices, integers and one integer array exactly as outer indexing does;
        # xarray applies the rest of a key (further arrays, vectorized indexing) to what this returns.
        result: np.ndarray[Any, Any] = indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.OUTER_1VECTOR, self._raw_indexing_method)
        return result

    def _raw_indexing_method(self, key: tuple[Any, ...]) -> np.ndarray[Any, Any]:
        view = self.source.array(self.member, self.shape)[key]
        return np.array(view, dtype=self.dtype)  # a copy: a result must not keep the file mapped


class HsiBackendEntrypoint(BackendEntrypoint):
    """The ``hsi`` engine: ``.hsi`` containers and expanded container folders as lazy Datasets."""

    description: ClassVar[str] = "Open HyperImage .hsi containers (and expanded container folders) lazily"
    open_dataset_parameters: ClassVar[tuple[str, ...] | None] = (
        "filename_or_obj", "drop_variables", "mask_and_scale")

    def open_dataset(self, filename_or_obj: T_PathFileOrDataStore, *,
                     drop_variables: str | Iterable[str] | None = None, mask_and_scale: bool = False,
                     ) -> xr.Dataset:
        """Open a container as a Dataset; see :func:`open_hsi_dataset`.

        Raises:
            TypeError: ``filename_or_obj`` is not a path (a memmap needs a file).
            HsiConformError: the container cannot be read (see :func:`hsi_conform.open`).
        """
        if not isinstance(filename_or_obj, str | os.PathLike):
            raise TypeError(f"the hsi engine opens a path, not a {type(filename_or_obj).__name__}")
        return open_hsi_dataset(filename_or_obj, drop_variables=drop_variables, mask_and_scale=mask_and_scale)

    def guess_can_open(self, filename_or_obj: T_PathFileOrDataStore) -> bool:
        """Return True for a path ending in ``.hsi`` (any case) and for a folder holding ``data.hdr``."""
        if not isinstance(filename_or_obj, str | os.PathLike):
            return False
        path = Path(filename_or_obj)
        if path.suffix.lower() in TABLE["format"]["suffixes"]:
            return True
        try:
            return path.is_dir() and (path / CUBE_HEADER).is_file()
        except OSError:  # xarray asks every engine about every input: never fail here
            return False


def open_hsi_dataset(path: str | os.PathLike[str], *, drop_variables: str | Iterable[str] | None = None,
                     mask_and_scale: bool = False) -> xr.Dataset:
    """Open a ``.hsi`` file or an expanded container folder as a lazy Dataset (spec/xarray-mapping.md).

    Args:
        path: the container or folder.
        drop_variables: names of variables or coordinates to leave out.
        mask_and_scale: replace each image's ``data ignore value`` by NaN (CF ``_FillValue`` decoding; integer
            data becomes floating point). Off by default: values stay as stored.

    Raises:
        HsiConformError: the container, ``data.hdr`` or the cube's layout cannot be read. A reference or
            Exploration image that cannot be read is left out with a ``RuntimeWarning``.
    """
    drop = {drop_variables} if isinstance(drop_variables, str) else set(drop_variables or ())
    container = open_container(path)
    source = _Source(container.path, container)
    header = container.header
    layout = source.map(CUBE_DATA, header)
    cube_dims = _dims(layout)
    coords = _band_coordinates(header, layout.bands) | _map_coordinates(header, layout)
    variables = {_NAMES["cube"]: _variable(source, CUBE_DATA, header, layout, cube_dims, coords)}
    sizes = dict(zip(cube_dims, layout.shape, strict=True))
    for name, member in _extra_members(container, header):
        if name in variables or name in coords:  # e.g. Exploration/a/b.envi and Exploration/a_b.envi
            warnings.warn(f"{member} left out of the Dataset: the name {name!r} is taken", RuntimeWarning,
                          stacklevel=2)
        elif name not in drop:
            extra = _extra_variable(source, container, name, member, sizes, coords)
            if extra is not None:
                variables[name] = extra
    coord_names = {k for k in coords if k not in drop}
    attrs = _header_attrs(header, skip=frozenset(k for k in _PER_BAND if _coordinate_name(k) in coords))
    ds = xr.Dataset({k: v for k, v in variables.items() if k not in drop},
                    coords={k: coords[k] for k in coord_names}, attrs=attrs)
    if mask_and_scale:
        ds = _masked(ds)
    ds.set_close(source.close)
    return ds


def preferred_chunks(dims: tuple[str, ...], shape: tuple[int, ...], itemsize: int,
                     target_bytes: int | None = None) -> dict[str, int]:
    """Return dask chunks of whole slabs of the outer storage axis, about ``target_bytes`` each.

    Each chunk is then one contiguous byte range of the member (spec/xarray-mapping.md#laziness).
    """
    target = target_bytes or int(TABLE["chunks"]["target_bytes"])
    slab = itemsize * int(np.prod(shape[1:], dtype=object))
    outer = max(1, min(shape[0], target // max(slab, 1)))
    return {dims[0]: outer} | dict(zip(dims[1:], shape[1:], strict=True))


# -- variables ---------------------------------------------------------------------------------------------------


def _dims(layout: CubeLayout) -> tuple[str, str, str]:
    a, b, c = (TABLE["dims"][axis] for axis in _AXES[layout.interleave])
    return a, b, c


def _variable(source: _Source, member: str, header: Header, layout: CubeLayout, dims: tuple[str, ...],
              coords: Mapping[str, xr.Variable]) -> xr.Variable:
    backend = HsiBackendArray(source, member, layout)
    attrs: dict[str, Any] = {"source_member": member}
    fill = fill_value(header, backend.dtype)
    if fill is not None:
        attrs["_FillValue"] = fill
    if _NAMES["grid_mapping"] in coords and {TABLE["dims"]["lines"], TABLE["dims"]["samples"]} <= set(dims):
        attrs["grid_mapping"] = _NAMES["grid_mapping"]
    encoding = {"preferred_chunks": preferred_chunks(dims, layout.shape, backend.dtype.itemsize)}
    return xr.Variable(dims, indexing.LazilyIndexedArray(backend), attrs, encoding)


def _extra_members(container: Container, header: Header) -> Iterator[tuple[str, str]]:
    """Yield (variable name, data member) of the references and the Exploration images, in container order."""
    classification = _exploration_path(header.value("classification file"))
    classes = _class_names(header)
    for name in container.names:
        kind = classify_member(name)
        if kind.kind is MemberKind.REFERENCE_HEADER and kind.reference:
            yield _NAMES["reference"].format(stem=kind.reference), data_of(name)
        elif kind.kind is MemberKind.EXPLORATION and scope_of(name) is not None:
            data = data_of(name)
            stem = data[len(EXPLORATION_DIR) : -len(DATA_SUFFIX)]
            if data == classification:
                yield _NAMES["classification"], data
            else:
                template = _NAMES["mask"] if stem in classes else _NAMES["exploration"]
                yield template.format(stem=stem.replace("/", "_")), data


def _exploration_path(value: object) -> str | None:
    # spec/consistency.md#classification-file: relative to Exploration/, unless it already starts with it
    if not isinstance(value, str) or not value:
        return None
    return value if value.startswith(EXPLORATION_DIR) else EXPLORATION_DIR + value


def _class_names(header: Header) -> frozenset[str]:
    try:
        return frozenset(header.value("class names") or ())
    except FieldValueError:
        return frozenset()


def _extra_variable(source: _Source, container: Container, name: str, member: str, sizes: Mapping[str, int],
                    coords: Mapping[str, xr.Variable]) -> xr.Variable | None:
    """Return the variable of a reference or Exploration image, or None (with a warning) when it is unreadable."""
    try:
        header = container.read_header(header_of(member))
        layout = source.map(member, header)
    except HsiConformError as exc:
        warnings.warn(f"{member} left out of the Dataset: {exc}", RuntimeWarning, stacklevel=3)
        return None
    dims = _own_dims(name, layout, sizes)
    variable = _variable(source, member, header, layout, dims, coords)
    variable.attrs |= _header_attrs(header)
    return variable


def _own_dims(name: str, layout: CubeLayout, sizes: Mapping[str, int]) -> tuple[str, ...]:
    """Return an extra image's dimensions: the cube's where the lengths agree, its own (``own_dim``) elsewhere."""
    return tuple(dim if sizes.get(dim) == n else _NAMES["own_dim"].format(variable=name, dim=dim)
                 for dim, n in zip(_dims(layout), layout.shape, strict=True))


def _masked(ds: xr.Dataset) -> xr.Dataset:
    """Decode ``_FillValue`` to NaN lazily, as xarray's netCDF engines do with ``mask_and_scale=True``."""
    for name in list(ds.data_vars):
        if "_FillValue" in ds[name].attrs:
            ds[name] = xr.conventions.decode_cf_variable(
                name, ds[name].variable, mask_and_scale=True, decode_times=False, decode_endianness=False,
                stack_char_dim=False, decode_timedelta=False)
    return ds


# -- coordinates ---------------------------------------------------------------------------------------------------


def _coordinate_name(key: str) -> str:
    return key.replace(" ", "_")


def _band_coordinates(header: Header, bands: int) -> dict[str, xr.Variable]:
    """Per-band fields with one value per band as coordinates on the band dimension."""
    units = _wavelength_units(header)
    coords: dict[str, xr.Variable] = {}
    for key in _PER_BAND:
        try:
            values = header.value(key)
        except FieldValueError:
            continue  # kept verbatim in the attrs
        if values is None or len(values) != bands:
            continue
        attrs = {"long_name": TABLE["band_coordinates"].get(key, key)}
        if units and key in ("wavelength", "fwhm"):
            attrs["units"] = units
        coords[_coordinate_name(key)] = xr.Variable(TABLE["dims"]["bands"], np.asarray(values), attrs)
    return coords


def _wavelength_units(header: Header) -> str | None:
    value = header.value("wavelength units")
    return wavelength_udunits(value) if isinstance(value, str) else None


def _map_coordinates(header: Header, layout: CubeLayout) -> dict[str, xr.Variable]:
    """x/y pixel centres and the grid-mapping variable (spec/georeferencing.md#cf, shared with the HDF5 export)."""
    geo = cf_georeferencing(header, layout.lines, layout.samples)
    if geo is None:
        return {}
    coords: dict[str, xr.Variable] = {}
    if geo.x is not None and geo.y is not None:
        coords[TABLE["dims"]["samples"]] = xr.Variable(TABLE["dims"]["samples"], geo.x, geo.x_attrs)
        coords[TABLE["dims"]["lines"]] = xr.Variable(TABLE["dims"]["lines"], geo.y, geo.y_attrs)
    coords[_NAMES["grid_mapping"]] = xr.Variable((), np.int32(0), geo.grid_mapping)
    return coords


# -- attributes ---------------------------------------------------------------------------------------------------


def _header_attrs(header: Header, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every field of a header as a netCDF- and JSON-serialisable attribute, typed where its value parses."""
    attrs: dict[str, Any] = {}
    keys = header.keys()  # each once, in file order; the last of duplicates wins, as in SPy and GDAL
    for key in keys:
        entry = header.get(key)
        if entry is None or key in skip or not key:
            continue
        try:
            value = header.value(key)
        except FieldValueError:
            value = _verbatim(entry)
        attrs[key] = _plain(value)
    return attrs


def _verbatim(entry: Entry) -> str | list[str]:
    return list(entry.items) if entry.items is not None else entry.value_raw


def _plain(value: Any) -> Any:
    """Return enumerations as their numbers or strings, tuples as lists: what netCDF attributes and JSON hold."""
    if isinstance(value, enum.IntEnum):
        return int(value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
