"""The resource limits of hsi-conform: one frozen value object with every configurable limit and its default.

Every limit bounds the work a hostile input can cause (spec/safety.md#limits). Exceeding one is a finding with a
rule id, never an exception: the strict ZIP reader reports entries, central-directory size and member names, the
validator reports a header member too large to parse. The defaults sit far above any real container.

Limits reach the code from one place each way in: the Python API takes a :class:`Limits` (``CheckOptions(limits=
Limits(max_header_bytes=64 << 20))``), the configuration file a ``[tool.hsi-conform.limits]`` table and the
command line ``--limit NAME=VALUE``; both are read by :func:`limits_from_mapping`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass

from hsi_conform.errors import ConfigError

__all__ = ["DEFAULT_LIMITS", "LIMIT_NAMES", "Limits", "limits_from_mapping", "parse_limit_assignment"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Policy limits; exceeding one is reported as a finding, never raised.

    Attributes:
        max_entries: Most central-directory entries parsed (``ZIP017``).
        max_cd_size: Largest central directory read into memory, in bytes (``ZIP005``).
        max_name_bytes: Longest member name, in encoded bytes (``ZIP039``).
        max_component_bytes: Longest component of a member name, in encoded bytes (``ZIP040``).
        max_name_depth: Most components in a member name (``ZIP051``): ``a/b/c.txt`` has 3.
        max_header_bytes: Largest ENVI header member read and parsed, in bytes (``HDR034``).
    """

    max_entries: int = 10_000
    max_cd_size: int = 64 * 1024 * 1024
    max_name_bytes: int = 1024
    max_component_bytes: int = 255
    max_name_depth: int = 64
    max_header_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"limit {_config_name(f.name)} must be a positive integer, not {value!r}")


DEFAULT_LIMITS = Limits()
"""The defaults (spec/safety.md#limits)."""

LIMIT_NAMES: tuple[str, ...] = tuple(f.name.replace("_", "-") for f in dataclasses.fields(Limits))
"""The names of the limits as the configuration and the command line spell them (``max-header-bytes``)."""

_SUFFIXES = {"": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
             "g": 1000**3, "gb": 1000**3, "gib": 1024**3}
_QUANTITY = re.compile(r"([0-9](?:_?[0-9]){0,17})\s*([a-z]*)", re.ASCII | re.IGNORECASE)


def _config_name(field_name: str) -> str:
    return field_name.replace("_", "-")


def _value(name: str, value: object, source: str | None) -> int:
    if isinstance(value, str):
        m = _QUANTITY.fullmatch(value.strip())
        if m is None or m.group(2).lower() not in _SUFFIXES:
            raise ConfigError(f"limit {name}: {value!r} is not a number of the form 100, 64KiB or 16MiB", source)
        return int(m.group(1)) * _SUFFIXES[m.group(2).lower()]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"limit {name} must be a positive integer, not {value!r}", source)
    return value


def limits_from_mapping(values: Mapping[str, object], *, base: Limits = DEFAULT_LIMITS,
                        source: str | None = None) -> Limits:
    """Return ``base`` with the limits named in ``values`` replaced.

    Args:
        values: Limit names (``max-header-bytes``; ``max_header_bytes`` is accepted too) mapped to positive
            integers or to strings such as ``"16MiB"`` (suffixes k, M, G and KiB, MiB, GiB).
        base: The limits to start from.
        source: The configuration file the values come from (named in errors).

    Raises:
        ConfigError: An unknown limit name, or a value that is not a positive integer.
    """
    changes: dict[str, int] = {}
    for key, value in values.items():
        name = key.strip().lower().replace("_", "-")
        if name not in LIMIT_NAMES:
            raise ConfigError(f"unknown limit {key!r} (expected one of {', '.join(LIMIT_NAMES)})", source)
        changes[name.replace("-", "_")] = _value(name, value, source)
    try:
        return dataclasses.replace(base, **changes)
    except ConfigError as exc:
        raise ConfigError(exc.reason, source) from None


def parse_limit_assignment(text: str) -> tuple[str, str]:
    """Split a command-line ``NAME=VALUE`` limit, e.g. ``"max-header-bytes=64MiB"``.

    Raises:
        ConfigError: If the text is not ``name=value``.
    """
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise ConfigError(f"expected NAME=VALUE for --limit, got {text!r}")
    return name.strip(), value.strip()
