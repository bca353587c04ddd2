"""Rules that declare the content tier they need are skipped up front under a lower tier (spec/cli.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hsi_conform.finding import Level, Location, Problem, Severity, Skipped
from hsi_conform.rules import SkipRule, all_rules, isolated_registry, load_builtin_rules, rule
from hsi_conform.rules.context import CheckContext, CheckOptions, Content
from hsi_conform.testing.samples import write_sample_container
from hsi_conform.validate.engine import Policy, run_rules

_REASON = "needs the data (a test rule)"


def test_a_rule_needing_a_higher_tier_is_recorded_skipped_and_never_called(tmp_path: Path) -> None:
    path = write_sample_container(tmp_path / "s.hsi")
    calls: list[str] = []
    with isolated_registry():

        @rule("ZIP990", "zip-test-needs-crc", severity=Severity.INFO, level=Level.CONTAINER,
              spec="container.md#structure", needs="crc", needs_reason=_REASON)
        def needs_crc(ctx: CheckContext) -> Iterator[Problem]:
            """Say which tier ran the test rule that needs the crc tier."""
            calls.append(f"ZIP990 {ctx.options.content}")
            yield Problem(f"ran under {ctx.options.content}", Location(member="data.hdr"))

        @rule("DAT990", "dat-test-needs-full", severity=Severity.INFO, level=Level.CONSISTENCY,
              spec="data.md#nonfinite", needs="full", needs_reason=_REASON)
        def needs_full(ctx: CheckContext) -> Iterator[Problem]:
            """Say which tier ran the test rule that needs the full tier."""
            calls.append(f"DAT990 {ctx.options.content}")
            yield Problem(f"ran under {ctx.options.content}", Location(member="data.envi"))

        rules = all_rules()
    reports = {tier: run_rules(CheckContext(path, CheckOptions(content=tier)), rules=rules, policy=Policy(),
                               path=str(path), content=tier.value) for tier in Content}
    assert calls == ["ZIP990 crc", "ZIP990 full", "DAT990 full"]
    assert reports[Content.NONE].skipped == (Skipped("ZIP990", _REASON, needs="crc"),
                                             Skipped("DAT990", _REASON, needs="full"))
    assert reports[Content.CRC].skipped == (Skipped("DAT990", _REASON, needs="full"),)
    assert reports[Content.FULL].skipped == ()
    assert sorted(f.rule for f in reports[Content.FULL].findings) == ["DAT990", "ZIP990"]
    assert reports[Content.NONE].rules_run == ()


def test_a_context_of_another_kind_calls_every_rule(tmp_path: Path) -> None:
    # Only a CheckContext tells the tier the rules read: any other context gets every rule called.
    calls: list[str] = []
    with isolated_registry():

        @rule("DAT990", "dat-test-needs-full", severity=Severity.INFO, level=Level.CONSISTENCY,
              spec="data.md#nonfinite", needs="full", needs_reason=_REASON)
        def needs_full(ctx: object) -> Iterator[Problem]:
            """Record the call of the test rule that needs the full tier."""
            calls.append("DAT990")
            yield from ()

        rules = all_rules()
    report = run_rules(object(), rules=rules, policy=Policy(), path="x.hsi", content="none")
    assert calls == ["DAT990"]
    assert report.rules_run == ("DAT990",) and report.skipped == ()


@pytest.mark.parametrize("tier", [Content.NONE, Content.CRC])
def test_each_declared_skip_is_what_the_check_itself_raises(tmp_path: Path, tier: Content) -> None:
    path = write_sample_container(tmp_path / "s.hsi")
    declared = [r for r in load_builtin_rules() if r.needs is not None]
    assert {r.id for r in declared} >= {"ZIP050", "DAT001", "DAT002", "DAT003", "DAT004", "DAT005"}
    ctx = CheckContext(path, CheckOptions(content=tier))
    below = [r for r in declared if list(Content).index(tier) < list(Content).index(Content(r.needs))]
    assert below
    for spec in below:
        with pytest.raises(SkipRule) as raised:
            list(spec.check(ctx))
        assert (raised.value.reason, raised.value.needs) == (spec.needs_reason, spec.needs), spec.id


@pytest.mark.parametrize(("needs", "reason"), [("none", "r"), ("fast", "r"), ("full", ""), (None, "r")])
def test_a_malformed_tier_declaration_is_refused(needs: str | None, reason: str) -> None:
    with isolated_registry(), pytest.raises(ValueError, match=r"content tier|skip reason"):

        @rule("DAT991", "dat-test-bad-needs", severity=Severity.INFO, level=Level.CONSISTENCY,
              spec="data.md#nonfinite", needs=needs, needs_reason=reason)
        def bad(ctx: object) -> Iterator[Problem]:
            """Declare a malformed content tier."""
            yield from ()
