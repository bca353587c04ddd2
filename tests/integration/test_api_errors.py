"""Errors are part of the API (spec/safety.md#errors): bad input to any public function raises a documented
``HsiConformError`` subclass, never a builtin exception and never an internal error.

A table walks ``open`` (and what an open container offers), ``check``, ``validate``, ``parse_header``,
``write_container``, ``to_spectral``, ``converters.convert`` and the test kit with bad inputs; Hypothesis adds
mutants of the catalogue and random byte damage for ``open``.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hsi_conform
from hsi_conform.container.reader import Container
from hsi_conform.converters import convert
from hsi_conform.errors import (
    CalibrationError,
    ConfigError,
    ConformanceError,
    ContainerError,
    ConverterNotFoundError,
    DatasetError,
    HsiConformError,
    InputUnreadableError,
    InternalError,
    InvalidArgumentError,
    MemberNameError,
    NonconformantSourceError,
    NotAnEnviHeaderError,
    OutputIsInputError,
    OutputUnwritableError,
    UnknownOptionError,
    UnknownSelectorError,
)
from hsi_conform.testing.generate import ContainerSpec, build_valid
from hsi_conform.testing.mutations import BY_NAME
from hsi_conform.testing.samples import jpeg_image, sample_members, write_members
from hsi_conform.testing.strategies import mutants
from hsi_conform.testing.zipcraft import Entry, build, quoted_overlap_bomb
from hsi_conform.testing.zipcraft import write as write_zip
from hsi_conform.validate.engine import Policy

Call = Callable[[Path], object]


def _members(**changes: bytes) -> dict[str, bytes]:
    members = sample_members()
    members.update(changes)
    return members


def _sample(tmp: Path, name: str = "s.hsi", **changes: bytes) -> Path:
    return write_members(tmp / name, _members(**changes))


def _header_edit(tmp: Path, pattern: bytes, repl: bytes) -> Path:
    members = sample_members()
    members["data.hdr"] = re.sub(pattern, repl, members["data.hdr"])
    return write_members(tmp / "edited.hsi", members)


def _zip64_past_end(tmp: Path) -> Path:
    """A cube member whose ZIP64 sizes claim 8 GiB in a file of a few kB, under a header that needs 48 MB."""
    vc = build_valid(ContainerSpec())
    entries = []
    for entry in vc.entries():
        name = entry.name_bytes
        if name == b"data.hdr":
            entry = dataclasses.replace(entry, data=re.sub(rb"lines\s*=\s*\d+", b"lines = 3000000", entry.data))
        elif name == b"data.envi":
            entry = dataclasses.replace(entry, csize=1 << 33, usize=1 << 33, zip64=True)
        entries.append(entry)
    path = tmp / "zip64.hsi"
    path.write_bytes(build(entries))
    return path


def _with_member(tmp: Path, *names: str) -> Path:
    vc = build_valid(ContainerSpec())
    path = tmp / "named.hsi"
    path.write_bytes(vc.rebuild([*vc.members, *((name, b"x\n") for name in names)]))
    return path


def _without_references(tmp: Path) -> Path:
    members = {name: data for name, data in sample_members().items() if not name.startswith("Reference/")}
    return write_members(tmp / "bare.hsi", members)


def _opened(path: Path, use: Callable[[Container], object]) -> object:
    with hsi_conform.open(path) as c:
        return use(c)


def _cube(tmp: Path) -> np.ndarray[Any, Any]:
    return np.zeros((2, 3, 4), "<u2")


# (id, call, the documented error it must raise)


def _convert_anyway(source: Path, dest: Path) -> Path:
    """Convert a nonconformant container anyway, so that the writer's own checks are what a case tests."""
    return convert(source, dest, allow_nonconformant=True)

