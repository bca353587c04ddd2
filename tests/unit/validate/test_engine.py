from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hsi_conform.errors import ConfigError, ExitCode, UnknownSelectorError
from hsi_conform.finding import Finding, Level, Location, Problem, Report, Severity
from hsi_conform.rules import (
    AREAS,
    ID_PATTERN,
    RetiredRule,
    RuleSpec,
    SkipRule,
    all_rules,
    get_rule,
    isolated_registry,
    load_builtin_rules,
    rule,
)
from hsi_conform.validate.engine import (
    MAX_EXCERPT,
    Policy,
    check_selection,
    effective_severity,
    exit_code,
    is_selected,
    run_rules,
    unknown_selectors,
)

W, E, F, INF = Severity.WARNING, Severity.ERROR, Severity.FATAL, Severity.INFO


@dataclass
class Ctx:
    """Fake validation context: which rules should fire, and a call log."""

    fire: dict[str, list[Problem]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)


def _check(rule_id: str):  # type: ignore[no-untyped-def]
    def check(ctx: Ctx) -> Iterator[Problem]:
        """Fake check."""
        ctx.calls.append(rule_id)
        yield from ctx.fire.get(rule_id, [])

    return check


@pytest.fixture
def rules() -> Iterator[dict[str, RuleSpec]]:
    with isolated_registry():
        table = [
            ("ZIP001", "zip-not-a-zip", F, Level.CONTAINER, None),
            ("ZIP002", "zip-deflated", E, Level.CONTAINER, None),
            ("LAY001", "lay-unknown-member", INF, Level.CONTAINER, None),
            ("HDR001", "hdr-key-case", E, Level.SYNTAX, {"reader": W}),
            ("HDR002", "hdr-crlf", W, Level.SYNTAX, None),
            ("FLD001", "fld-bands", E, Level.SEMANTICS, None),
            ("FLD011", "fld-wavelength-count", W, Level.SEMANTICS, {"strict": W}),
            ("XRF001", "xrf-size", E, Level.CONSISTENCY, None),
        ]
        for rid, name, sev, level, profiles in table:
            rule(rid, name, severity=sev, level=level, spec="container.md#x", profiles=profiles)(_check(rid))
        yield {r.id: r for r in all_rules()}


def run(ctx: Ctx, policy: Policy | None = None, **kwargs: object) -> Report:
    return run_rules(ctx, policy=policy or Policy(), path="a.hsi", **kwargs)  # type: ignore[arg-type]


def ids(report: Report) -> list[str]:
    return [f.rule for f in report.findings]


def test_runs_every_level_in_order(rules: dict[str, RuleSpec]) -> None:
    ctx = Ctx()
    report = run(ctx)
    assert ctx.calls == ["ZIP001", "ZIP002", "LAY001", "HDR001", "HDR002", "FLD001", "FLD011", "XRF001"]
    assert report.findings == ()
    assert report.skipped == ()
    assert report.conformant
    assert report.rules_run == tuple(ctx.calls)
    assert exit_code([report]) == 0


def test_findings_are_stamped_with_rule_metadata(rules: dict[str, RuleSpec]) -> None:
    where = Location(member="data.hdr", line=3, column=1)
    report = run(Ctx(fire={"HDR001": [Problem("m", where, ("d",))]}), content="crc")
    (finding,) = report.findings
    assert (finding.rule, finding.name, finding.severity, finding.level) == (
        "HDR001",
        "hdr-key-case",
        E,
        Level.SYNTAX,
    )
    assert finding.spec == "container.md#x"
    assert finding.location == where
    assert finding.details == ("d",)
    assert (report.path, report.profile, report.content) == ("a.hsi", "exchange", "crc")
    assert not report.conformant
    assert exit_code([report]) == 1


