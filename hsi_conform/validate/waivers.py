"""Waivers: agreed exceptions, kept in the configuration, that take findings out of the verdict.

A waiver names a rule (an id, an id prefix or a name, like ``select``), the inputs it applies to (``paths``:
globs relative to the configuration's folder), why (``reason``, required) and optionally the last day it applies
(``expires``). A waived finding stays in every report, marked as suppressed; an expired waiver no longer waives
and becomes a notice in every report it would apply to (spec/report.md#waivers)::

    [[tool.hsi-conform.waiver]]
    rule = "FLD011"
    paths = ["archive/2019/**"]
    reason = "wavelength units agreed with partner X in 2025"
    expires = "2027-06-30"
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from hsi_conform.errors import ConfigError
from hsi_conform.finding import Notice, Suppression

__all__ = ["WAIVER_KEYS", "Waiver", "glob_pattern", "parse_waivers", "relative_to"]

WAIVER_KEYS: frozenset[str] = frozenset({"rule", "paths", "reason", "expires"})
"""The keys of one ``[[waiver]]`` table."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiver:
    """One waiver of the configuration.

    Attributes:
        rule: The rule it waives: an id, an id prefix or a name.
        reason: Why (required: it becomes the SARIF suppression's justification).
        paths: Globs of the inputs it applies to, relative to the configuration's folder (empty: every input).
        expires: The last day it applies, or None.
        source: The configuration file that holds it (None for a waiver given through the API).

    Raises:
        ConfigError: An empty rule or reason.
    """

    rule: str
    reason: str
    paths: tuple[str, ...] = ()
    expires: date | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        if not self.rule.strip():
            raise ConfigError("a waiver needs a 'rule'", self.source)
        if not self.reason.strip():
            raise ConfigError(f"the waiver of {self.rule} needs a 'reason'", self.source)

    def expired(self, today: date) -> bool:
        """Return whether the waiver no longer applies on ``today`` (it applies through its ``expires`` day)."""
        return self.expires is not None and today > self.expires

    def applies_to(self, relative: str) -> bool:
        """Return whether the input at ``relative`` (POSIX, relative to the configuration's folder) is covered."""
        return not self.paths or any(glob_pattern(p).fullmatch(relative) for p in self.paths)

    def suppression(self) -> Suppression:
        """Return the mark a finding it waives carries."""
        return Suppression(justification=self.reason, source=self.source, expires=self.expires)

    def notice(self) -> Notice:
        """Return the warning an expired waiver gives instead of waiving."""
        when = "" if self.expires is None else f" on {self.expires.isoformat()}"
        return Notice(kind="waiver-expired", source=self.source,
                      message=f"the waiver of {self.rule} expired{when} ({self.reason}); its findings count again")


@functools.lru_cache(maxsize=256)
def glob_pattern(pattern: str) -> re.Pattern[str]:
    """Translate a path glob to a regular expression over POSIX paths.

    ``**`` as a whole segment matches any number of segments (none included: ``a/**/b`` matches ``a/b``, and a
    trailing ``a/**`` matches ``a`` and everything below it); ``*`` matches within one segment, ``?`` one character
    other than ``/``, and ``[...]`` a class, as in :mod:`fnmatch`. Matching is case-sensitive.
    """
    parts: list[str] = []
    for part in pattern.split("/"):
        if part not in ("", ".") and not (part == "**" and parts[-1:] == ["**"]):
            parts.append(part)
    if parts == ["**"]:
        return re.compile(".*", re.DOTALL)
    regex, slash = "", False
    for index, part in enumerate(parts):
        if part == "**":
            if index == 0:
                regex += "(?:[^/]+/)*"  # leading: any segments, each with its slash
            elif index == len(parts) - 1:
                regex += "(?:/.*)?"  # trailing: the folder itself and everything below it
            else:
                regex += "(?:/[^/]+)*"  # inner: any segments between two others
            continue
        regex += ("/" if slash else "") + _segment(part)
        slash = True
    return re.compile(regex, re.DOTALL)


def _segment(part: str) -> str:
    """Translate one segment: ``*``, ``?`` and ``[...]`` never cross a ``/``."""
    out, i = "", 0
    while i < len(part):
        char = part[i]
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[" and (end := part.find("]", i + 2)) != -1:
            body = part[i + 1:end]
            body = "^" + body[1:] if body.startswith("!") else body
            out += f"(?!/)[{body.replace(chr(92), chr(92) * 2)}]"
            i = end
        else:
            out += re.escape(char)
        i += 1
    return out


def relative_to(path: str | os.PathLike[str], folder: Path) -> str:
    """Return ``path`` relative to ``folder`` as a POSIX path (``..`` where it lies outside), links resolved.

    Both are resolved, as the configuration search resolves the input, so that a waiver matches the path the
    configuration was found from.
    """
    here = Path(path).resolve()
    return Path(os.path.relpath(here, folder.resolve())).as_posix()


def _expires(value: object, source: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise ConfigError(f"waiver 'expires' must be a date (YYYY-MM-DD), not {value!r}", source)
    if isinstance(value, date):
        return value
    if not _ISO_DATE.fullmatch(value.strip()):
        raise ConfigError(f"waiver 'expires' must be a date (YYYY-MM-DD), not {value!r}", source)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"waiver 'expires' is not a date: {value!r}", source) from None


def _paths(value: object, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError("waiver 'paths' must be a non-empty list of globs", source)
    return tuple(value)


def _waiver(table: object, source: str) -> Waiver:
    if not isinstance(table, dict):
        raise ConfigError("each [[waiver]] must be a table", source)
    unknown = sorted(set(table) - WAIVER_KEYS)
    if unknown:
        raise ConfigError(f"unknown waiver keys {unknown} (expected {sorted(WAIVER_KEYS)})", source)
    rule, reason = table.get("rule"), table.get("reason")
    if not isinstance(rule, str) or not rule.strip():
        raise ConfigError("a waiver needs a 'rule' (an id, id prefix or name)", source)
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"the waiver of {rule} needs a 'reason' (why the finding is acceptable)", source)
    return Waiver(rule=rule.strip(), reason=reason.strip(), source=source,
                  paths=_paths(table["paths"], source) if "paths" in table else (),
                  expires=_expires(table["expires"], source) if "expires" in table else None)


def parse_waivers(value: object, source: str) -> tuple[Waiver, ...]:
    """Return the waivers of a configuration's ``waiver`` array of tables.

    Whether each rule names a rule is checked with the other selectors (``check_selection``).

    Raises:
        ConfigError: A waiver without ``rule`` or ``reason``, with an unknown key, bad ``paths`` or a bad date.
    """
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError("'waiver' must be an array of tables ([[tool.hsi-conform.waiver]])", source)
    return tuple(_waiver(table, source) for table in value)
