"""``explain`` prints plain text and suggests ids; ``rules PREFIX`` filters (issue 20, item 11)."""

from __future__ import annotations

import json

from hsi_conform.cli.explain import plain_text
from tests._process import run_cli


def test_explain_prints_the_spec_text_without_markup() -> None:
    run = run_cli("explain", "HDR026")
    assert run.returncode == 0, run.stderr
    assert "trailing-comma (HDR026, ERROR" in run.stdout
    assert "<a id=" not in run.stdout and "**" not in run.stdout


def test_explain_takes_ids_in_any_case() -> None:
    assert run_cli("explain", "hdr026").stdout.startswith("HDR026 hdr-trailing-comma")


def test_an_unknown_rule_is_a_usage_error_naming_the_closest_ids() -> None:
    run = run_cli("explain", "HDR99")
    assert run.returncode == 2
    assert "did you mean HDR029" in run.stderr and "Traceback" not in run.stderr
    assert "hdr-key-case" in run_cli("explain", "kee-case").stderr


def test_a_prefix_is_not_one_rule() -> None:
    run = run_cli("explain", "HDR")
    assert run.returncode == 2 and "hsi-conform rules HDR lists them" in run.stderr


def test_rules_filters_by_prefix_and_name() -> None:
    run = run_cli("rules", "--format", "json", "FLD0")
    assert run.returncode == 0, run.stderr
    ids = [r["id"] for r in json.loads(run.stdout)]
    assert ids and all(i.startswith("FLD0") for i in ids)
    both = [r["id"] for r in json.loads(run_cli("rules", "--format", "json", "HDR015", "zip-name-traversal").stdout)]
    assert sorted(both) == ["HDR015", "ZIP033"]
    everything = json.loads(run_cli("rules", "--format", "json").stdout)
    assert len(everything) > len(ids)


def test_rules_with_an_unknown_prefix_is_a_usage_error() -> None:
    run = run_cli("rules", "HDR9")
    assert run.returncode == 2 and "no rule matches 'HDR9'" in run.stderr and not run.stdout


def test_plain_text_keeps_words_links_and_literals() -> None:
    md = '<a id="x"></a>**x** see [fix.md](fix.md) and [the spec](spec/a.md#b): `{1,}` __y__'
    assert plain_text(md) == "x see fix.md and the spec (spec/a.md#b): `{1,}` y"
