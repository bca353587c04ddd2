"""A converter plugin package used by tests/converters/test_registry.py (found through the fake dist-info)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar


class FakeConverter:
    name: ClassVar[str] = "fake"
    description: ClassVar[str] = "fake format for registry tests"
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    suffixes: ClassVar[tuple[str, ...]] = (".fake",)

    def can_read(self, source: Path) -> bool:
        return source.suffix == ".fake"

    def read(self, source: Path) -> Any:
        raise NotImplementedError

    def write(self, dataset: Any, dest: Path, **options: Any) -> Path:
        raise NotImplementedError


class OtherConverter(FakeConverter):
    description: ClassVar[str] = "the second registration of a duplicated name"


class NeedyConverter(FakeConverter):
    name: ClassVar[str] = "needy"
    description: ClassVar[str] = "needs a module that is not installed"
    requires: ClassVar[tuple[str, ...]] = ("hsi_conform_test_module_that_is_not_installed",)
    extra: ClassVar[str | None] = "needy"
    suffixes: ClassVar[tuple[str, ...]] = (".needy",)

    def can_read(self, source: Path) -> bool:
        return source.suffix == ".needy"
