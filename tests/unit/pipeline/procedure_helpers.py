"""Containers with ``read procedures`` for the executor's tests: the synthetic scene with the list (and fields) set."""

from __future__ import annotations

from pathlib import Path

import hsi_conform
from hsi_conform.header import parse_header
from hsi_conform.pipeline.output import publish
from hsi_conform.testing.scene import write_scene

#: A tie point for the scene: UTM zone 32 north, 0.5 m pixels.
MAP_INFO = ["UTM", "1", "1", "500000", "4000000", "0.5", "0.5", "32", "North", "WGS-84"]


def scene_with(folder: Path, procedures: list[str], name: str = "scene.hsi", **fields: object) -> Path:
    """Write the scene as ``folder/name`` with ``read procedures`` (none when empty) and further header fields (``_``
    for blanks)."""
    folder.mkdir(parents=True, exist_ok=True)
    plain = write_scene(folder / ".plain.hsi")
    with hsi_conform.open(plain) as c:
        header = parse_header(c.header.to_bytes())
        if procedures:
            header.set("read procedures", procedures)
        else:
            header.remove("read procedures")  # the scene has a list of its own
        for key, value in fields.items():
            header.set(key.replace("_", " "), value)
        path = publish(c, folder / name, header=header)
    plain.unlink()
    return path
