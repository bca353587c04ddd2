from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.finding import Severity
from hsi_conform.header import Header
from hsi_conform.header.diagnostics import BY_CODE
from hsi_conform.testing import strategies as hst
from hsi_conform.testing.generate import FEATURES, ContainerSpec, ValidContainer, build_valid
from hsi_conform.testing.mutations import BY_NAME, oracle

FEW = settings(max_examples=5, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=100, derandomize=True, deadline=None)


@pytest.mark.parametrize("kind", [Header, ValidContainer, hst.ContainerBytes, hst.Mutant])
def test_from_type_works_through_the_entry_point(kind: type) -> None:
    @FEW
    @given(st.from_type(kind))
    def check(value: object) -> None:
        assert isinstance(value, Header | ValidContainer | bytes | hst.Mutant)

    check()


@SOME
@given(hst.headers())
def test_headers_are_legal(header: Header) -> None:
    worst = max((BY_CODE[d.code].severity for d in header.diagnostics), default=Severity.INFO)
    assert worst <= Severity.INFO
    for key in ("samples", "lines", "bands", "data type", "interleave", "byte order", "file type", "wavelength"):
        assert key in header
    assert len(header.value("wavelength")) == header.value("bands")


def _finds(predicate: object) -> str:
    return find(hst.header_sources(), predicate, settings=settings(database=None, max_examples=500))  # type: ignore[arg-type]


@pytest.mark.parametrize("feature", [
    lambda t: "\r\n" in t, lambda t: "\n;" in t, lambda t: not t.endswith("\n"), lambda t: "\n\n" in t,
    lambda t: "=" in t and " = " not in t.split("\n")[1], lambda t: ",\n" in t,
], ids=["crlf", "comment", "no-final-newline", "blank-line", "separator", "wrapped-list"])
def test_header_formatting_varies(feature: object) -> None:
    assert _finds(feature)


@FEW
@given(hst.container_specs(data_types=[DataType.FLOAT32], interleaves=[Interleave.BIP],
                           byte_orders=[ByteOrder.BIG], features=["lod"]))
def test_container_specs_respect_their_arguments(spec: ContainerSpec) -> None:
    assert (spec.data_type, spec.interleave, spec.byte_order) == (DataType.FLOAT32, Interleave.BIP, ByteOrder.BIG)
    assert spec.features == {"lod", "preview"}
    assert 1 <= spec.lines <= 8 and 1 <= spec.samples <= 8 and 1 <= spec.bands <= 6


@pytest.mark.parametrize(("data_type", "interleave", "byte_order"),
                         list(itertools.product(DataType, Interleave, ByteOrder)))
def test_every_encoding_with_every_member_validates_clean(data_type: DataType, interleave: Interleave,
                                                         byte_order: ByteOrder) -> None:
    import random

    features = frozenset(FEATURES) - ({"classification"} if data_type % 2 else {"masks"})
    spec = ContainerSpec(lines=3, samples=2, bands=3, data_type=data_type, interleave=interleave,
                         byte_order=byte_order, features=features, align=4096 if byte_order else 1)
    vc = build_valid(spec, random.Random(int(data_type)))
    assert oracle(vc.data, content="full", at_least=Severity.WARNING) == frozenset()


def test_mutations_filter_by_name() -> None:
    chosen = find(hst.mutations(["zip-gap", "hdr-bom"]), lambda m: True)
    assert chosen.name in {"zip-gap", "hdr-bom"}
    with pytest.raises(ValueError):
        hst.mutations(["no-such-mutation"])


@FEW
@given(hst.mutants(hst.mutations(["xrf-bbox-row"])))
def test_mutants_carry_their_mutation(mutant: hst.Mutant) -> None:
    data, mutation = mutant
    assert mutation is BY_NAME["xrf-bbox-row"]
    assert data[:4] == b"PK\x03\x04"


def test_settings_profiles_are_registered() -> None:
    hst.register_profiles()
    assert settings.get_profile("hsi-conform-ci").max_examples == 200
    assert settings.get_profile("hsi-conform-ci").derandomize
    assert settings.get_profile("hsi-conform-nightly").max_examples == 10_000


@pytest.mark.parametrize("first", ["import hsi_conform.testing.strategies", "import hypothesis"])
def test_the_strategies_import_in_a_fresh_interpreter_whichever_comes_first(first: str) -> None:
    # Importing the strategies imports Hypothesis, whose entry point calls back into the half-built module.
    probe = (f"{first}\nfrom hypothesis import strategies as st\nfrom hsi_conform.header import Header\n"
             "assert type(st.from_type(Header).example()).__name__ == 'Header'\n")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
