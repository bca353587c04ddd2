"""The kerchunk references of one container: its images as zarr arrays over byte ranges (spec/refs.md).

:func:`container_references` maps the cube, the calibration references, the Exploration images and the previews
of an open :class:`~hsi_conform.container.reader.Container` (local or remote) onto their bytes inside the ``.hsi``:
each chunk key is ``[url, offset, length]`` with the offset taken from the member's *local* header (as the strict
reader computes it; the central directory's extra field may differ). Names, dimensions, coordinates and attributes
are those of the xarray engine ``hsi`` (spec/xarray-mapping.md), so ``xr.open_dataset("reference://",
engine="zarr", ...)`` gives the Dataset ``xr.open_dataset(path, engine="hsi")`` gives, plus the previews.
Nothing of the cube is read: only the headers.
"""

from __future__ import annotations

import importlib
import json
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hsi_conform._atomic import publish_text
from hsi_conform._outputs import refuse_output_on_input
from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container, CubeLayout
from hsi_conform.converters.base import mapping_table
from hsi_conform.converters.cf import CONVENTIONS, fill_value
from hsi_conform.errors import (
    ConverterUnavailableError,
    HsiConformError,
    MissingDependencyError,
    OutputUnwritableError,
)
from hsi_conform.header import Header
from hsi_conform.members import CUBE_DATA, DATA_SUFFIX, header_of, preview_stem
from hsi_conform.refs.zarr_v2 import array_meta, chunk_refs, chunk_shape, inline_bytes, json_text
from hsi_conform.remote import is_url

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["CUBE", "TABLE", "Image", "References", "container_references", "references", "require", "write_references"]

TABLE = mapping_table("refs")
_NAMES: dict[str, str] = TABLE["names"]
#: The cube's variable name (the xarray engine's).
CUBE: str = mapping_table("xarray")["names"]["cube"]
#: The CF standard name of the wavelength coordinate (the HDF5 export's).
_WAVELENGTH_STANDARD_NAME: str = mapping_table("hdf5")["cf"]["wavelength_standard_name"]
#: The kerchunk reference-set document: ``{"version": 1, "refs": {key: value}}``.
References = dict[str, Any]


def require(task: str) -> Any:
    """Import and return the xarray engine module (xarray and zarr are needed to write coordinates).

    Raises:
        MissingDependencyError: xarray or zarr is missing (``pip install 'hsi-conform[refs]'``).
    """
    try:
        importlib.import_module("zarr")  # xarray writes the coordinates with it
        return importlib.import_module("hsi_conform.xarray_backend")
    except (ImportError, ConverterUnavailableError) as exc:
        name = getattr(exc, "name", None)
        missing = name if isinstance(name, str) and not name.startswith("hsi_conform") else "xarray"
        raise MissingDependencyError(task, (missing,), extra="refs") from exc


@dataclass(frozen=True, slots=True)
class Image:
    """One ENVI data member as a zarr array.

    Attributes:
        name: The variable name.
        member: The data member.
        dims: Dimension names in storage order.
        layout: Its layout (shape, dtype with byte order, header offset).
        offset: The first byte of its values in the ``.hsi`` (the local header's data offset + header offset).
        attrs: The variable's attributes (``_FillValue`` is the array's ``fill_value`` instead).
        fill: The fill value (``data ignore value`` in the array's dtype), or None.
    """

    name: str
    member: str
    dims: tuple[str, ...]
    layout: CubeLayout
    offset: int
    attrs: dict[str, Any]
    fill: Any


def references(source: str | os.PathLike[str], *, url: str | None = None,
               storage_options: Mapping[str, Any] | None = None, target_bytes: int | None = None) -> References:
    """Return the kerchunk references (version 1) of a ``.hsi`` file or URL (spec/refs.md).

    Args:
        source: A local ``.hsi`` file or expanded container folder, or the URL of a ``.hsi`` (any fsspec
            protocol).
        url: What the references call the container (default: the URL as given, or the absolute path of the file
            or folder).
        storage_options: Options of the URL's filesystem.
        target_bytes: Largest chunk size in bytes (default ``converters/refs.toml``).

    Raises:
        InputUnreadableError: the source cannot be read.
        ContainerError: it is not a readable container, or its cube cannot be mapped (compressed, truncated,
            invalid layout).
        MissingDependencyError: xarray or zarr is missing.
    """
    with open_container(source, storage_options) as container:
        if url is None:
            url = str(source) if is_url(source) else str(Path(source).resolve())
        return container_references(container, url, target_bytes=target_bytes)