def test_fatal_skips_every_later_level(rules: dict[str, RuleSpec]) -> None:
    ctx = Ctx(fire={"ZIP001": [Problem("not a zip")]})
    report = run(ctx)
    # the rest of the fatal level still runs; later levels do not
    assert ctx.calls == ["ZIP001", "ZIP002", "LAY001"]
    assert [(s.target, s.kind) for s in report.skipped] == [
        ("syntax", "level"),
        ("semantics", "level"),
        ("consistency", "level"),
    ]
    assert all("ZIP001" in s.reason for s in report.skipped)


def test_fatal_cascade_holds_even_when_regraded_down(rules: dict[str, RuleSpec]) -> None:
    ctx = Ctx(fire={"ZIP001": [Problem("not a zip")]})
    report = run(ctx, Policy(severity_overrides={"ZIP001": W}))
    assert report.findings[0].severity is W
    assert [s.target for s in report.skipped] == ["syntax", "semantics", "consistency"]
    assert report.conformant


def test_user_upgrade_to_fatal_cascades(rules: dict[str, RuleSpec]) -> None:
    ctx = Ctx(fire={"FLD001": [Problem("x")]})
    report = run(ctx, Policy(severity_overrides={"FLD001": F}))
    assert [s.target for s in report.skipped] == ["consistency"]
    assert "XRF001" not in ctx.calls


def test_skip_rule_is_recorded(rules: dict[str, RuleSpec]) -> None:
    def needs_dtype(ctx: Ctx) -> Iterator[Problem]:
        """Needs a valid data type."""
        raise SkipRule("data type is invalid")
        yield  # pragma: no cover

    spec = RuleSpec(
        id="XRF002",
        name="xrf-needs",
        severity=E,
        level=Level.CONSISTENCY,
        spec="a.md#b",
        summary="s",
        check=needs_dtype,
    )
    report = run(Ctx(), rules=[*rules.values(), spec])
    assert [(s.target, s.kind, s.internal) for s in report.skipped] == [("XRF002", "rule", False)]
    assert "XRF002" not in report.rules_run
    assert report.internal_errors == ()
    assert exit_code([report]) == 0


def test_crashing_rule_does_not_abort_the_run(rules: dict[str, RuleSpec]) -> None:
    def crash(ctx: Ctx) -> Iterator[Problem]:
        """Crashes half-way."""
        yield Problem("partial")
        raise ZeroDivisionError("boom")

    spec = RuleSpec(
        id="HDR009", name="hdr-crash", severity=E, level=Level.SYNTAX, spec="a.md#b", summary="s", check=crash
    )
    ctx = Ctx(fire={"XRF001": [Problem("size")]})
    report = run(ctx, rules=[*rules.values(), spec])
    assert "XRF001" in ctx.calls
    assert ids(report) == ["XRF001"]
    assert len(report.internal_errors) == 1 and "HDR009" in report.internal_errors[0]
    assert [(s.target, s.internal) for s in report.skipped] == [("HDR009", True)]
    assert exit_code([report]) == 4


def test_every_occurrence_is_a_finding_with_its_own_location(rules: dict[str, RuleSpec]) -> None:
    # issue 19 item 8: identical occurrences were merged into one finding that kept five locations
    problems = [Problem("same", Location(member="data.hdr", line=n)) for n in range(10, 0, -1)]
    problems.append(Problem("same", Location(member="preview.hdr", line=1)))
    problems.append(Problem("other", Location(member="data.hdr", line=50)))
    report = run(Ctx(fire={"HDR002": problems}))
    assert [(f.location.member, f.location.line, f.count) for f in report.findings] == [
        *(("data.hdr", n, 1) for n in range(1, 11)),
        ("data.hdr", 50, 1),
        ("preview.hdr", 1, 1),
    ]
    assert all(f.other_locations == () for f in report.findings)
    assert report.counts["warning"] == 12
    assert len(set(report.fingerprints())) == 12