CASES: list[tuple[str, Call, type[HsiConformError]]] = [
    # -- open and the container ----------------------------------------------------------------------------------
    ("open-missing", lambda t: hsi_conform.open(t / "missing.hsi"), InputUnreadableError),
    ("open-nul-path", lambda t: hsi_conform.open(f"{t}/a\0b.hsi"), InputUnreadableError),
    ("open-long-path", lambda t: hsi_conform.open(t / ("x" * 5000)), InputUnreadableError),
    ("open-fifo", lambda t: (os.mkfifo(t / "fifo"), hsi_conform.open(t / "fifo")), InputUnreadableError),
    ("open-not-zip", lambda t: (t.joinpath("x.hsi").write_bytes(b"x" * 100), hsi_conform.open(t / "x.hsi")),
     ContainerError),
    ("cube-zip64-past-end", lambda t: _opened(_zip64_past_end(t), lambda c: c.cube), ContainerError),
    ("read-zip64-past-end", lambda t: _opened(_zip64_past_end(t), lambda c: c.read_bytes("data.envi")),
     ContainerError),
    ("cube-of-empty-folder", lambda t: _opened(t, lambda c: c.cube), ContainerError),
    ("header-not-envi", lambda t: _opened(_sample(t, **{"data.hdr": b"not a header\n"}), lambda c: c.header),
     ContainerError),
    ("layout-missing-field", lambda t: _opened(_header_edit(t, rb"bands\s*=\s*\d+\n", b""), lambda c: c.layout),
     HsiConformError),
    ("reference-unknown", lambda t: _opened(_sample(t), lambda c: c.reference("green")), ContainerError),
    ("preview-missing", lambda t: _opened(_sample(t), lambda c: c.preview("9")), ContainerError),
    ("info-missing", lambda t: _opened(_sample(t), lambda c: c.info("nope")), ContainerError),
    # -- check, validate, parse_header ---------------------------------------------------------------------------
    ("check-missing", lambda t: hsi_conform.check(t / "missing.hsi"), InputUnreadableError),
    ("check-nul-path", lambda t: hsi_conform.check(f"{t}/a\0b.hsi"), InputUnreadableError),
    ("check-long-path", lambda t: hsi_conform.check(t / ("x" * 5000)), InputUnreadableError),
    ("check-content", lambda t: hsi_conform.check(_sample(t), content="everything"), InvalidArgumentError),
    ("check-profile", lambda t: hsi_conform.check(_sample(t), profile="lenient"), ConfigError),
    ("check-selector", lambda t: hsi_conform.check(_sample(t), policy=Policy(select=("NOPE999",))),
     UnknownSelectorError),
    ("validate-nonconformant", lambda t: hsi_conform.validate(_header_edit(t, rb"interleave\s*=\s*\w+", b"")),
     ConformanceError),
    ("parse-empty", lambda t: hsi_conform.parse_header(b""), NotAnEnviHeaderError),
    ("parse-binary", lambda t: hsi_conform.parse_header(b"\x89PNG\r\n\x1a\n"), NotAnEnviHeaderError),
    # -- write_container -----------------------------------------------------------------------------------------
    ("write-2d", lambda t: hsi_conform.write_container(t / "o.hsi", np.zeros((2, 3))), DatasetError),
    ("write-bool", lambda t: hsi_conform.write_container(t / "o.hsi", np.zeros((2, 2, 2), bool)), DatasetError),
    ("write-float16", lambda t: hsi_conform.write_container(t / "o.hsi", np.zeros((2, 2, 2), "f2")),
     DatasetError),
    ("write-contradicting-field", lambda t: hsi_conform.write_container(t / "o.hsi", _cube(t), fields={"bands": 9}),
     DatasetError),
    ("write-list-item-comma", lambda t: hsi_conform.write_container(t / "o.hsi", _cube(t),
                                                                    fields={"band names": ["a,b", "c"]}),
     DatasetError),
    ("write-unbalanced-text", lambda t: hsi_conform.write_container(t / "o.hsi", _cube(t),
                                                                    fields={"description": "a {"}), DatasetError),
    ("write-scalar-line-break", lambda t: hsi_conform.write_container(t / "o.hsi", _cube(t),
                                                                      fields={"sensor type": "a\nb"}),
     DatasetError),
    ("write-interleave", lambda t: hsi_conform.write_container(t / "o.hsi", _cube(t), interleave="bsl"),
     InvalidArgumentError),
    ("write-reference-2d", lambda t: hsi_conform.write_container(t / "o.hsi", _cube(t),
                                                                 references={"white": np.zeros((2, 2), "<u2")}),
     DatasetError),
    ("write-member-traversal", lambda t: hsi_conform.write_container(t / "o.hsi", _cube(t),
                                                                     members={"../x": b"x"}), MemberNameError),
    ("write-member-nul", lambda t: hsi_conform.write_container(t / "o.hsi", _cube(t), members={"a\0b": b"x"}),
     MemberNameError),
    ("write-member-source-missing", lambda t: hsi_conform.write_container(t / "o.hsi", _cube(t),
                                                                          members={"Metadata/x": t / "none"}),
     InputUnreadableError),
    ("write-member-source-folder", lambda t: hsi_conform.write_container(t / "o.hsi", _cube(t),
                                                                         members={"Metadata/x": t}),
     InputUnreadableError),
    ("write-folder-missing", lambda t: hsi_conform.write_container(t / "no" / "o.hsi", _cube(t)),
     OutputUnwritableError),
    ("write-onto-folder", lambda t: (t.joinpath("d.hsi").mkdir(), hsi_conform.write_container(t / "d.hsi", _cube(t))),
     OutputUnwritableError),
    ("write-nul-path", lambda t: hsi_conform.write_container(f"{t}/a\0b.hsi", _cube(t)), OutputUnwritableError),
    ("write-own-input", lambda t: _opened(_sample(t), lambda c: hsi_conform.write_container(c.path, c.cube)),
     ConfigError),
    # -- to_spectral ---------------------------------------------------------------------------------------------
    ("spectral-missing-member", lambda t: _opened(_sample(t), lambda c: hsi_conform.to_spectral(c, "x.envi")),
     ContainerError),
    ("spectral-zip64-past-end", lambda t: _opened(_zip64_past_end(t), hsi_conform.to_spectral), ContainerError),
    # -- reflectance and calibrate -------------------------------------------------------------------------------
    ("reflectance-no-references", lambda t: _opened(_without_references(t), hsi_conform.reflectance),
     CalibrationError),
    ("reflectance-lines-step", lambda t: _opened(_sample(t), lambda c: hsi_conform.reflectance(c, slice(0, 9, 2))),
     InvalidArgumentError),
    ("reflectance-bad-layout", lambda t: _opened(_header_edit(t, rb"bands\s*=\s*\d+\n", b""),
                                                 hsi_conform.reflectance), CalibrationError),
    ("calibrate-missing", lambda t: hsi_conform.calibrate(t / "missing.hsi", t / "o.hsi"), InputUnreadableError),
    ("calibrate-dtype", lambda t: hsi_conform.calibrate(_sample(t), t / "o.hsi", dtype="int8"), InvalidArgumentError),
    ("calibrate-scale", lambda t: hsi_conform.calibrate(_sample(t), t / "o.hsi", dtype="uint16", scale=0),
     InvalidArgumentError),
    ("calibrate-own-input", lambda t: hsi_conform.calibrate(_sample(t), t / "s.hsi"), OutputIsInputError),
    ("calibrate-folder-missing", lambda t: hsi_conform.calibrate(_sample(t), t / "no" / "o.hsi"),
     OutputUnwritableError),
    # -- converters.convert --------------------------------------------------------------------------------------
    ("convert-unknown-format", lambda t: convert(_sample(t), t / "o.xyz"), ConverterNotFoundError),
    ("convert-unknown-option", lambda t: convert(_sample(t), t / "o.h5", bogus=1), UnknownOptionError),
    ("convert-bad-option-value", lambda t: convert(_sample(t), t / "o.h5", compression="lzma"), ConfigError),
    ("convert-garbage", lambda t: (t.joinpath("g.hsi").write_bytes(b"PK\3\4" + b"\0" * 60),
                                   convert(t / "g.hsi", t / "o.h5")), HsiConformError),
    ("convert-nul-name-envi", lambda t: _convert_anyway(_with_member(t, "Metadata/a\0b.txt"), t / "o.hdr"),
     MemberNameError),
    ("convert-nul-name-hdf5", lambda t: _convert_anyway(_with_member(t, "Metadata/a\0b.txt"), t / "o.h5"),
     MemberNameError),
    ("convert-dot-name-hdf5", lambda t:
     _convert_anyway(_with_member(t, "Metadata/./x.txt"), t / "o.h5"), MemberNameError),
    ("convert-file-and-folder-hdf5", lambda t:
     _convert_anyway(_with_member(t, "Metadata/a", "Metadata/a/b"), t / "o.h5"),
     MemberNameError),
    ("convert-file-and-folder-envi", lambda t:
     _convert_anyway(_with_member(t, "Metadata/a", "Metadata/a/b"), t / "o.hdr"),
     MemberNameError),
    ("convert-nonconformant-source", lambda t: convert(_with_member(t, "Metadata/a\x01b.txt"), t / "o.h5"),
     NonconformantSourceError),
    ("convert-control-name-hsi", lambda t: _convert_anyway(_with_member(t, "Metadata/a\x01b.txt"), t / "o.hsi"),
     MemberNameError),
    ("convert-parent-is-file", lambda t: (t.joinpath("f").write_bytes(b""), convert(_sample(t), t / "f" / "o.h5")),
     OutputUnwritableError),
    ("convert-envi-truncated", lambda t: (t.joinpath("e.hdr").write_bytes(sample_members()["data.hdr"]),
                                          t.joinpath("e.img").write_bytes(b"\0" * 3),
                                          convert(t / "e.hdr", t / "o.hsi")), InputUnreadableError),
    # -- the test kit --------------------------------------------------------------------------------------------
    ("kit-jpeg-size", lambda t: jpeg_image(0, 8), InvalidArgumentError),
    ("kit-overlap-bomb", lambda t: quoted_overlap_bomb(0, 1), InvalidArgumentError),
    ("kit-field-width", lambda t: build([Entry(b"x", b"", crc=1 << 40)]), InvalidArgumentError),
    ("kit-cd-order", lambda t: build([Entry(b"x", b"")], cd_order=[3]), InvalidArgumentError),
    ("kit-zip-folder-missing", lambda t: write_zip(t / "no" / "x.zip", [Entry(b"x")]), OutputUnwritableError),
    ("kit-features", lambda t: ContainerSpec(features=frozenset({"hologram"})), InvalidArgumentError),
    ("kit-member", lambda t: build_valid(ContainerSpec()).member("nope"), ContainerError),
    ("kit-mutation-not-applicable",
     lambda t: BY_NAME["lay-reference-header-missing"].apply(build_valid(ContainerSpec())), InvalidArgumentError),
    ("kit-write-members-folder-missing", lambda t: write_members(t / "no" / "x.hsi", sample_members()),
     OutputUnwritableError),
]


