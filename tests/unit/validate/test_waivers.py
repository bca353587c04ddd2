from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from hsi_conform.errors import ConfigError, UnknownSelectorError
from hsi_conform.finding import Severity
from hsi_conform.testing.samples import sample_members, write_members
from hsi_conform.validate import check
from hsi_conform.validate.engine import Policy, check_selection, exit_code
from hsi_conform.validate.waivers import Waiver, glob_pattern, parse_waivers, relative_to

TODAY = date(2026, 3, 1)


@pytest.fixture
def upper_case_keys(tmp_path: Path) -> Path:
    """A container with two HDR015 findings (``Samples``, ``Lines``) and nothing else at ERROR."""
    members = sample_members()
    members["data.hdr"] = members["data.hdr"].replace(b"\nsamples =", b"\nSamples =").replace(
        b"\nlines =", b"\nLines =")
    return write_members(tmp_path / "keys.hsi", members)


def waiver(rule: str = "HDR015", **kwargs: object) -> Waiver:
    return Waiver(rule=rule, reason=str(kwargs.pop("reason", "agreed")), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("archive/2019/**", "archive/2019/a.hsi", True),
        ("archive/2019/**", "archive/2019/deep/er/a.hsi", True),
        ("archive/2019/**", "archive/2019", True),
        ("archive/2019/**", "archive/20190/a.hsi", False),
        ("archive/2019/**", "other/archive/2019/a.hsi", False),
        ("**/*.hsi", "a.hsi", True),
        ("**/*.hsi", "x/y/a.hsi", True),
        ("**/*.hsi", "x/y/a.hsi.bak", False),
        ("a/**/b.hsi", "a/b.hsi", True),
        ("a/**/b.hsi", "a/x/y/b.hsi", True),
        ("a/**/b.hsi", "ab.hsi", False),
        ("*.hsi", "x/a.hsi", False),
        ("*", "a.hsi", True),
        ("a/?.hsi", "a/b.hsi", True),
        ("a?b", "a/b", False),
        ("[ab].hsi", "b.hsi", True),
        ("[!ab].hsi", "a.hsi", False),
        ("[!ab].hsi", "c.hsi", True),
        ("./archive/*.hsi", "archive/a.hsi", True),
        ("**", "any/thing", True),
        ("Archive/**", "archive/a.hsi", False),
        ("a+b(1).hsi", "a+b(1).hsi", True),
    ],
)
def test_path_globs(pattern: str, path: str, matches: bool) -> None:
    assert bool(glob_pattern(pattern).fullmatch(path)) is matches


def test_a_waiver_applies_through_its_expiry_day() -> None:
    w = waiver(expires=date(2026, 3, 1))
    assert not w.expired(date(2026, 3, 1))
    assert w.expired(date(2026, 3, 2))
    assert not waiver().expired(date(9999, 1, 1))


def test_a_waiver_without_paths_applies_everywhere() -> None:
    assert waiver().applies_to("any/where.hsi")
    assert waiver(paths=("a/**",)).applies_to("a/b.hsi") and not waiver(paths=("a/**",)).applies_to("b.hsi")


