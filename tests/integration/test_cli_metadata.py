"""``hsi-conform metadata``: --to prints or writes JSON, --from writes a new container; exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import fsspec

from hsi_conform.testing.samples import sample_members, write_members
from tests._http import RangeServer
from tests._support import CliRunner


def test_to_prints_and_from_imports(cli: CliRunner, tmp_path: Path) -> None:
    src = write_members(tmp_path / "scene.hsi", sample_members())
    run = cli(["metadata", src, "--to", "stac"])
    assert run.code == 0, run.err
    assert json.loads(run.out)["type"] == "Feature"
    assert cli(["metadata", src, "--to", "ieee4001", "-o", tmp_path / "ieee.json"]).code == 0
    run = cli(["metadata", src, "--from", tmp_path / "ieee.json", "-o", tmp_path / "dst.hsi"])
    assert run.code == 0 and "Metadata/ieee4001.json" in run.out
    assert cli(["validate", tmp_path / "dst.hsi"]).code == 0


def test_errors_exit_with_their_codes(cli: CliRunner, tmp_path: Path) -> None:
    src = write_members(tmp_path / "scene.hsi", sample_members())
    assert cli(["metadata", src, "--from", src]).code == 2  # --from needs -o
    assert cli(["metadata", src]).code == 2  # --to or --from
    run = cli(["metadata", src, "--from", src, "-o", tmp_path / "dst.hsi"])
    assert run.code == 3 and "not a JSON document" in run.err
    assert cli(["metadata", tmp_path / "missing.hsi", "--to", "cf"]).code == 3
    members = sample_members()
    members["data.hdr"] = members["data.hdr"].replace(b"acquisition time = 2025-06-30T12:00:00Z\n", b"")
    run = cli(["metadata", write_members(tmp_path / "timeless.hsi", members), "--to", "stac"])
    assert run.code == 3 and "acquisition time" in run.err


def test_a_remote_container_is_exported_by_its_url(cli: CliRunner, http_server: RangeServer,
                                                   tmp_path: Path) -> None:
    src = write_members(tmp_path / "scene.hsi", sample_members())
    url = http_server.serve(src, "/metadata/scene.hsi")
    run = cli(["metadata", url, "--to", "stac"])
    assert run.code == 0, run.err
    item = json.loads(run.out)
    assert item["assets"]["container"]["href"] == url
    with fsspec.open(item["assets"]["data.hdr"]["href"]) as f:  # zip://data.hdr::http://...
        assert f.read() == sample_members()["data.hdr"]
    assert json.loads(cli(["metadata", url, "--to", "ieee4001"]).out)["source"] == "scene.hsi"
    assert cli(["metadata", url, "--from", tmp_path / "x.json", "-o", tmp_path / "dst.hsi"]).code == 2
