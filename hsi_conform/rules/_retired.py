"""Tombstones: rule ids and names that were retired and must never be reused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["RETIRED", "RetiredRule"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetiredRule:
    """A rule that no longer exists.

    Attributes:
        id: The retired id, e.g. ``"ZIP017"``.
        name: The kebab-case name it had.
        reason: Why it was retired (and what replaces it, if anything).
    """

    id: str
    name: str
    reason: str


# Keyed by id; add entries, never remove them (pylint's _deleted_message_ids).
RETIRED: Mapping[str, RetiredRule] = MappingProxyType({})