def test_findings_sorted_by_member_line_column_rule(rules: dict[str, RuleSpec]) -> None:
    fire = {
        "FLD001": [Problem("a", Location(member="data.hdr", line=2, column=1))],
        "HDR002": [Problem("b", Location(member="data.hdr", line=1, column=9))],
        "HDR001": [Problem("c", Location(member="data.hdr", line=1, column=9))],
        "LAY001": [Problem("d", Location(member="Reference/white.hdr"))],
        "ZIP002": [Problem("e", Location(offset=30))],
    }
    report = run(Ctx(fire=fire))
    assert ids(report) == ["ZIP002", "LAY001", "HDR001", "HDR002", "FLD001"]


# ---- grading ----------------------------------------


def test_reader_profile_uses_the_rules_reader_grade(rules: dict[str, RuleSpec]) -> None:
    assert effective_severity(rules["HDR001"], Policy()) is E
    assert effective_severity(rules["HDR001"], Policy(profile="reader")) is W
    assert effective_severity(rules["FLD001"], Policy(profile="reader")) is E


def test_strict_profile_turns_warnings_into_errors(rules: dict[str, RuleSpec]) -> None:
    assert effective_severity(rules["HDR002"], Policy(profile="strict")) is E
    assert effective_severity(rules["LAY001"], Policy(profile="strict")) is INF
    # an explicit per-profile grade beats the blanket strict rule
    assert effective_severity(rules["FLD011"], Policy(profile="strict")) is W


def test_user_override_beats_profile(rules: dict[str, RuleSpec]) -> None:
    policy = Policy(profile="reader", severity_overrides={"HDR001": INF})
    assert effective_severity(rules["HDR001"], policy) is INF
    policy = Policy(profile="strict", severity_overrides={"hdr-crlf": W})
    assert effective_severity(rules["HDR002"], policy) is W


def test_most_specific_override_wins(rules: dict[str, RuleSpec]) -> None:
    policy = Policy(severity_overrides={"HDR": INF, "HDR001": F, "hdr-crlf": E})
    assert effective_severity(rules["HDR001"], policy) is F
    assert effective_severity(rules["HDR002"], policy) is E
    assert effective_severity(rules["FLD001"], policy) is E
    assert effective_severity(rules["HDR001"], Policy(severity_overrides={"hdr": INF})) is INF


def test_profiles_do_not_change_detection(rules: dict[str, RuleSpec]) -> None:
    fire = {rid: [Problem("x")] for rid in rules if rid != "ZIP001"}
    found = {p: ids(run(Ctx(fire=fire), Policy(profile=p))) for p in ("exchange", "reader", "strict")}
    assert found["exchange"] == found["reader"] == found["strict"]


def test_fail_on_threshold(rules: dict[str, RuleSpec]) -> None:
    ctx = Ctx(fire={"HDR002": [Problem("crlf")]})
    assert run(ctx).conformant
    assert not run(ctx, Policy(fail_on=W)).conformant
    assert not run(ctx, Policy(profile="strict")).conformant


# ---- selection ----------------------------------------


@pytest.mark.parametrize(
    ("select", "ignore", "expected"),
    [
        ((), (), {"ZIP001", "ZIP002", "LAY001", "HDR001", "HDR002", "FLD001", "FLD011", "XRF001"}),
        (("ZIP",), (), {"ZIP001", "ZIP002"}),
        (("FLD01",), (), {"FLD011"}),
        (("hdr-crlf", "XRF001"), (), {"HDR002", "XRF001"}),
        (("zip",), (), {"ZIP001", "ZIP002"}),
        ((), ("ZIP", "HDR", "FLD", "lay-unknown-member"), {"XRF001"}),
        (("HDR",), ("HDR001",), {"HDR002"}),
        (("HDR001",), ("HDR",), {"HDR001"}),
        (("HDR",), ("hdr-crlf",), {"HDR001"}),
    ],
)
def test_select_and_ignore(
    rules: dict[str, RuleSpec], select: tuple[str, ...], ignore: tuple[str, ...], expected: set[str]
) -> None:
    policy = Policy(select=select, ignore=ignore)
    assert {r.id for r in rules.values() if is_selected(r, policy)} == expected
    ctx = Ctx()
    run(ctx, policy)
    assert set(ctx.calls) == expected