def write_references(refs: References, dest: str | os.PathLike[str], *,
                     inputs: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """Publish a reference set as compact JSON at ``dest`` atomically; ``dest`` is never one of ``inputs``.

    Raises:
        OutputIsInputError: ``dest`` is, holds or lies inside an input.
        OutputUnwritableError: ``dest`` cannot be written, e.g. its folder is missing (nothing is left behind).
    """
    refuse_output_on_input([dest], inputs)
    try:
        return publish_text(dest, json.dumps(refs, separators=(",", ":"), allow_nan=False) + "\n")
    except HsiConformError:
        raise
    except OSError as exc:  # named after the destination, not the temp file beside it
        raise OutputUnwritableError.from_os_error(os.fspath(dest), exc) from exc


def container_references(container: Container, url: str, *, target_bytes: int | None = None) -> References:
    """Return the kerchunk references of an open container whose bytes ``url`` serves.

    For an expanded container folder ``url`` is the folder's, and each member is the file ``<url>/<member>``.

    The cube must map (else the error of :meth:`Container.open_array`); a reference, Exploration image or preview
    that does not is left out with a ``RuntimeWarning``, as the xarray engine leaves it out.

    Raises:
        ContainerError: the cube cannot be mapped.
        MissingDependencyError: xarray or zarr is missing.
    """
    engine = require(f"writing references of {container.location}")
    target = int(target_bytes or TABLE["chunks"]["target_bytes"])
    header = container.header
    cube = _image(engine, container, CUBE, CUBE_DATA, header, None)
    coords = _coordinates(engine, header, cube)
    images = [cube, *_extra_images(engine, container, header, cube, coords)]
    skip = frozenset(k for k in engine._PER_BAND if engine._coordinate_name(k) in coords)
    root = engine._header_attrs(header, skip=skip) | {"Conventions": CONVENTIONS}
    refs = _coordinate_refs(coords)
    refs[".zattrs"] = json_text(root | {"coordinates": " ".join(sorted(coords))})
    for image in images:
        # an expanded folder's members are files of their own, under the folder's URL
        refs.update(_image_refs(image, target, url if container.is_zip else f"{url.rstrip('/')}/{image.member}"))
    return {"version": TABLE["format"]["version"], "refs": refs}


def _coordinates(engine: Any, header: Header, cube: Image) -> dict[str, xr.Variable]:
    """Return the engine's band and map coordinates; name the grid mapping on the cube where it applies."""
    coords: dict[str, xr.Variable] = (engine._band_coordinates(header, cube.layout.bands)
                                      | engine._map_coordinates(header, cube.layout))
    if "wavelength" in coords:  # CF's name for it, as in the HDF5 export
        coords["wavelength"] = coords["wavelength"].copy()
        coords["wavelength"].attrs["standard_name"] = _WAVELENGTH_STANDARD_NAME
    image_dims = {engine.TABLE["dims"]["lines"], engine.TABLE["dims"]["samples"]}
    if engine._NAMES["grid_mapping"] in coords and image_dims <= set(cube.dims):
        cube.attrs["grid_mapping"] = engine._NAMES["grid_mapping"]
    return coords


def _extra_images(engine: Any, container: Container, header: Header, cube: Image,
                  coords: Mapping[str, Any]) -> Iterator[Image]:
    """Yield the images beside the cube; one that cannot be mapped or whose name is taken is left out (warning)."""
    sizes = dict(zip(cube.dims, cube.layout.shape, strict=True))
    taken = {cube.name, *coords}
    for name, member in _extra_members(engine, container, header):
        if name in taken:
            warnings.warn(f"{member} left out of the references: the name {name!r} is taken", RuntimeWarning,
                          stacklevel=3)
            continue
        try:
            image = _image(engine, container, name, member, container.read_header(header_of(member)), sizes)
        except HsiConformError as exc:
            warnings.warn(f"{member} left out of the references: {exc}", RuntimeWarning, stacklevel=3)
            continue
        taken.add(name)
        yield image


def _extra_members(engine: Any, container: Container, header: Header) -> Iterator[tuple[str, str]]:
    """Yield (variable name, data member): the engine's references and Exploration images, then the previews."""
    yield from engine._extra_members(container, header)
    for lod in container.previews:
        name = _NAMES["preview_lod"].format(lod=lod) if lod else _NAMES["preview"]
        yield name, preview_stem(lod) + DATA_SUFFIX


def _image(engine: Any, container: Container, name: str, member: str, header: Header,
           sizes: Mapping[str, int] | None) -> Image:
    """Describe one ENVI data member; it is mapped (checked, nothing read) as the xarray engine maps it."""
    container.open_array(member, header)
    layout = CubeLayout.from_header(header)
    dims = engine._dims(layout) if sizes is None else engine._own_dims(name, layout, sizes)
    attrs: dict[str, Any] = {"source_member": member}
    if sizes is not None:
        attrs |= engine._header_attrs(header)
    return Image(name=name, member=member, dims=tuple(dims), layout=layout,
                 offset=container.info(member).offset + layout.header_offset, attrs=attrs,
                 fill=fill_value(header, layout.dtype))


def _image_refs(image: Image, target_bytes: int, url: str) -> dict[str, Any]:
    layout = image.layout
    itemsize = layout.dtype.itemsize
    chunks = chunk_shape(layout.shape, itemsize, target_bytes, int(TABLE["chunks"]["max_chunks"]))
    refs: dict[str, Any] = {
        f"{image.name}/.zarray": json_text(array_meta(layout.shape, chunks, layout.dtype, image.fill)),
        f"{image.name}/.zattrs": json_text(image.attrs | {"_ARRAY_DIMENSIONS": list(image.dims)}),
    }
    refs.update(chunk_refs(image.name, layout.shape, chunks, image.offset, itemsize, url))
    return refs


def _coordinate_refs(coords: Mapping[str, xr.Variable]) -> dict[str, Any]:
    """Return the references of the coordinates, written by xarray's own zarr writer and inlined."""
    import xarray as xr
    import zarr

    written: dict[str, Any] = {}
    store = zarr.storage.MemoryStore(written)
    dataset = xr.Dataset(coords=dict(coords))
    encoding = {name: {"compressors": None, "filters": None, "_FillValue": None} for name in coords}
    dataset.to_zarr(store, mode="w", zarr_format=2, consolidated=False, encoding=encoding)
    refs: dict[str, Any] = {}
    for key, buffer in sorted(written.items()):
        data = buffer.to_bytes()
        if key.rsplit("/", 1)[-1].startswith("."):
            refs[key] = json_text(json.loads(data))
        else:
            refs[key] = inline_bytes(data)
    refs.setdefault(".zgroup", json_text({"zarr_format": 2}))
    return refs
