"""The version of the installed distribution: one source, ``pyproject.toml``, read through the package metadata."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hsi-conform")
except PackageNotFoundError:  # a source tree imported without installing it
    __version__ = "0+unknown"