def test_policy_rejects_unknown_profile_and_malformed_selectors() -> None:
    with pytest.raises(ConfigError):
        Policy(profile="writer")
    with pytest.raises(ConfigError):
        Policy(select=("ZIP-004",))
    with pytest.raises(ConfigError):
        Policy(severity_overrides={"Not A Rule": E})


def test_every_area_of_the_registry_is_an_id_prefix_selector() -> None:
    for area in AREAS:
        assert ID_PATTERN.match(f"{area}001")
        Policy(select=(area, f"{area.lower()}0"), severity_overrides={f"{area}00": W})
    with pytest.raises(ConfigError):
        Policy(select=("ABC",))


def test_unknown_selectors_are_reported(rules: dict[str, RuleSpec]) -> None:
    policy = Policy(select=("ZIP", "ZIP999"), ignore=("no-such-rule",), severity_overrides={"HDR001": W})
    assert unknown_selectors(policy, tuple(rules.values())) == ("ZIP999", "no-such-rule")


def test_default_rules_come_from_the_registry(rules: dict[str, RuleSpec]) -> None:
    ctx = Ctx()
    run_rules(ctx, policy=Policy(), path="p")
    assert len(ctx.calls) == len(rules)
    assert get_rule("hdr-key-case").id == "HDR001"


def test_exit_code_over_several_reports() -> None:
    good = Report(path="a")
    assert exit_code([]) == 0
    assert exit_code([good, good]) == 0
    from hsi_conform.finding import Finding

    bad = Report(path="b", findings=(Finding("ZIP001", "n", E, Level.CONTAINER, "a#b", "m"),))
    assert exit_code([good, bad]) is ExitCode.NONCONFORMANT
    assert exit_code([bad, Report(path="c", internal_errors=("x",))]) is ExitCode.INTERNAL
    assert exit_code([good]) is ExitCode.OK


def test_megabyte_excerpts_are_cut(rules: dict[str, RuleSpec]) -> None:
    line = "x" * 1_000_000
    where = Location(member="data.hdr", line=1, column=600_000, excerpt=line)
    (finding,) = run(Ctx(fire={"HDR002": [Problem("long", where)]})).findings
    assert finding.location.excerpt is not None and len(finding.location.excerpt) == MAX_EXCERPT
    assert finding.location.column == 600_000


def test_policy_and_report_pickle_for_batch_workers(rules: dict[str, RuleSpec]) -> None:
    import pickle

    policy = Policy(profile="reader", select=("ZIP",), severity_overrides={"ZIP001": W}, fail_on=W)
    assert pickle.loads(pickle.dumps(policy)) == policy
    report = run(Ctx(fire={"ZIP002": [Problem("x", Location(member="a"))]}), policy)
    assert pickle.loads(pickle.dumps(report)) == report


def test_a_selection_that_leaves_no_rule_is_an_error_never_a_pass(rules: dict[str, RuleSpec]) -> None:
    policy = Policy(select=("HDR",), ignore=("HDR",))
    assert not any(is_selected(r, policy) for r in rules.values())
    ctx = Ctx(fire={"HDR001": [Problem("m", Location())]})
    with pytest.raises(ConfigError):
        run(ctx, policy)
    assert ctx.calls == []


@pytest.mark.parametrize(
    "policy",
    [Policy(select=("HDR999",)), Policy(ignore=("HDR999",)), Policy(severity_overrides={"HDR999": W}),
     Policy(select=("ZIP", "HDR9")), Policy(ignore=("no-such-rule",))],
)
def test_selectors_that_match_no_rule_are_refused(rules: dict[str, RuleSpec], policy: Policy) -> None:
    with pytest.raises(UnknownSelectorError) as info:
        run(Ctx(), policy)
    assert info.value.exit_code is ExitCode.USAGE and info.value.retired is None


