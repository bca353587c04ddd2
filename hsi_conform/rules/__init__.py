"""The rule registry: every rule is declared once, with the :func:`rule` decorator.

A rule check takes the validation context and yields :class:`~hsi_conform.finding.Problem` objects; the engine
stamps the metadata declared here onto them. ``hsi-conform rules``, ``spec/rules.md`` and the SARIF rule
metadata are all generated from this registry.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hsi_conform.finding import Level, Problem, Severity
from hsi_conform.rules import _retired
from hsi_conform.rules._retired import RetiredRule

__all__ = [
    "AREAS",
    "BUILTIN_RULE_MODULES",
    "DEFAULT_PROFILE",
    "FIX_KINDS",
    "ID_PATTERN",
    "NAME_PATTERN",
    "PROFILES",
    "Check",
    "Registry",
    "RetiredRule",
    "RuleSpec",
    "SkipRule",
    "all_rules",
    "get_rule",
    "isolated_registry",
    "load_builtin_rules",
    "retired_rules",
    "rule",
]

Check = Callable[[Any], Iterable[Problem]]
"""A rule check: takes the validation context, yields problems."""

CheckT = TypeVar("CheckT", bound=Check)

AREAS: tuple[str, ...] = ("ZIP", "LAY", "HDR", "FLD", "XRF", "DAT")
"""Id prefixes, in the order their rules run within a level (archive structure before layout)."""
ID_PATTERN = re.compile(rf"^({'|'.join(AREAS)})\d{{3}}$")
"""A rule id: an area and three digits, e.g. ``HDR015``."""
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
"""A rule name: kebab-case, e.g. ``key-case``."""
PROFILES: tuple[str, ...] = ("exchange", "reader", "strict")
"""The grading profiles; they only re-grade, never change what is detected."""
DEFAULT_PROFILE = PROFILES[0]
"""What a partner may send; used when neither the command line nor a configuration names a profile."""
FIX_KINDS: tuple[str, ...] = ("safe", "unsafe")
"""What ``hsi-conform fix`` may do about a rule's findings (spec/fix.md#safety): ``safe`` changes nothing a reader
could interpret differently; ``unsafe`` needs ``--unsafe``. A rule without a fix declares ``None``."""

# Modules that declare the built-in rules; imported lazily so that importing the registry stays cheap.
BUILTIN_RULE_MODULES: tuple[str, ...] = (
    "hsi_conform.rules.syntax",
    "hsi_conform.rules.container",
    "hsi_conform.rules.layout",
    "hsi_conform.rules.fields",
    "hsi_conform.rules.consistency",
    "hsi_conform.rules.data",
    "hsi_conform.rules.jpegxl",
)


class SkipRule(Exception):
    """Raised by a check whose prerequisites are missing; the engine records the rule as skipped.

    Attributes:
        reason: Why the rule cannot run, e.g. ``"data type is invalid"``.
        needs: The content tier that would run it (``"crc"``, ``"full"``) when the chosen tier is what stops it;
            the text report summarises such skips once per run (spec/cli.md#volume).
    """

    def __init__(self, reason: str, *, needs: str | None = None) -> None:
        self.reason = reason
        self.needs = needs
        super().__init__(reason)


@dataclass(frozen=True)
class RuleSpec:
    """Metadata of one registered rule.

    Attributes:
        id: Stable id, ``<AREA><NNN>`` (e.g. ``"ZIP004"``).
        name: Kebab-case name starting with the area in lower case (e.g. ``"zip-name-traversal"``,
            ``"hdr-key-case"``).
        severity: Default severity.
        level: Level at which the rule runs.
        spec: Spec anchor relative to ``spec/`` (e.g. ``"container.md#stored-members"``).
        summary: First line of the check's docstring.
        check: The check function.
        profile_severity: Default re-grades per profile (e.g. ``{"reader": Severity.WARNING}``).
        old_names: Names the rule had before; selectors, overrides and lookups still accept them.
        fix: ``"safe"`` or ``"unsafe"`` when ``hsi-conform fix`` repairs its findings (spec/fix.md), else None.
        off_in: Profiles under which the rule does not run unless a selector names it (advice a tolerant reader has
            no use for, e.g. the IEEE 4001 camera-metadata rules under ``reader``; spec/metadata-crosswalk.md).
        needs: The lowest content tier the rule runs in (``"crc"`` or ``"full"``), None when it runs in every tier.
            Under a lower tier the engine records it as skipped, with ``needs_reason`` and this tier, without
            calling it (spec/cli.md#content-tier-declared).
        needs_reason: The reason recorded for such a skip (also what the check raises when called directly).
        judged_by: For a rule that reports the issues of one code from a per-context index (the ZIP reader's
            detection codes, the header's diagnostic codes): ``(index, code)``, where ``index(ctx)`` is the
            index by code, computed once per context with ``ctx.shared``. The engine looks the code up and, when
            it is absent (nearly always), records the rule as run without calling it; the check itself gives the
            same answer, and runs whenever the code is present.

    Raises:
        ValueError: If the id, name, summary, spec anchor, profile names or fix kind are malformed.
    """

    id: str
    name: str
    severity: Severity
    level: Level
    spec: str
    summary: str
    check: Check = field(repr=False)
    profile_severity: Mapping[str, Severity] = field(default_factory=dict, compare=False)
    old_names: tuple[str, ...] = field(default=(), compare=False)
    fix: str | None = field(default=None, compare=False)
    off_in: frozenset[str] = field(default=frozenset(), compare=False)
    needs: str | None = field(default=None, compare=False)
    needs_reason: str = field(default="", compare=False)
    judged_by: tuple[Callable[[Any], Collection[str]], str] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _validate(self)

    @functools.cached_property
    def order(self) -> tuple[int, int, str]:
        """Run order: by level, then area (``ZIP`` before ``LAY``), then id."""
        return (self.level.rank, AREAS.index(self.id[:3]), self.id)

    @property
    def regrades(self) -> dict[str, str]:
        """The per-profile defaults by profile, in :data:`PROFILES` order: a severity label, or ``off``."""
        labels = {p: s.label for p, s in self.profile_severity.items()} | dict.fromkeys(self.off_in, "off")
        return {p: labels[p] for p in PROFILES if p in labels}

    @property
    def doc(self) -> str:
        """The full docstring of the check (summary, then valid/error fixtures)."""
        return (self.check.__doc__ or "").strip()


class Registry:
    """A set of rules with unique ids and names.

    Args:
        retired: Tombstones whose ids and names may not be registered.
    """

    def __init__(self, retired: Mapping[str, RetiredRule] | None = None) -> None:
        self._retired = _retired.RETIRED if retired is None else retired
        self._by_id: dict[str, RuleSpec] = {}
        self._by_name: dict[str, RuleSpec] = {}
        self._ordered: tuple[RuleSpec, ...] | None = None

    def add(self, spec: RuleSpec) -> None:
        """Register a rule.

        Raises:
            ValueError: If the id or name is taken or retired.
        """
        retired_names = {r.name for r in self._retired.values()}
        names = (spec.name, *spec.old_names)
        if spec.id in self._retired or retired_names.intersection(names):
            raise ValueError(f"rule {spec.id} [{spec.name}] reuses a retired id or name")
        if spec.id in self._by_id:
            raise ValueError(f"duplicate rule id {spec.id}")
        taken = [n for n in names if n in self._by_name]
        if taken:
            raise ValueError(f"duplicate rule name {taken[0]!r}")
        self._by_id[spec.id] = spec
        for name in names:
            self._by_name[name] = spec
        self._ordered = None

    def rules(self) -> tuple[RuleSpec, ...]:
        """Return all rules, in run order: by level, area, then id.

        The same tuple until a rule is added: every check asks for it, and the engine's plans are keyed by it.
        """
        if self._ordered is None:
            self._ordered = tuple(sorted(self._by_id.values(), key=lambda r: r.order))
        return self._ordered

    def get(self, id_or_name: str) -> RuleSpec:
        """Return the rule with this id (case-insensitive), kebab name or old name.

        Raises:
            KeyError: If there is no such rule.
        """
        found = self._by_id.get(id_or_name.upper()) or self._by_name.get(id_or_name)
        if found is None:
            raise KeyError(f"no rule {id_or_name!r}")
        return found

    @property
    def retired(self) -> Mapping[str, RetiredRule]:
        """The tombstones of this registry, by id."""
        return self._retired

    def __len__(self) -> int:
        return len(self._by_id)


def _validate(spec: RuleSpec) -> None:
    if not ID_PATTERN.match(spec.id):
        raise ValueError(f"rule id {spec.id!r} does not match {ID_PATTERN.pattern}")
    for name in (spec.name, *spec.old_names):
        if not NAME_PATTERN.match(name):
            raise ValueError(f"rule name {name!r} is not kebab-case")
    if not spec.name.startswith(spec.id[:3].lower()):
        raise ValueError(f"rule name {spec.name!r} does not start with its area {spec.id[:3].lower()!r}")
    if not spec.summary:
        raise ValueError(f"rule {spec.id} has no docstring (its first line is the summary)")
    if "#" not in spec.spec:
        raise ValueError(f"rule {spec.id} spec {spec.spec!r} is not a 'file.md#anchor' reference")
    unknown = (set(spec.profile_severity) | spec.off_in) - set(PROFILES)
    if unknown:
        raise ValueError(f"rule {spec.id} re-grades unknown profiles {sorted(unknown)}")
    if spec.fix is not None and spec.fix not in FIX_KINDS:
        raise ValueError(f"rule {spec.id} declares fix {spec.fix!r}; expected one of {FIX_KINDS} or None")
    _validate_needs(spec)


def _validate_needs(spec: RuleSpec) -> None:
    from hsi_conform.rules.context import Content  # the tiers' one home; imported when a rule is declared

    tiers = [c.value for c in Content][1:]  # the lowest tier runs every rule: no rule needs it
    if spec.needs is not None and spec.needs not in tiers:
        raise ValueError(f"rule {spec.id} needs content tier {spec.needs!r}; expected one of {tiers} or None")
    if (spec.needs is None) != (not spec.needs_reason):
        raise ValueError(f"rule {spec.id}: a needed content tier and its skip reason go together")


_GLOBAL = Registry()
_current = _GLOBAL
#: The registry the built-in modules were imported into, and the module list they came from.
_loaded: tuple[Registry, tuple[str, ...]] | None = None


def rule(
    id: str,
    name: str,
    *,
    severity: Severity,
    level: Level,
    spec: str,
    profiles: Mapping[str, Severity] | None = None,
    old_names: tuple[str, ...] = (),
    fix: str | None = None,
    off_in: tuple[str, ...] = (),
    needs: str | None = None,
    needs_reason: str = "",
    judged_by: tuple[Callable[[Any], Collection[str]], str] | None = None,
) -> Callable[[CheckT], CheckT]:
    """Register the decorated check as a rule and return it unchanged.

    Args:
        id: Stable id matching :data:`ID_PATTERN` (an area of :data:`AREAS` and three digits).
        name: Unique kebab-case name, starting with the area in lower case (``hdr-key-case``).
        severity: Default severity (spec "must" → ERROR, "should" → WARNING, advice → INFO).
        level: Level at which the rule runs.
        spec: Spec anchor relative to ``spec/``.
        profiles: Default re-grades per profile, e.g. ``{"reader": Severity.WARNING}``.
        old_names: Earlier names of the rule, still accepted by selectors and lookups.
        fix: ``"safe"`` or ``"unsafe"`` when ``hsi-conform fix`` repairs the rule's findings (a fixer keyed by
            the rule id in :mod:`hsi_conform.fix`), None when it does not.
        off_in: Profiles under which the rule does not run unless a selector names it.
        needs: The lowest content tier the rule runs in (``"crc"``, ``"full"``), None for every tier: under a lower
            tier the engine records the rule as skipped without calling it.
        needs_reason: The reason of that skip (required with ``needs``).
        judged_by: ``(index, code)`` of a rule that reports one code of a per-context index (see
            :class:`RuleSpec`): the engine calls it only when the code is in the index.

    Returns:
        A decorator.

    Raises:
        ValueError: At decoration time, if the metadata is invalid or the id/name is taken or retired.
    """

    def register(check: CheckT) -> CheckT:
        doc = (check.__doc__ or "").strip()
        _current.add(
            RuleSpec(
                id=id,
                name=name,
                severity=severity,
                level=level,
                spec=spec,
                summary=doc.splitlines()[0].strip() if doc else "",
                check=check,
                profile_severity=dict(profiles or {}),
                old_names=old_names,
                fix=fix,
                off_in=frozenset(off_in),
                needs=None if needs is None else str(needs),
                needs_reason=needs_reason,
                judged_by=judged_by,
            )
        )
        return check

    return register


def all_rules() -> tuple[RuleSpec, ...]:
    """Return all registered rules in run order: by level, area (``ZIP`` before ``LAY``), then id."""
    return _current.rules()


def get_rule(id_or_name: str) -> RuleSpec:
    """Return the registered rule with this id or name.

    Raises:
        KeyError: If there is no such rule.
    """
    return _current.get(id_or_name)


def retired_rules() -> Mapping[str, RetiredRule]:
    """Return the retired rules of the current registry, by id."""
    return _current.retired


def load_builtin_rules() -> tuple[RuleSpec, ...]:
    """Import the built-in rule modules (registering their rules once) and return all rules.

    The modules always register into the global registry, also when called inside :func:`isolated_registry`
    (which then keeps returning only its own rules).
    """
    global _current, _loaded
    # Every check calls this: the modules are imported (looked up in sys.modules) once per registry, not per input.
    if _loaded is None or _loaded[0] is not _GLOBAL or _loaded[1] is not BUILTIN_RULE_MODULES:
        saved = _current
        _current = _GLOBAL
        try:
            for module in BUILTIN_RULE_MODULES:
                importlib.import_module(module)
        finally:
            _current = saved
        _loaded = (_GLOBAL, BUILTIN_RULE_MODULES)
    return all_rules()


@contextmanager
def isolated_registry(retired: Mapping[str, RetiredRule] | None = None) -> Iterator[Registry]:
    """Swap in an empty registry for the duration of the block (for tests).

    Args:
        retired: Tombstones for the temporary registry (default: the real ones).

    Yields:
        The temporary registry; rules declared inside the block go there.
    """
    global _current
    saved = _current
    _current = Registry(retired)
    try:
        yield _current
    finally:
        _current = saved
