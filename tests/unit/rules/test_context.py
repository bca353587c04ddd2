"""The validation context reads one input through one descriptor (issue 11 item 13)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.container.write import write_container
from hsi_conform.finding import Level, Problem, Severity
from hsi_conform.rules import RuleSpec, get_rule, isolated_registry, load_builtin_rules, rule
from hsi_conform.rules.context import CheckContext, CheckOptions, Content
from hsi_conform.testing.samples import write_sample_container
from hsi_conform.validate.engine import Policy, run_rules


def _other_container(path: Path) -> Path:
    """A valid container unlike the sample: other dimensions, so every member lies elsewhere."""
    cube = np.full((7, 3, 5), 9, dtype="<u2")
    return write_container(path, cube, interleave="bil", fields={"wavelength": [500.0, 600.0, 700.0]})


def _replacing_hook(path: Path, replacement: Path) -> RuleSpec:
    """A rule that renames ``replacement`` over ``path`` before any other rule runs (a pause between members)."""
    with isolated_registry():

        @rule("ZIP000", "zip-test-replace-input", severity=Severity.INFO, level=Level.CONTAINER,
              spec="container.md#structure")
        def replace_input(ctx: object) -> Iterator[Problem]:
            """Replace the input file by another one, as a concurrent writer would (a test hook)."""
            os.replace(replacement, path)
            yield from ()

        return get_rule("ZIP000")


def test_a_file_replaced_during_validation_is_never_mixed_in(tmp_path: Path) -> None:
    original = write_sample_container(tmp_path / "original.hsi")
    path = tmp_path / "input.hsi"
    path.write_bytes(original.read_bytes())
    builtin = load_builtin_rules()
    options = CheckOptions(content=Content.FULL)
    expected = run_rules(CheckContext(original, options), rules=builtin, policy=Policy(), path=str(path),
                         content="full")
    hook = _replacing_hook(path, _other_container(tmp_path / "other.hsi"))
    got = run_rules(CheckContext(path, options), rules=[hook, *builtin], policy=Policy(), path=str(path),
                    content="full")
    assert path.read_bytes() != original.read_bytes()  # the hook did replace the file
    assert got.internal_errors == ()
    assert (got.findings, got.skipped) == (expected.findings, expected.skipped)
    assert "XRF" not in {f.rule[:3] for f in got.findings}


def test_an_open_container_keeps_reading_the_file_it_opened(tmp_path: Path) -> None:
    path = write_sample_container(tmp_path / "input.hsi")
    container = hsi_conform.open(path)
    header = container.read_bytes("data.hdr")
    cube = np.array(container.cube)
    os.replace(_other_container(tmp_path / "other.hsi"), path)
    assert container.read_bytes("data.hdr") == header
    assert np.array_equal(container.open_array("data.envi"), cube)
    container.close()
    assert hsi_conform.open(path).read_bytes("data.hdr") != header  # a new open sees the new file


def test_a_shared_value_is_computed_once_per_context_and_a_failure_is_not_kept(tmp_path: Path) -> None:
    path = write_sample_container(tmp_path / "s.hsi")
    calls: list[int] = []

    def count(ctx: CheckContext) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("first call fails")
        return len(ctx.names)

    ctx = CheckContext(path)
    with pytest.raises(ValueError, match="first call fails"):
        ctx.shared(count)
    assert ctx.shared(count) == ctx.shared(count) == len(ctx.names) and len(calls) == 2
    assert CheckContext(path).shared(count) == len(ctx.names) and len(calls) == 3  # another context: computed again
