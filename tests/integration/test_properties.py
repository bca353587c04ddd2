"""Property tests of the validator, reader, writer and header parser over the public strategies."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hsi_conform
from hsi_conform.finding import Severity
from hsi_conform.header import Header, canonical_bytes, parse_header
from hsi_conform.testing import strategies as hst
from hsi_conform.testing.generate import ContainerSpec, ValidContainer
from hsi_conform.testing.mutations import blocking_rules, oracle

CI = settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def _file(data: bytes) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(suffix=".hsi")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        yield Path(name)
    finally:
        os.unlink(name)


@CI
@given(hst.valid_containers())
def test_valid_containers_validate_clean(vc: ValidContainer) -> None:
    with _file(vc.data) as path:
        report = hsi_conform.check(path, content="full")
    assert blocking_rules(report, Severity.WARNING) == frozenset()


@CI
@given(hst.mutants())
def test_mutants_trigger_exactly_their_rules(mutant: hst.Mutant) -> None:
    data, mutation = mutant
    assert oracle(data) == mutation.rules


@settings(max_examples=100, derandomize=True, deadline=None)
@given(hst.valid_containers())
def test_reader_returns_what_was_generated(vc: ValidContainer) -> None:
    with _file(vc.data) as path, hsi_conform.open(path) as container:
        assert np.asarray(container.cube).tobytes() == vc.cube.tobytes()
        assert container.cube.dtype == vc.cube.dtype
        for name, content in vc.members:
            assert container.read_bytes(name) == content


def _shape(spec: ContainerSpec, lines: int) -> tuple[int, int, int]:
    return spec.interleave.shape(lines, spec.samples, spec.bands)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(hst.container_specs(features=()), st.binary(max_size=64), st.booleans())
def test_write_then_read_is_identity(spec: ContainerSpec, blob: bytes, references: bool) -> None:
    rng = np.random.default_rng(len(blob))
    cube = np.frombuffer(rng.bytes(math.prod(_shape(spec, spec.lines)) * spec.dtype.itemsize),
                         dtype=spec.dtype).reshape(_shape(spec, spec.lines))  # arbitrary bit patterns, NaN too
    refs: dict[str, np.ndarray[Any, Any]] = {}
    if references:
        refs = {w: np.ascontiguousarray(cube[:1] if spec.interleave.value != "bsq" else cube[:, :1])
                for w in ("white", "black")}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.hsi"
        hsi_conform.write_container(path, cube, interleave=spec.interleave, fields={"wavelength": [500.0] * spec.bands},
                                    references=refs, members={"Metadata/blob.bin": blob})
        with hsi_conform.open(path) as container:
            assert np.asarray(container.cube).tobytes() == cube.tobytes()
            assert container.read_bytes("Metadata/blob.bin") == blob
            for which, array in refs.items():
                assert np.asarray(container.reference(which)).tobytes() == array.tobytes()


@CI
@given(hst.header_texts())
def test_header_parse_is_lossless(text: str) -> None:
    data = text.encode("utf-8", "surrogateescape")
    assert parse_header(data).to_bytes() == data


def _typed(header: Header) -> dict[str, str]:
    # Canonical form writes LF: a CRLF inside free text (description) becomes LF, so compare line breaks loosely.
    keys = header.keys()  # Header is not iterable
    return {key: repr(header.value(key)).replace("\\r\\n", "\\n") for key in keys}


@CI
@given(hst.headers())
def test_canonical_form_keeps_typed_values(header: Header) -> None:
    again = parse_header(canonical_bytes(header))
    assert _typed(again) == _typed(header)
    assert canonical_bytes(again) == canonical_bytes(header)