def test_prefixes_that_match_a_rule_are_fine(rules: dict[str, RuleSpec]) -> None:
    for selector in ("HDR", "hdr0", "HDR00", "FLD01", "xrf-size"):
        check_selection(Policy(select=(selector,)), tuple(rules.values()))


def test_unknown_selectors_get_the_nearest_ids_and_names(rules: dict[str, RuleSpec]) -> None:
    known = tuple(rules.values())
    with pytest.raises(UnknownSelectorError) as info:
        check_selection(Policy(ignore=("hdr-key_case",)), known)
    assert info.value.suggestions[0] == "hdr-key-case"
    with pytest.raises(UnknownSelectorError) as info:
        check_selection(Policy(select=("hdr009",)), known)
    assert info.value.selector == "hdr009" and set(info.value.suggestions) <= {"HDR001", "HDR002"}
    assert info.value.suggestions


def test_a_retired_id_or_name_says_it_is_retired() -> None:
    tomb = {"HDR003": RetiredRule(id="HDR003", name="hdr-old", reason="merged into HDR001")}
    with isolated_registry(retired=tomb):
        rule("HDR001", "hdr-key-case", severity=E, level=Level.SYNTAX, spec="container.md#x")(_check("HDR001"))
        for selector in ("HDR003", "hdr003", "hdr-old"):
            with pytest.raises(UnknownSelectorError) as info:
                run(Ctx(), Policy(select=(selector,)))
            assert info.value.retired == "merged into HDR001" and info.value.selector == selector


def test_check_refuses_a_policy_that_selects_nothing(tmp_path: Path) -> None:
    from hsi_conform import check
    from hsi_conform.testing.samples import write_sample_container

    path = write_sample_container(tmp_path / "x.hsi")
    for policy in (Policy(select=("HDR999",)), Policy(ignore=("HDR999",)), Policy(select=("DAT",), ignore=("DAT",))):
        with pytest.raises(ConfigError):
            check(path, policy=policy)
    assert check(path, policy=Policy(select=("HDR0",))).conformant


def test_an_old_rule_name_selects_and_grades_its_rule() -> None:
    load_builtin_rules()
    key_case = get_rule("HDR015")
    assert key_case.name == "hdr-key-case"
    for name in ("key-case", "hdr-key-case"):
        assert not is_selected(key_case, Policy(ignore=(name,)))
        assert effective_severity(key_case, Policy(severity_overrides={name: INF})) is INF
    check_selection(Policy(select=("key-case",)))


def test_the_exit_code_is_the_worst_of_all_reports() -> None:
    bad = Finding(rule="HDR001", name="hdr-x", severity=Severity.ERROR, level=Level.SYNTAX, spec="a.md#b",
                  message="m")
    ok, failing = Report(path="a"), Report(path="b", findings=(bad,))
    unreadable = Report.unreadable("c", "gone")
    crashed = Report(path="d", internal_errors=("XRF001: boom",))
    assert [exit_code(rs) for rs in ([ok], [ok, failing], [failing, unreadable, ok], [unreadable, crashed])] == [
        ExitCode.OK, ExitCode.NONCONFORMANT, ExitCode.UNREADABLE, ExitCode.INTERNAL]


def test_a_selection_found_good_is_judged_again_against_other_rules() -> None:
    # The cache of good selections is keyed by the rules too: a selector good for one set is refused by another.
    with isolated_registry():
        rule("HDR001", "hdr-key-case", severity=E, level=Level.SYNTAX, spec="container.md#x")(_check("HDR001"))
        first = all_rules()
        check_selection(Policy(select=("HDR001",)), first)
        check_selection(Policy(select=("HDR001",)), first)
    with isolated_registry():
        rule("HDR002", "hdr-other", severity=E, level=Level.SYNTAX, spec="container.md#x")(_check("HDR002"))
        with pytest.raises(UnknownSelectorError):
            check_selection(Policy(select=("HDR001",)), all_rules())
        with pytest.raises(UnknownSelectorError):
            check_selection(Policy(select=("HDR001",)), all_rules())


