"""Shipped data folders: the installed package's copy first, then the checkout's."""

from __future__ import annotations

from pathlib import Path

import pytest

from hsi_conform import _resources
from hsi_conform._resources import data_folder
from tests._paths import ROOT


def test_checkout_folders_are_at_the_repository_root() -> None:
    assert data_folder("fixtures") == ROOT / "fixtures"
    assert data_folder("spec") == ROOT / "spec"


def test_packaged_copy_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "hsi_conform"
    (package / "_fixtures").mkdir(parents=True)
    (tmp_path / "fixtures").mkdir()
    monkeypatch.setattr(_resources, "_PACKAGE", package)
    assert data_folder("fixtures") == package / "_fixtures"


def test_missing_everywhere_gives_the_checkout_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "hsi_conform"
    package.mkdir()
    monkeypatch.setattr(_resources, "_PACKAGE", package)
    assert data_folder("spec") == tmp_path / "spec"
    assert not data_folder("spec").exists()
