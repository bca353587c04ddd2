"""The pytest plugin of hsi-conform (entry point ``pytest11``): fixtures for tests of ``.hsi`` writers and readers.

Installed with hsi-conform, it gives every project's tests:

- ``hsi_sample_container``: the path of a conformant sample container (references, a preview, a thumbnail,
  metadata), written into the test's own ``tmp_path``, so a test may change it;
- ``hsi_broken_container``: the path of the same container with ``data.envi`` one line short, which
  :func:`hsi_conform.check` reports as ``XRF001`` (ERROR);
- :func:`write_sample` and :func:`write_broken`, which write the same containers anywhere (outside pytest too);
  with :func:`hsi_conform.testing.assert_conformant` to assert on any container.

Loading it costs nothing beyond ``import hsi_conform``: the samples are built on first use, once per session
(spec/python-api.md#pytest-plugin). Disable it with ``-p no:hsi_conform``.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

__all__ = ["BROKEN_RULE", "hsi_broken_container", "hsi_sample_container", "write_broken", "write_sample"]

#: The rule :func:`hsi_broken_container`'s container breaks: its data is shorter than the header says.
BROKEN_RULE = "XRF001"


@functools.cache
def _members(broken: bool) -> dict[str, bytes]:
    from hsi_conform.members import CUBE_DATA
    from hsi_conform.testing.samples import sample_cube, sample_members

    members = sample_members()
    if broken:
        cube = sample_cube()
        line = cube.shape[1] * cube.shape[2] * cube.dtype.itemsize  # BIL: a line holds every band of it
        members[CUBE_DATA] = members[CUBE_DATA][:-line]
    return members


def write_sample(path: str | os.PathLike[str]) -> Path:
    """Write the container of ``hsi_sample_container`` to ``path`` (outside pytest, or for a second copy)."""
    from hsi_conform.testing.samples import write_members

    return write_members(path, _members(False))


def write_broken(path: str | os.PathLike[str]) -> Path:
    """Write the container of ``hsi_broken_container`` (``data.envi`` one line short: ``XRF001``) to ``path``."""
    from hsi_conform.testing.samples import write_members

    return write_members(path, _members(True))


@pytest.fixture
def hsi_sample_container(tmp_path: Path) -> Path:
    """Return a conformant sample ``.hsi`` container (16 lines, 12 samples, 10 bands, BIL) in ``tmp_path``."""
    return write_sample(tmp_path / "sample.hsi")


@pytest.fixture
def hsi_broken_container(tmp_path: Path) -> Path:
    """Return a nonconformant ``.hsi`` container in ``tmp_path``: ``data.envi`` one line short (``XRF001``)."""
    return write_broken(tmp_path / "broken.hsi")
