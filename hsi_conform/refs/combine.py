"""One reference set over many containers of the same shape, stacked on a new dimension (spec/refs.md#combine).

Each container's references are made by :func:`~hsi_conform.refs.build.references`; kerchunk's
``MultiZarrToZarr`` stacks them along ``container`` (``converters/refs.toml``), whose coordinate holds each
container's file name. Before kerchunk sees them, the sets are compared: the cube's shape, dtype (with byte order)
and chunks, and every coordinate (wavelengths, map x/y, grid mapping) must be the same in all, or nothing is
written; an image (a reference, a preview...) that is not alike in every container is left out with a warning.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from hsi_conform.errors import DatasetError, InvalidArgumentError, MissingDependencyError
from hsi_conform.refs.build import CUBE, TABLE, References, references, require

__all__ = ["combine", "combine_references"]


def combine_references(sources: Sequence[str | os.PathLike[str]], *, names: Sequence[str] | None = None,
                       storage_options: Mapping[str, Any] | None = None,
                       target_bytes: int | None = None) -> References:
    """Return one reference set stacking the images of ``sources`` (local ``.hsi`` files or URLs).

    Args:
        sources: The containers, in stacking order.
        names: The ``container`` coordinate (default: each source's file name).
        storage_options: Options of the URLs' filesystem.
        target_bytes: Largest chunk size in bytes (default ``converters/refs.toml``).

    Raises:
        InvalidArgumentError: no source, or ``names`` not one per source.
        DatasetError: the containers differ in the cube's shape, dtype or chunks, or in a coordinate.
        InputUnreadableError, ContainerError: a source cannot be read (see :func:`references`).
        MissingDependencyError: kerchunk, zarr or xarray is missing.
    """
    if not sources:
        raise InvalidArgumentError("refs --combine needs at least one container")
    labels = list(names) if names is not None else [PurePosixPath(os.fspath(s).rstrip("/")).name for s in sources]
    if len(labels) != len(sources):
        raise InvalidArgumentError(f"{len(labels)} names for {len(sources)} containers")
    sets = [references(s, storage_options=storage_options, target_bytes=target_bytes) for s in sources]
    return combine(sets, labels)


def combine(sets: Sequence[References], labels: Sequence[str]) -> References:
    """Stack reference sets that describe alike containers (see the module docstring) with kerchunk.

    Raises:
        DatasetError: the sets differ in the cube or a coordinate.
        MissingDependencyError: kerchunk is missing.
    """
    require("combining references")
    try:
        from kerchunk.combine import MultiZarrToZarr
    except ImportError as exc:
        raise MissingDependencyError("combining references", ("kerchunk",), extra="refs") from exc
    kept = _alike(sets, labels)
    dim = TABLE["names"]["stack_dim"]
    urls = [_url(s) for s in sets]
    protocols = {_protocol(u) for u in urls}
    if len(protocols) > 1:
        raise DatasetError(f"the containers are read through different protocols ({', '.join(sorted(protocols))})")
    stacked = MultiZarrToZarr([_only(s, kept) for s in sets], concat_dims=[dim], coo_map={dim: list(labels)},
                              identical_dims=sorted(_coordinates(sets[0])), remote_protocol=protocols.pop(),
                              inline_threshold=0)
    result: References = stacked.translate()
    return result


def _url(refs: References) -> str:
    """Return the URL the first chunk reference of a set points at ("" when the images are empty)."""
    return next((str(v[0]) for v in refs["refs"].values() if isinstance(v, list)), "")


def _protocol(url: str) -> str:
    head, sep, _ = url.partition("://")
    return head if sep and len(head) > 1 else "file"


def _arrays(refs: References) -> dict[str, dict[str, Any]]:
    """Return each array's ``.zarray`` by name."""
    return {key[: -len("/.zarray")]: json.loads(value) for key, value in refs["refs"].items()
            if key.endswith("/.zarray")}


def _coordinates(refs: References) -> set[str]:
    attrs = json.loads(refs["refs"][".zattrs"])
    return set(str(attrs.get("coordinates", "")).split())


def _alike(sets: Sequence[References], labels: Sequence[str]) -> set[str]:
    """Return the arrays to keep; raise when the cube or a coordinate differs."""
    first, cube = _arrays(sets[0]), CUBE
    coords = _coordinates(sets[0])
    kept = set(first)
    for refs, label in zip(sets[1:], labels[1:], strict=True):
        arrays = _arrays(refs)
        if arrays.get(cube) != first.get(cube):
            raise DatasetError(f"its cube is not like the first container's ({labels[0]}): "
                               f"{_describe(arrays.get(cube))} vs {_describe(first.get(cube))}", label)
        if _coordinates(refs) != coords or any(_chunks(refs, c) != _chunks(sets[0], c) for c in coords):
            raise DatasetError(f"its coordinates (wavelengths, map coordinates) differ from {labels[0]}'s", label)
        for name in sorted(kept - {cube} - coords):
            if arrays.get(name) != first[name]:
                warnings.warn(f"{name} left out of the combined references: not alike in {label}", RuntimeWarning,
                              stacklevel=3)
                kept.discard(name)
    return kept


def _describe(zarray: Mapping[str, Any] | None) -> str:
    if zarray is None:
        return "no cube"
    return f"shape {tuple(zarray['shape'])}, dtype {zarray['dtype']}"


def _chunks(refs: References, name: str) -> list[Any]:
    """Return an array's metadata, attributes and chunk values (a coordinate's chunks are inline data)."""
    prefix = name + "/"
    return sorted((k, v) for k, v in refs["refs"].items() if k.startswith(prefix))


def _only(refs: References, kept: set[str]) -> References:
    """Return the set without the arrays not kept (their metadata and chunk keys)."""
    out = {k: v for k, v in refs["refs"].items() if "/" not in k or k.split("/", 1)[0] in kept}
    return {**refs, "refs": out}
