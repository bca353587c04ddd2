"""A ``Report``'s ``repr`` and truth value (issue 20 items 15 and 16; spec/python-api.md#truth-value)."""

from __future__ import annotations

from pathlib import Path

import pytest

import hsi_conform
from hsi_conform.finding import Report
from hsi_conform.testing.samples import sample_members, write_members, write_sample_container


def _broken(tmp_path: Path) -> Path:
    members = sample_members()
    members["data.envi"] = members["data.envi"][:-240]  # one line short: XRF001
    return write_members(tmp_path / "broken.hsi", members)


def test_bool_raises_and_points_at_conformant(tmp_path: Path) -> None:
    for report in (hsi_conform.check(write_sample_container(tmp_path / "s.hsi")), hsi_conform.check(_broken(tmp_path))):
        with pytest.raises(TypeError, match="conformant"):
            bool(report)
        with pytest.raises(TypeError):
            if report:  # the mistake this guards against
                pass


def test_repr_gives_the_verdict_and_counts(tmp_path: Path) -> None:
    good = repr(hsi_conform.check(write_sample_container(tmp_path / "s.hsi")))
    bad = repr(hsi_conform.check(_broken(tmp_path)))
    assert "s.hsi" in good and ": conformant" in good and "0 error" in good
    assert ": nonconformant" in bad and "1 error" in bad


def test_repr_of_an_unreadable_report() -> None:
    assert "unreadable" in repr(Report.unreadable("x.hsi", "no such file"))
