"""The rule engine: runs the levels in order, grades problems into findings and builds the report.

Detection and grading are separate: a rule check only yields problems; the :class:`Policy` (profile,
selection, per-rule overrides, waivers) decides which rules run, how severe their findings are and which of them
are waived.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hsi_conform.errors import (
    ConfigError,
    ExitCode,
    InputUnreadableError,
    MissingDependencyError,
    UnknownSelectorError,
)
from hsi_conform.finding import INTERNAL_ERROR, Finding, Level, Problem, Report, Severity, Skipped, Suppression
from hsi_conform.rules import (
    AREAS,
    DEFAULT_PROFILE,
    NAME_PATTERN,
    PROFILES,
    RetiredRule,
    RuleSpec,
    SkipRule,
    load_builtin_rules,
    retired_rules,
)
from hsi_conform.rules.context import CheckContext, Content
from hsi_conform.validate.waivers import Waiver

__all__ = [
    "MAX_EXCERPT",
    "Policy",
    "check_selection",
    "effective_severity",
    "exit_code",
    "is_selected",
    "layer_overrides",
    "run_rules",
    "unknown_selectors",
]

MAX_EXCERPT = 240
"""Longest excerpt kept in a finding (characters); longer source lines are cut around the column."""

# An id or an id prefix: an area, then up to the three digits of an id.
_ID_PREFIX = re.compile(rf"^(?:{'|'.join(AREAS)})\d{{0,3}}$")
# A name match is as specific as it gets; longer id prefixes beat shorter ones.
_NAME_SPECIFICITY = 100
_SUGGESTIONS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """How rules are selected and graded for one run.

    Attributes:
        profile: ``exchange`` (default), ``reader`` or ``strict``.
        select: Ids, id prefixes (``"ZIP"``, ``"FLD01"``) or names to run; empty means all.
        ignore: Ids, id prefixes or names not to run; the more specific of select/ignore wins.
        severity_overrides: Per id, id prefix or name: the severity to report instead.
        fail_on: Lowest severity that makes a file nonconformant.
        waivers: Waivers that apply to the input: a finding of a rule one names is marked suppressed and leaves
            the verdict; an expired one only gives a notice (spec/report.md#waivers).
        today: The day waivers expire against (None: the local date when the rules run).
        config: The configuration file the policy was read from, if any (named in the reports).

    Raises:
        ConfigError: If the profile is unknown or a selector is malformed (:class:`UnknownSelectorError`, with
            the nearest rule ids and names). Whether the selectors name rules is checked when the policy is
            used (:func:`check_selection`).
    """

    profile: str = DEFAULT_PROFILE
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    # A plain dict (not a mappingproxy) so that the policy pickles for parallel batch workers.
    severity_overrides: Mapping[str, Severity] = field(default_factory=dict)
    fail_on: Severity = Severity.ERROR
    waivers: tuple[Waiver, ...] = ()
    today: date | None = None
    config: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity_overrides", dict(self.severity_overrides))
        object.__setattr__(self, "waivers", tuple(self.waivers))
        if self.profile not in PROFILES:
            raise ConfigError(f"unknown profile {self.profile!r} (expected one of {', '.join(PROFILES)})")
        for selector in (*self.select, *self.ignore, *self.severity_overrides, *(w.rule for w in self.waivers)):
            normal = _normalise(selector)
            if not (_ID_PREFIX.match(normal) or NAME_PATTERN.match(normal)):
                raise _unknown(selector, load_builtin_rules(), retired_rules())


def _normalise(selector: str) -> str:
    """Upper-case id-like selectors so ``zip004`` and ``ZIP004`` mean the same rule."""
    upper = selector.upper()
    return upper if _ID_PREFIX.match(upper) else selector


def _specificity(selector: str, rule: RuleSpec) -> int:
    """How specifically ``selector`` names ``rule`` (-1 when it does not)."""
    if selector == rule.name or selector in rule.old_names:
        return _NAME_SPECIFICITY
    normal = _normalise(selector)
    return len(normal) if rule.id.startswith(normal) and normal.isupper() else -1


def _best_match(selectors: Iterable[str], rule: RuleSpec) -> int:
    return max((_specificity(s, rule) for s in selectors), default=-1)


def is_selected(rule: RuleSpec, policy: Policy) -> bool:
    """Return whether the policy runs ``rule``: the most specific matching select/ignore entry decides.

    A rule that is off under the policy's profile (:attr:`RuleSpec.off_in`) runs only when a select entry names it
    by id or name (an area or id prefix does not).
    """
    selected = _best_match(policy.select, rule) if policy.select else 0
    if policy.profile in rule.off_in and selected < min(len(rule.id), _NAME_SPECIFICITY):
        return False
    return selected >= 0 and selected > _best_match(policy.ignore, rule)


def effective_severity(rule: RuleSpec, policy: Policy) -> Severity:
    """Grade a rule: default, then the profile's re-grade, then the most specific user override.

    Args:
        rule: The rule.
        policy: Profile and overrides.

    Returns:
        The severity its findings get.
    """
    severity = rule.severity
    if policy.profile in rule.profile_severity:
        severity = rule.profile_severity[policy.profile]
    elif policy.profile == "strict" and severity == Severity.WARNING:
        severity = Severity.ERROR
    key = _best_key(policy.severity_overrides, rule)
    return severity if key is None else policy.severity_overrides[key]


def layer_overrides(lower: Mapping[str, Severity], upper: Mapping[str, Severity],
                    rules: Sequence[RuleSpec] | None = None) -> dict[str, Severity]:
    """Merge two layers of re-grades so that the upper layer decides every rule it names.

    A plain key merge would let a more specific lower key beat a broader upper one (a file's
    ``HDR015 = "warning"`` over a command line's ``--severity HDR=error``). So a lower key that shares a rule
    with an upper key keeps grading only the rules no upper key names, spelled out by id.

    Args:
        lower: The re-grades that give way (the configuration file's).
        upper: The re-grades that win (the command line's).
        rules: The rules they grade (default: every registered rule, built-ins loaded).

    Returns:
        One mapping for :attr:`Policy.severity_overrides`; a key that matches no rule is kept, so that
        :func:`check_selection` still refuses it.
    """
    rules = load_builtin_rules() if rules is None else tuple(rules)
    named = {r.id for r in rules if _best_match(upper, r) >= 0}
    merged: dict[str, Severity] = {}
    for key, severity in lower.items():
        if key in upper:
            continue
        hits = [r for r in rules if _specificity(key, r) >= 0]
        if not any(r.id in named for r in hits):
            merged[key] = severity
            continue
        for rule in hits:
            if rule.id not in named and _best_key(lower, rule) == key:
                merged[rule.id] = severity
    merged.update(upper)
    return merged


def _best_key(selectors: Iterable[str], rule: RuleSpec) -> str | None:
    """Return the most specific selector naming ``rule`` (the first of equals), or None when none does."""
    best, chosen = -1, None
    for selector in selectors:
        score = _specificity(selector, rule)
        if score > best:
            best, chosen = score, selector
    return chosen


def unknown_selectors(policy: Policy, rules: Sequence[RuleSpec]) -> tuple[str, ...]:
    """Return the selectors, override keys and waived rules of ``policy`` that match none of ``rules`` (typos)."""
    keys = (*policy.select, *policy.ignore, *policy.severity_overrides, *(w.rule for w in policy.waivers))
    return tuple(k for k in dict.fromkeys(keys) if all(_specificity(k, r) < 0 for r in rules))


#: Selections :func:`check_selection` found good, by selectors and the identity of the rules they were judged against.
_GOOD_SELECTIONS: dict[tuple[object, ...], tuple[RuleSpec, ...]] = {}


def check_selection(policy: Policy, rules: Sequence[RuleSpec] | None = None,
                    retired: Mapping[str, RetiredRule] | None = None) -> None:
    """Refuse a policy whose selectors match no rule, or whose selection leaves no rule to run.

    A prefix (``HDR``, ``HDR0``) is fine when it matches at least one rule.

    Args:
        policy: The policy to check.
        rules: The rules it selects from (default: every registered rule, built-ins loaded).
        retired: The tombstones (default: the current registry's).

    Raises:
        UnknownSelectorError: A selector or severity key matches no rule; it carries the nearest rule ids and
            names, or why the rule it names was retired.
        ConfigError: The selection leaves no rule to run.
    """
    rules = load_builtin_rules() if rules is None else tuple(rules)
    # A batch builds one policy per input from the same selectors: a selection found good is not judged again.
    key = (policy.profile, tuple(policy.select), tuple(policy.ignore), tuple(policy.severity_overrides),
           tuple(w.rule for w in policy.waivers), id(rules))
    if _GOOD_SELECTIONS.get(key) is rules:
        return
    unknown = unknown_selectors(policy, rules)
    if unknown:
        raise _unknown(unknown[0], rules, retired_rules() if retired is None else retired)
    if not any(is_selected(r, policy) for r in rules):
        raise ConfigError(f"the selection leaves no rule to run (select {list(policy.select) or 'all'}, "
                          f"ignore {list(policy.ignore)})")
    if len(_GOOD_SELECTIONS) >= _MAX_PLANS:
        _GOOD_SELECTIONS.clear()
    _GOOD_SELECTIONS[key] = rules  # kept alive with its key, so that its id is not reused while cached


def _unknown(selector: str, rules: Sequence[RuleSpec], retired: Mapping[str, RetiredRule]) -> UnknownSelectorError:
    """Build the error for a selector that matches no rule: why it was retired, or the nearest ids and names."""
    normal = _normalise(selector)
    tombstone = retired.get(normal) or next((r for r in retired.values() if r.name == selector), None)
    if tombstone is not None:
        return UnknownSelectorError(selector, retired=tombstone.reason)
    # Ids compare upper-case and names lower-case, so "hdr999" and "Key_Case" still find their neighbours.
    probe = normal if _ID_PREFIX.match(normal) else selector.lower()
    known = [r.id for r in rules] + [r.name for r in rules]
    return UnknownSelectorError(selector, difflib.get_close_matches(probe, known, n=_SUGGESTIONS))


@dataclass(slots=True)
class _Run:
    """Mutable state of one engine run."""

    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    rules_run: list[str] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)


def _stamp(rule: RuleSpec, severity: Severity, problem: Problem, suppression: Suppression | None) -> Finding:
    return Finding(
        rule=rule.id,
        name=rule.name,
        severity=severity,
        level=rule.level,
        spec=rule.spec,
        message=problem.message,
        location=problem.location.trimmed(MAX_EXCERPT),
        details=problem.details,
        suppression=suppression,
    )


def _suppression(rule: RuleSpec, waivers: Sequence[Waiver]) -> Suppression | None:
    """Return the mark of the most specific waiver naming ``rule`` (the first of equals), or None."""
    best = _best_key((w.rule for w in waivers), rule)
    return next((w.suppression() for w in waivers if w.rule == best), None)


def _run_level(graded: tuple[_Graded, ...], context: object, run: _Run, waivers: Sequence[Waiver]) -> str | None:
    """Run the rules of one level into ``run``; return a cascade reason when one found something FATAL.

    The loop every rule of every input goes through: a rule that finds nothing (most of them) costs one call,
    one list and one append. A rule planned without a severity needs a higher content tier: it is recorded as
    skipped, as its own check would have raised (spec/cli.md#content-tier-declared), without being called. A rule
    judged by a code (:attr:`RuleSpec.judged_by`) is called only when its code is in the context's index: some
    eighty rules of every input report one detection or diagnostic code each, which nearly no input has.
    """
    cascade = None
    rules_run = run.rules_run
    shared = getattr(context, "shared", None)
    for rule, severity, judged_by in graded:
        if severity is None:
            run.skipped.append(Skipped(rule.id, rule.needs_reason, needs=rule.needs))
            continue
        try:
            if judged_by is not None and shared is not None and judged_by[1] not in shared(judged_by[0]):
                rules_run.append(rule.id)
                continue
            found = rule.check(context)
            # A rule that returns a list (most rules that find nothing) is not copied; a generator is drained here.
            problems = found if type(found) is list else list(found)
        except (InputUnreadableError, MissingDependencyError):
            raise  # the input failed (cut short, a remote read that kept failing), or cannot be checked here
        except Exception as exc:  # a skip, or a crash: a bug in the tool, never a reason to abort the run
            _not_run(rule, exc, run)
            continue
        rules_run.append(rule.id)
        if problems:
            cascade = _found(rule, severity, problems, run, waivers) or cascade
    return cascade


def _not_run(rule: RuleSpec, exc: Exception, run: _Run) -> None:
    """Record a rule that skipped (:class:`SkipRule`) or crashed."""
    if isinstance(exc, SkipRule):
        run.skipped.append(Skipped(rule.id, exc.reason, needs=exc.needs))
        return
    detail = f"{type(exc).__name__}: {exc}"
    run.internal_errors.append(f"{rule.id} [{rule.name}]: {detail}")
    run.skipped.append(Skipped(rule.id, f"{INTERNAL_ERROR}: {detail}"))


def _found(rule: RuleSpec, severity: Severity, problems: list[Problem], run: _Run,
           waivers: Sequence[Waiver]) -> str | None:
    """Grade the problems of a rule into findings; return a cascade reason when they are FATAL."""
    suppression = _suppression(rule, waivers)
    run.findings.extend(_stamp(rule, severity, p, suppression) for p in problems)
    # A waived or re-graded FATAL rule still means the input cannot feed the later levels.
    if Severity.FATAL in (severity, rule.severity):
        return f"{rule.id} [{rule.name}] found a fatal problem at level {rule.level.value}"
    return None


#: A planned rule: the rule, its severity (None: skipped for the content tier) and what judges it by a code.
_Graded = tuple[RuleSpec, Severity | None, tuple[Callable[[Any], Collection[str]], str] | None]
_Plan = tuple[tuple[Level, tuple[_Graded, ...]], ...]
#: The content tiers by rank, lowest first (``Content``'s order).
_TIER_RANK: dict[str, int] = {c.value: i for i, c in enumerate(Content)}
#: Plans by policy (what selects and grades) and rules. A batch checks every input with the same policy: the
#: selection is checked, made and graded once, not once per input. The registry hands out the same tuple of rules
#: until one is added, so the tuple's identity is the key's fast part; the ids of its rules follow, so that an
#: equal tuple built elsewhere finds the same plan. The rules are kept with their plan, so the ids in the key
#: cannot be reused by other objects while it is cached.
_PLANS: dict[tuple[object, ...], tuple[tuple[RuleSpec, ...], _Plan]] = {}
_MAX_PLANS = 32


def _plan(policy: Policy, candidates: tuple[RuleSpec, ...], tier: str | None = None) -> _Plan:
    """Return the selected rules of each level, in order, each with its severity (checked by check_selection).

    Under a content ``tier`` (None: not known, every rule is called), a rule that needs a higher tier has no
    severity: the engine records it as skipped.
    """
    grading = (policy.profile, tuple(policy.select), tuple(policy.ignore), tuple(policy.severity_overrides.items()),
               tier)
    cached = _PLANS.get((*grading, id(candidates)))
    if cached is not None and cached[0] is candidates:
        return cached[1]
    key = (*grading, tuple(map(id, candidates)))
    cached = _PLANS.get(key)
    if cached is not None:
        _PLANS[(*grading, id(candidates))] = (candidates, cached[1])
        return cached[1]
    check_selection(policy, candidates)
    selected = sorted((r for r in candidates if is_selected(r, policy)), key=lambda r: r.order)
    rank = None if tier is None else _TIER_RANK[tier]
    plan = tuple((level, tuple((r, None if _short_tier(r, rank) else effective_severity(r, policy), r.judged_by)
                               for r in selected if r.level is level))
                 for level in Level)
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[key] = _PLANS[(*grading, id(candidates))] = (candidates, plan)
    return plan


def _short_tier(rule: RuleSpec, rank: int | None) -> bool:
    """Whether the content tier of this rank is below the one the rule needs."""
    return rank is not None and rule.needs is not None and rank < _TIER_RANK[rule.needs]


def run_rules(
    context: object,
    *,
    rules: Iterable[RuleSpec] | None = None,
    policy: Policy,
    path: str,
    content: str = "none",
) -> Report:
    """Run the selected rules level by level and return the graded report.

    A finding of a rule that an unexpired waiver of the policy names is marked suppressed (it stays in the report
    but leaves the verdict); each expired waiver becomes a notice of the report instead.

    Args:
        context: The validation context handed to every check.
        rules: Rules to consider (default: every registered rule, built-ins loaded).
        policy: Selection and grading.
        path: The input path, recorded in the report.
        content: Content tier, recorded in the report.

    Returns:
        The report; a crashing rule is recorded in ``internal_errors`` instead of raising.

    Raises:
        ConfigError: A selector matches no rule, or the selection leaves none to run (:func:`check_selection`).
        InputUnreadableError: A rule could not read the input (a file cut short while it was read, a remote read
            that failed after its retries): there is no verdict to give.
    """
    candidates = load_builtin_rules() if rules is None else tuple(rules)
    # The tier the rules themselves read (not the recorded ``content``): a skip up front is the one they raise.
    tier = context.options.content.value if isinstance(context, CheckContext) else None
    plan = _plan(policy, candidates, tier)
    today = policy.today or date.today()
    waivers = tuple(w for w in policy.waivers if not w.expired(today))
    run, cascade = _Run(), None
    for level, graded in plan:
        if cascade is not None:
            run.skipped.append(Skipped(level.value, cascade))
            continue
        cascade = _run_level(graded, context, run, waivers)
    return Report(
        path=path,
        profile=policy.profile,
        # Every occurrence stays a finding with its own location (machine reports and baselines need each one);
        # the text report groups identical ones. A stable sort keeps a rule's own order among equal locations.
        findings=tuple(sorted(run.findings, key=Finding.sort_key)),
        skipped=tuple(run.skipped),
        content=content,
        fail_on=policy.fail_on,
        rules_run=tuple(run.rules_run),
        internal_errors=tuple(run.internal_errors),
        notices=tuple(w.notice() for w in policy.waivers if w.expired(today)),
        config=policy.config,
    )


def exit_code(reports: Iterable[Report]) -> ExitCode:
    """Map reports to the command's exit code: the worst of them.

    ``INTERNAL`` when any report has an internal error, ``UNREADABLE`` when any input could not be read
    (:attr:`Report.input_error`), ``NONCONFORMANT`` when any does not conform, else ``OK``; ``USAGE`` is decided
    by the CLI before any report exists.
    """
    reports = tuple(reports)
    if any(r.internal_errors for r in reports):
        return ExitCode.INTERNAL
    if any(r.input_error is not None for r in reports):
        return ExitCode.UNREADABLE
    return ExitCode.OK if all(r.conformant for r in reports) else ExitCode.NONCONFORMANT
