"""Rules that are off under a profile (``off_in``): not run there unless selected by id or name."""

from __future__ import annotations

from pathlib import Path

import pytest

from hsi_conform.rules import get_rule, load_builtin_rules
from hsi_conform.rules.catalogue import rule_to_dict
from hsi_conform.testing.samples import sample_members, write_members
from hsi_conform.validate import check
from hsi_conform.validate.engine import Policy, is_selected


@pytest.fixture(scope="module", autouse=True)
def _rules() -> None:
    load_builtin_rules()


@pytest.mark.parametrize(("profile", "select", "runs"), [
    ("exchange", (), True),
    ("strict", (), True),
    ("reader", (), False),
    ("reader", ("FLD",), False),  # an area is not a request for advice the profile leaves out
    ("reader", ("FLD05",), False),
    ("reader", ("FLD050",), True),
    ("reader", ("fld-camera-not-identified",), True),
])
def test_a_rule_off_under_reader_runs_only_when_named(profile: str, select: tuple[str, ...], runs: bool) -> None:
    assert is_selected(get_rule("FLD050"), Policy(profile=profile, select=select)) is runs


def test_off_is_listed_as_a_regrade() -> None:
    assert rule_to_dict(get_rule("FLD052"))["profiles"] == {"reader": "off"}
    assert get_rule("XRF002").regrades == {"reader": "warning"}


def test_the_profiles_grade_a_container_without_camera_metadata(tmp_path: Path) -> None:
    members = sample_members()
    members["data.hdr"] = b"".join(line for line in members["data.hdr"].splitlines(keepends=True)
                                   if not line.startswith((b"sensor type", b"device", b"fwhm")))
    path = write_members(tmp_path / "x.hsi", members)
    assert {f.rule for f in check(path).findings} == {"FLD050", "FLD051"}
    assert check(path).conformant
    strict = check(path, policy=Policy(profile="strict"))
    assert not strict.conformant and {f.severity.label for f in strict.findings} == {"error"}
    assert check(path, policy=Policy(profile="reader")).findings == ()
