"""Micro-services run only when installed (a real entry point) and allowed by the caller (spec/procedures.md).

The entry points come from a test-only ``hsi_test_services-0.1.dist-info`` in ``plugins/``: on ``sys.path`` it is
found by ``importlib.metadata`` exactly as an installed distribution is (no mock).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import hsi_conform
from hsi_conform.errors import InapplicableProcedureError
from hsi_conform.pipeline import microservices
from hsi_conform.pipeline.procedures import write_procedures
from tests._support import CliRunner, assert_no_errors
from tests.unit.pipeline.procedure_helpers import scene_with

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.syspath_prepend(str(PLUGINS))
    module = importlib.import_module("hsi_test_services")
    module.CALLS.clear()
    yield module


def test_the_test_distribution_is_discovered(services: ModuleType) -> None:
    assert {"test.double", "test.first_band"} <= set(microservices.installed())


def test_an_allowed_service_runs(services: ModuleType, tmp_path: Path) -> None:
    path = scene_with(tmp_path, ["crop:{0:9, 0:9, 0:3}", "microservice:test.double", "rotate:180"])
    with hsi_conform.open(path) as c:
        out = hsi_conform.apply_procedures(c, allow_microservices=["test.double"])
        expected = (np.array(c.bip())[:10, :10, :4] * 2)[::-1, ::-1]
    assert np.array_equal(out, expected)
    assert [(str(path), (10, 10, 4))] == services.CALLS


@pytest.mark.parametrize("allowed", [(), ("test.first_band",), ("TEST.DOUBLE",)])
def test_a_service_the_caller_did_not_allow_never_runs(services: ModuleType, tmp_path: Path,
                                                        allowed: tuple[str, ...]) -> None:
    path = scene_with(tmp_path, ["microservice:test.double"])
    with hsi_conform.open(path) as c, pytest.raises(InapplicableProcedureError) as info:
        hsi_conform.apply_procedures(c, allow_microservices=allowed)
    assert info.value.finding is not None and info.value.finding.rule == "FLD021"
    assert services.CALLS == []


@pytest.mark.parametrize(("service", "rule"), [
    ("nobody.installed.this", "FLD021"),  # not installed
    ("test.missing", "FLD021"),  # its module does not exist
    ("test.not_callable", "FLD021"),
    ("test.fails", None),  # raises RuntimeError
    ("test.not_a_cube", None),  # returns a list
])
def test_broken_or_missing_services_are_errors_not_crashes(services: ModuleType, tmp_path: Path, service: str,
                                                            rule: str | None) -> None:
    path = scene_with(tmp_path, ["rotate:180", f"microservice:{service}"])
    with hsi_conform.open(path) as c, pytest.raises(InapplicableProcedureError) as info:
        hsi_conform.apply_procedures(c, allow_microservices=[service])
    assert info.value.item == 1
    assert (info.value.finding.rule if info.value.finding else None) == rule


def test_a_service_that_changes_the_size_gives_a_conformant_output(services: ModuleType, tmp_path: Path) -> None:
    path = scene_with(tmp_path, ["microservice:test.first_band"], band_names=[f"b{i}" for i in range(32)])
    with hsi_conform.open(path) as c:
        out = write_procedures(c, tmp_path / "out.hsi", allow_microservices=["test.first_band"])
    assert_no_errors(out)
    with hsi_conform.open(out) as c:
        assert (c.layout.lines, c.layout.samples, c.layout.bands) == (63, 48, 1)
        assert c.header.value("wavelength") == (400.0,)  # given by the service
        assert "band names" not in c.header and "default bands" not in c.header


def test_the_command_runs_only_allowed_services(services: ModuleType, tmp_path: Path, cli: CliRunner) -> None:
    path = scene_with(tmp_path, ["microservice:test.double"])
    refused = cli(["procedures", path, tmp_path / "no.hsi"])
    assert refused.code == 1 and "FLD021" in refused.err and not (tmp_path / "no.hsi").exists()
    assert services.CALLS == []
    done = cli(["procedures", path, tmp_path / "yes.hsi", "--allow-microservice", "test.double"])
    assert done.code == 0, done.err
    assert len(services.CALLS) == 1
