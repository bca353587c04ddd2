"""URLs are recognised before anything treats them as paths, and quoted as given (issue 19 item 10).

``validate http://host:port//dir/x.hsi`` used to answer "cannot read 'http:/host:port/dir/x.hsi'": the argument
went through ``pathlib`` first. Now every input that is a URL of some protocol reaches the reader, the report and
the messages exactly as typed.
"""

from __future__ import annotations

import json

import pytest

from hsi_conform.errors import ExitCode
from hsi_conform.validate import expand_inputs
from tests._support import CliRunner

pytest.importorskip("fsspec")

URLS = ["memory://nowhere//dir/x.hsi", "http://127.0.0.1:9//dir/x.hsi", "s3://bucket//a//b.hsi",
        "simplecache::memory://nowhere//y.hsi"]


@pytest.mark.parametrize("url", URLS)
def test_expand_inputs_yields_urls_verbatim(url: str) -> None:
    assert list(expand_inputs([url])) == [url]


@pytest.mark.parametrize("url", URLS[:2])
def test_an_unreadable_url_is_named_exactly_as_given(cli: CliRunner, url: str) -> None:
    result = cli(["validate", url, "--format", "json"])
    assert result.code == ExitCode.UNREADABLE
    assert json.loads(result.out)["files"][0]["path"] == url
    assert url in result.err  # verbatim, never "http:/127.0.0.1:9/dir/x.hsi"
    assert url.replace("//dir", "/dir") not in result.err.replace(url, "")


def test_a_storage_option_without_a_key_is_a_usage_error(cli: CliRunner) -> None:
    assert cli(["validate", "memory://nowhere/x.hsi", "--storage-option", "anon"]).code == ExitCode.USAGE
