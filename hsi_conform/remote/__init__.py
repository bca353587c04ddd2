"""Remote containers: URLs told from paths, one ranged-read interface, fsspec readers, lazy arrays.

See spec/remote.md. Nothing here imports fsspec until a URL (or an fsspec file object) is opened.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from hsi_conform.remote.array import RemoteArray
from hsi_conform.remote.fsspec_reader import DEFAULT_RETRY, FsspecReader, Retry, open_url
from hsi_conform.remote.ranges import FileObjectReader, RangeReader, coalesce, is_range_reader
from hsi_conform.remote.urls import is_file_object, is_url, parse_storage_option

__all__ = [
    "DEFAULT_RETRY",
    "FileObjectReader",
    "FsspecReader",
    "RangeReader",
    "RemoteArray",
    "Retry",
    "coalesce",
    "is_file_object",
    "is_remote",
    "is_url",
    "open_reader",
    "parse_storage_option",
]


def is_remote(target: object) -> bool:
    """Whether ``target`` is read through :func:`open_reader`: a URL, a file object or a reader, not a local path."""
    # A path is told apart before the runtime-protocol check below, which costs more than opening a container.
    if isinstance(target, str | os.PathLike):
        return isinstance(target, str) and is_url(target)
    return is_url(target) or is_file_object(target) or is_range_reader(target)


def open_reader(target: Any, storage_options: Mapping[str, Any] | None = None, *,
                retry: Retry = DEFAULT_RETRY) -> RangeReader:
    """Open a URL or a file object for ranged reads (a :class:`RangeReader` is returned as it is).

    An fsspec file object (``fsspec.open(url)``, ``fs.open(path)``) is read by ranges through its filesystem,
    like its URL; any other seekable binary file object is read with seek and read.

    Args:
        target: A URL of any fsspec protocol, or a file object.
        storage_options: Options of the URL's filesystem (ignored for a file object).
        retry: How transient failures of remote reads are retried.

    Raises:
        MissingDependencyError: the URL needs a package that is not installed (fsspec, aiohttp, s3fs, ...).
        InputUnreadableError: the URL cannot be opened, or the object cannot be found or read.
        TypeError: ``target`` is neither a URL nor a file object.
    """
    if is_range_reader(target):
        return target
    if is_url(target):
        return open_url(target, storage_options, retry=retry)
    if hasattr(target, "fs") and hasattr(target, "path"):
        reader = FsspecReader.from_file(target, retry=retry)
        reader.size()
        return reader
    if is_file_object(target):
        return FileObjectReader(target)
    raise TypeError(f"expected a URL or a file object, not {type(target).__name__}")
