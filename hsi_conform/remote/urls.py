"""Telling a URL from a path, before anything treats the text as a path; storage options from text.

An input is a URL when it starts with a protocol and ``://`` (``https://``, ``s3://``, ``memory://``,
``file://``), possibly chained the fsspec way (``simplecache::s3://...``). It is recognised from the text alone,
without fsspec, and kept exactly as given: ``pathlib`` would turn ``http://host//x.hsi`` into ``http:/host/x.hsi``
(spec/remote.md#urls). A one-letter protocol is a Windows drive (``C://data`` is a path).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from hsi_conform.errors import ConfigError

__all__ = ["is_file_object", "is_url", "parse_storage_option"]

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+(?:::[A-Za-z][A-Za-z0-9+.-]+)*://")
_OPTION_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def is_url(value: object) -> bool:
    """Whether ``value`` is a string naming a URL of some protocol (not a local path)."""
    return isinstance(value, str) and _URL.match(value) is not None


def is_file_object(value: object) -> bool:
    """Whether ``value`` is a readable, seekable file object (an fsspec file, an open file, ``io.BytesIO``)."""
    if isinstance(value, str | bytes | os.PathLike):
        return False
    return callable(getattr(value, "read", None)) and callable(getattr(value, "seek", None))


def parse_storage_option(text: str, source: str | None = None) -> tuple[str, Any]:
    """Parse a command-line ``KEY=VALUE`` storage option.

    The value is read as JSON when it is JSON (``anon=true``, ``block_size=1048576``,
    ``client_kwargs={"region_name": "eu-west-1"}``) and kept as text otherwise (``endpoint_url=http://...``).

    Raises:
        ConfigError: The text is not ``KEY=VALUE`` with a key of letters, digits and ``_.-``.
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or _OPTION_KEY.fullmatch(key) is None:
        raise ConfigError(f"expected a storage option KEY=VALUE, got {text!r}", source)
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value
