"""Digested members: bytes made from the SHA-256 of files other members hold (spec/specim-mapping.md#manifest-last)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from hsi_conform.converters.base import payload_bytes, payload_size
from hsi_conform.converters.digested import Digested, is_whole_file
from hsi_conform.errors import DatasetError, InputUnreadableError


def render(digests: Mapping[str, str]) -> bytes:
    return json.dumps(dict(sorted(digests.items()))).encode()


def test_read_hashes_the_files_and_equals_the_digests_a_writer_gives(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"alpha")
    b.write_bytes(b"beta" * 1000)
    member = Digested({"A": a, "B": b}, render)
    digests = {"A": hashlib.sha256(b"alpha").hexdigest(), "B": hashlib.sha256(b"beta" * 1000).hexdigest()}
    assert payload_bytes(member) == member.with_digests(digests) == render(digests)
    assert member.with_digests({"A": digests["A"]}) == render(digests)  # B hashed from its file
    assert payload_size(member) == len(render(digests))


def test_a_render_whose_size_depends_on_more_than_the_digests_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x")
    member = Digested({"A": tmp_path / "a"}, lambda d: d["A"].lstrip("0").encode())
    with pytest.raises(DatasetError):
        member.read()


def test_a_missing_source_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(InputUnreadableError):
        Digested({"A": tmp_path / "gone"}, render).read()


def test_is_whole_file(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"12345")
    assert is_whole_file(f, (f, 0, 5))
    assert not is_whole_file(f, (f, 1, 4))
    assert not is_whole_file(f, (f, 0, 4))
    assert not is_whole_file(f, None)
    assert not is_whole_file(tmp_path / "gone", (f, 0, 5))