def test_the_registry_hands_out_one_ordered_tuple_until_a_rule_is_added() -> None:
    with isolated_registry():
        rule("HDR002", "hdr-other", severity=E, level=Level.SYNTAX, spec="container.md#x")(_check("HDR002"))
        before = all_rules()
        assert all_rules() is before
        rule("HDR001", "hdr-key-case", severity=E, level=Level.SYNTAX, spec="container.md#x")(_check("HDR001"))
        assert [r.id for r in all_rules()] == ["HDR001", "HDR002"] and all_rules() is not before


@dataclass
class SharedCtx(Ctx):
    """A fake context with the per-context index the engine looks codes up in."""

    codes: dict[str, list[str]] = field(default_factory=dict)
    indexed: int = 0

    def shared(self, compute):  # type: ignore[no-untyped-def]
        return compute(self)


def _codes(ctx: SharedCtx) -> dict[str, list[str]]:
    ctx.indexed += 1
    return ctx.codes


def _coded_check(code: str):  # type: ignore[no-untyped-def]
    def check(ctx: SharedCtx) -> list[Problem]:
        """Reports one code."""
        ctx.calls.append(code)
        return [Problem(text) for text in ctx.codes.get(code, [])]

    return check


def test_a_rule_judged_by_a_code_is_called_only_when_its_code_is_in_the_index() -> None:
    with isolated_registry():
        for rid, code in (("ZIP003", "eocd-missing"), ("ZIP004", "cd-corrupt")):
            rule(rid, f"zip-{code}", severity=E, level=Level.CONTAINER, spec="container.md#x",
                 judged_by=(_codes, code))(_coded_check(code))
        ctx = SharedCtx(codes={"cd-corrupt": ["the directory is cut"]})
        report = run(ctx)
    assert ctx.calls == ["cd-corrupt"]  # the absent code's rule is not called...
    assert report.rules_run == ("ZIP003", "ZIP004")  # ...and still counts as run: it was judged
    assert [(f.rule, f.message) for f in report.findings] == [("ZIP004", "the directory is cut")]


def test_an_index_that_crashes_is_an_internal_error_of_the_rule_not_of_the_run() -> None:
    def broken(ctx: SharedCtx) -> dict[str, list[str]]:
        raise ZeroDivisionError("index")

    with isolated_registry():
        rule("ZIP003", "zip-eocd-missing", severity=E, level=Level.CONTAINER, spec="container.md#x",
             judged_by=(broken, "eocd-missing"))(_coded_check("eocd-missing"))
        report = run(SharedCtx())
    assert report.rules_run == ()
    assert len(report.internal_errors) == 1 and "ZIP003" in report.internal_errors[0]


def test_rules_judged_by_codes_answer_as_their_checks_on_every_fixture() -> None:
    """The engine's lookup is an optimisation only: calling every check gives the same findings."""
    from hsi_conform.rules.context import CheckContext
    from hsi_conform.validate import CheckOptions
    from tests._paths import FIXTURES

    judged = [r for r in load_builtin_rules() if r.judged_by is not None]
    assert len(judged) > 50
    paths = sorted(FIXTURES.glob("**/*.hsi"))
    present = 0
    for path in paths:
        ctx = CheckContext(path, CheckOptions())
        for spec in judged:
            assert spec.judged_by is not None
            index, code = spec.judged_by
            found = list(spec.check(ctx))
            assert bool(found) == (code in ctx.shared(index)), (path.name, spec.id)
            present += bool(found)
    assert present > 10  # the fixtures hold containers with detection and diagnostic codes, not only clean ones
