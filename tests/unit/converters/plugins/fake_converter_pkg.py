"""Converter plugins used by tests/converters/test_registry.py (found through the fake dist-info).

``FakeConverter`` satisfies the protocol: a ``.fake`` file is a ``.hsi`` container under another name, and every
``read``/``write`` records the options it received in ``CALLS``. The others do not satisfy it, each in one way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from hsi_conform.converters.base import ConverterBase, HsiDataset, OptionSpec, parse_flag
from hsi_conform.converters.hsi import HsiConverter

#: (``"read"`` or ``"write"``, the options received), in call order.
CALLS: list[tuple[str, dict[str, Any]]] = []


class FakeConverter(ConverterBase):
    name: ClassVar[str] = "fake"
    description: ClassVar[str] = "fake format for registry tests"
    suffixes: ClassVar[tuple[str, ...]] = (".fake",)
    read_options: ClassVar[Mapping[str, OptionSpec]] = {
        "depth": OptionSpec(help="declared by the reader and the writer", default=8, parse=int),
        "strict": OptionSpec(help="a reader-only flag", default=False, parse=parse_flag),
    }
    write_options: ClassVar[Mapping[str, OptionSpec]] = {
        "depth": OptionSpec(help="declared by the reader and the writer", default=8, parse=int),
        "label": OptionSpec(help="a writer-only choice", default="plain", choices=("plain", "fancy")),
    }

    def can_read(self, source: Path) -> bool:
        return source.suffix == ".fake"

    def read(self, source: Path, options: Mapping[str, Any]) -> HsiDataset:
        CALLS.append(("read", dict(options)))
        return HsiConverter().read(source)

    def write(self, dataset: HsiDataset, dest: Path, options: Mapping[str, Any]) -> Path:
        CALLS.append(("write", dict(options)))
        return HsiConverter().write(dataset, dest)


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


class OldStyleConverter:
    """The protocol before options were declared: no option tables, no ``source_files``, ``**options``."""

    name: ClassVar[str] = "oldstyle"
    description: ClassVar[str] = "keyword options, nothing declared"
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    suffixes: ClassVar[tuple[str, ...]] = (".fake", ".old")

    def can_read(self, source: Path) -> bool:
        return True  # would claim everything, were it not skipped

    def read(self, source: Path, **options: Any) -> Any:
        raise AssertionError("a skipped plugin is never called")

    def write(self, dataset: Any, dest: Path, **options: Any) -> Path:
        raise AssertionError("a skipped plugin is never called")


class BadTypesConverter(FakeConverter):
    name: ClassVar[str] = "badtypes"
    suffixes: ClassVar[Any] = [".bad"]  # a list, not a tuple
    write_options: ClassVar[Any] = {"depth": "8"}  # not an OptionSpec


NOT_A_CLASS = FakeConverter()