@pytest.mark.parametrize(("call", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_its_documented_error(call: Call, expected: type[HsiConformError], tmp_path: Path) -> None:
    with pytest.raises(HsiConformError) as info:
        call(tmp_path)
    assert isinstance(info.value, expected), repr(info.value)
    assert not isinstance(info.value, InternalError), repr(info.value)


def test_replaced_builtins_stay_catchable(tmp_path: Path) -> None:
    """Callers that caught the builtin a function raised before still catch it."""
    with pytest.raises(ValueError):
        hsi_conform.write_container(tmp_path / "o.hsi", np.zeros((2, 3)))
    with pytest.raises(OSError) as info:
        hsi_conform.write_container(tmp_path / "no" / "o.hsi", np.zeros((2, 2, 2), "<u2"))
    assert info.value.errno is not None and info.value.filename == str(tmp_path / "no" / "o.hsi")
    with pytest.raises(ValueError):
        hsi_conform.check(write_members(tmp_path / "s.hsi", sample_members()), content="everything")


def _use_everything(path: Path) -> None:
    """Open a container and touch what it offers; only documented errors may escape."""
    with hsi_conform.open(path) as c:
        for use in (lambda: c.header, lambda: c.layout, lambda: c.cube, lambda: c.bsq(), lambda: c.previews,
                    lambda: [c.preview(lod) for lod in c.previews], lambda: [c.reference(w) for w in ("white", "black")
                                                                                 if f"Reference/{w}.envi" in c],
                    lambda: hsi_conform.to_spectral(c), lambda: [c.read_bytes(n) for n in c.names if n[-1] != "/"],
                    lambda: [c.header.value(e.key) for e in c.header.entries()]):
            try:
                use()
            except HsiConformError as exc:
                assert not isinstance(exc, InternalError), repr(exc)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutant=mutants())
def test_open_raises_only_documented_errors_on_mutants(mutant: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.hsi"
    path.write_bytes(mutant.data)
    try:
        _use_everything(path)
    except HsiConformError as exc:
        assert not isinstance(exc, InternalError), repr(exc)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_open_raises_only_documented_errors_on_damaged_bytes(seed: int, sample_bytes: bytes, tmp_path: Path) -> None:
    rnd = random.Random(seed)
    data = bytearray(sample_bytes)
    for _ in range(rnd.randint(1, 8)):
        data[rnd.randrange(len(data))] = rnd.randrange(256)
    path = tmp_path / "d.hsi"
    path.write_bytes(bytes(data[: rnd.randint(len(data) // 2, len(data))]))
    try:
        _use_everything(path)
    except HsiConformError as exc:
        assert not isinstance(exc, InternalError), repr(exc)


@pytest.mark.parametrize("value", [b"{a, b}", b"4"])
def test_to_spectral_takes_a_bad_wavelength_as_spectral_envi_open_does(tmp_path: Path, value: bytes) -> None:
    # SPy's own reader leaves band centres unset when `wavelength` is not a list of numbers; no exception escapes.
    source = _header_edit(tmp_path, rb"wavelength = \{[^}]*\}", b"wavelength = " + value)
    with hsi_conform.open(source) as container:
        assert hsi_conform.to_spectral(container).bands.centers is None
