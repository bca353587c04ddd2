"""Telling URLs from paths before anything treats them as paths (issue 19 item 10), and storage options."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hsi_conform.errors import ConfigError
from hsi_conform.remote import is_file_object, is_remote, is_url, parse_storage_option


@pytest.mark.parametrize("text", [
    "http://host:8080//dir/x.hsi", "https://example.org/a.hsi", "s3://bucket/key.hsi", "gs://b/k", "az://c/k",
    "memory://x/y.hsi", "file:///tmp/x.hsi", "simplecache::s3://bucket/x.hsi", "abfs://c/k", "HTTP://HOST/x",
])
def test_urls_of_any_protocol_are_urls(text: str) -> None:
    assert is_url(text)


@pytest.mark.parametrize("text", [
    "x.hsi", "dir//x.hsi", "/abs/x.hsi", "C://data/x.hsi", "C:\\data\\x.hsi", "./http://x", "http:/x", "", "://x",
])
def test_paths_are_not_urls(text: str) -> None:
    assert not is_url(text)


def test_only_strings_are_urls() -> None:
    assert not is_url(Path("s3://bucket/key"))  # already mangled to s3:/bucket/key: a path
    assert not is_url(b"s3://bucket/key")


def test_file_objects_are_remote_and_paths_are_not() -> None:
    assert is_file_object(io.BytesIO(b"x")) and is_remote(io.BytesIO(b"x"))
    assert not is_file_object("x.hsi") and not is_remote("x.hsi") and not is_remote(Path("x.hsi"))


@pytest.mark.parametrize(("text", "expected"), [
    ("anon=true", ("anon", True)),
    ("block_size=1048576", ("block_size", 1048576)),
    ("endpoint_url=http://localhost:9000", ("endpoint_url", "http://localhost:9000")),
    ('client_kwargs={"region_name": "eu-west-1"}', ("client_kwargs", {"region_name": "eu-west-1"})),
    ("token=", ("token", "")),
    (" profile = dev", ("profile", " dev")),
])
def test_storage_options_read_json_values_and_keep_text(text: str, expected: tuple[str, object]) -> None:
    assert parse_storage_option(text) == expected


@pytest.mark.parametrize("text", ["anon", "=true", "a b=1", "1x=2"])
def test_a_storage_option_without_a_key_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_storage_option(text)
