"""The resource limits: one value object, its defaults, and how the configuration and the CLI spell them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hsi_conform.container.zipread import DEFAULT_LIMITS as ZIP_DEFAULTS
from hsi_conform.container.zipread import ZipLimits
from hsi_conform.errors import ConfigError
from hsi_conform.header import DEFAULT_MAX_BYTES
from hsi_conform.limits import DEFAULT_LIMITS, LIMIT_NAMES, Limits, limits_from_mapping, parse_limit_assignment
from hsi_conform.validate.config import load_limits, read_config


def test_defaults_are_those_of_the_safety_page() -> None:
    documented = Limits(max_entries=10_000, max_cd_size=64 << 20, max_name_bytes=1024, max_component_bytes=255,
                        max_name_depth=64, max_header_bytes=16 << 20)
    assert documented == DEFAULT_LIMITS
    assert ZipLimits is Limits and ZIP_DEFAULTS == DEFAULT_LIMITS  # one place for every limit
    assert DEFAULT_LIMITS.max_header_bytes == DEFAULT_MAX_BYTES
    assert LIMIT_NAMES == ("max-entries", "max-cd-size", "max-name-bytes", "max-component-bytes", "max-name-depth",
                           "max-header-bytes")


@pytest.mark.parametrize(("value", "expected"), [
    (5, 5), ("5", 5), ("64KiB", 64 << 10), ("64 kib", 64 << 10), ("16MiB", 16 << 20), ("2GiB", 2 << 30),
    ("1M", 1_000_000), ("1_000", 1000),
])
def test_values_are_integers_or_quantities(value: object, expected: int) -> None:
    assert limits_from_mapping({"max-header-bytes": value}).max_header_bytes == expected
    assert limits_from_mapping({"max_header_bytes": value}).max_header_bytes == expected


@pytest.mark.parametrize("values", [
    {"max-depth": 3}, {"max-header-bytes": 0}, {"max-header-bytes": -1}, {"max-header-bytes": True},
    {"max-header-bytes": 1.5}, {"max-header-bytes": "16 parsecs"}, {"max-header-bytes": "-5"},
    {"max-header-bytes": "1__0"},
])
def test_bad_limits_are_configuration_errors(values: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        limits_from_mapping(values, source="x.toml")
    with pytest.raises(ConfigError):
        Limits(max_entries=0)


def test_overrides_apply_over_a_base() -> None:
    base = limits_from_mapping({"max-entries": 20})
    both = limits_from_mapping({"max-name-depth": 3}, base=base)
    assert (both.max_entries, both.max_name_depth, both.max_header_bytes) == (20, 3, 16 << 20)


def test_command_line_assignment() -> None:
    assert parse_limit_assignment(" max-name-depth = 8 ") == ("max-name-depth", "8")
    for bad in ("max-name-depth", "=8", "max-name-depth="):
        with pytest.raises(ConfigError):
            parse_limit_assignment(bad)


def test_configuration_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.hsi-conform.limits]\nmax-header-bytes = "1MiB"\nmax-entries = 9\n')
    config = read_config(tmp_path / "pyproject.toml")
    assert (config.limits.max_header_bytes, config.limits.max_entries) == (1 << 20, 9)
    limits = load_limits(tmp_path / "x.hsi", limits={"max-entries": "12"})
    assert (limits.max_header_bytes, limits.max_entries) == (1 << 20, 12)  # the command line wins
    assert load_limits(tmp_path / "x.hsi", isolated=True) == DEFAULT_LIMITS
    (tmp_path / "pyproject.toml").write_text("[tool.hsi-conform]\nlimits = 5\n")
    with pytest.raises(ConfigError, match=r"pyproject\.toml"):
        load_limits(tmp_path / "x.hsi")
    (tmp_path / "pyproject.toml").write_text("[tool.hsi-conform.limits]\nmax-entires = 5\n")
    with pytest.raises(ConfigError, match="max-entires"):
        load_limits(tmp_path / "x.hsi")
