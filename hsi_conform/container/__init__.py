"""The container layer: strict ZIP structure reader, atomic aligned writer, zero-copy container access."""

from __future__ import annotations

from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container, CubeLayout, MemberInfo
from hsi_conform.container.write import write_container

__all__ = ["Container", "CubeLayout", "MemberInfo", "open_container", "write_container"]