def test_relative_to_uses_posix_and_dot_dot(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    assert relative_to(tmp_path / "x" / "a.hsi", tmp_path) == "x/a.hsi"
    assert relative_to(tmp_path / "x" / "a.hsi", tmp_path / "cfg") == "../x/a.hsi"


def test_waived_findings_stay_marked_and_leave_the_verdict(upper_case_keys: Path) -> None:
    plain = check(upper_case_keys)
    assert not plain.conformant and plain.counts["error"] == 2
    report = check(upper_case_keys, policy=Policy(waivers=(waiver(reason="partner X"),), today=TODAY))
    hdr015 = [f for f in report.findings if f.rule == "HDR015"]
    assert [(f.location.line, f.suppression is not None) for f in hdr015] == [(3, True), (4, True)]
    assert {f.suppression.justification for f in hdr015 if f.suppression} == {"partner X"}
    assert report.conformant and report.counts["error"] == 0
    assert report.max_severity is not Severity.ERROR and report.best_match() not in hdr015
    assert exit_code([report]) == 0
    assert report.notices == ()


def test_a_waiver_by_prefix_or_name_and_the_most_specific_one_justifies(upper_case_keys: Path) -> None:
    policy = Policy(waivers=(waiver("HDR", reason="broad"), waiver("hdr-key-case", reason="by name")), today=TODAY)
    report = check(upper_case_keys, policy=policy)
    assert {f.suppression.justification for f in report.findings if f.rule == "HDR015" and f.suppression} == {
        "by name"}


def test_a_waiver_of_another_rule_changes_nothing(upper_case_keys: Path) -> None:
    report = check(upper_case_keys, policy=Policy(waivers=(waiver("FLD011"),), today=TODAY))
    assert not report.conformant
    assert all(f.suppression is None for f in report.findings)


def test_an_expired_waiver_waives_nothing_and_gives_a_notice(upper_case_keys: Path) -> None:
    expired = waiver(expires=date(2026, 2, 28), source="hsi-conform.toml")
    report = check(upper_case_keys, policy=Policy(waivers=(expired,), today=TODAY))
    assert all(f.suppression is None for f in report.findings)
    assert not report.conformant and exit_code([report]) == 1
    assert [(n.kind, n.source) for n in report.notices] == [("waiver-expired", "hsi-conform.toml")]
    still = check(upper_case_keys, policy=Policy(waivers=(expired,), today=date(2026, 2, 28)))
    assert still.conformant and still.notices == ()


def test_an_unknown_waived_rule_is_refused() -> None:
    with pytest.raises(UnknownSelectorError) as info:
        check_selection(Policy(waivers=(waiver("FLD999"),)))
    assert info.value.suggestions  # the nearest ids
    with pytest.raises(ConfigError):
        Policy(waivers=(waiver("not a selector"),))


@pytest.mark.parametrize(
    "table",
    [
        {"paths": ["a/**"], "reason": "r"},                                   # no rule
        {"rule": "HDR015"},                                                   # no reason
        {"rule": "HDR015", "reason": "   "},                                  # an empty reason
        {"rule": "HDR015", "reason": "r", "expires": "2027-13-01"},           # no such month
        {"rule": "HDR015", "reason": "r", "expires": "next year"},
        {"rule": "HDR015", "reason": "r", "expires": "20270630"},             # not YYYY-MM-DD
        {"rule": "HDR015", "reason": "r", "expires": 20270630},
        {"rule": "HDR015", "reason": "r", "expires": datetime(2027, 6, 30, 12, 0)},  # a TOML datetime
        {"rule": "HDR015", "reason": "r", "paths": []},
        {"rule": "HDR015", "reason": "r", "paths": [1]},
        {"rule": "HDR015", "reason": "r", "until": "2027-01-01"},             # an unknown key
        "HDR015",
    ],
)
def test_invalid_waivers_are_configuration_errors(table: object) -> None:
    with pytest.raises(ConfigError) as info:
        parse_waivers([table], "cfg.toml")
    assert info.value.source == "cfg.toml"


def test_waivers_parse_dates_strings_and_single_paths() -> None:
    [a, b] = parse_waivers([{"rule": " HDR015 ", "reason": " r ", "expires": date(2027, 6, 30), "paths": "x/**"},
                            {"rule": "FLD", "reason": "s", "expires": "2027-06-30"}], "cfg.toml")
    assert (a.rule, a.reason, a.paths, a.expires, a.source) == ("HDR015", "r", ("x/**",), date(2027, 6, 30),
                                                                "cfg.toml")
    assert (b.paths, b.expires) == ((), date(2027, 6, 30))
    with pytest.raises(ConfigError):
        parse_waivers("HDR015", "cfg.toml")
