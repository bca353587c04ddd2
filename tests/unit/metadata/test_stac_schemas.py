"""The vendored STAC schemas are the published ones, unedited (tests/data/stac-schemas/README.md)."""

from __future__ import annotations

import hashlib

import pytest

from tests.unit.metadata._stac_schemas import ITEM, SCHEMAS, errors, registry

#: SHA-256 of each file as taken from its tagged release (see the README beside them).
PUBLISHED = {
    "Feature.json": "3957840b2ff19f9450ea97a12f85944d938c68a7a6bf115a2e69b98e007b9922",
    "Geometry.json": "152369d7eb6b3314ffc7deca1d66f9d498ed5b614ca38ed4e2c813fed01024fd",
    "basics.json": "66a60a5f7bba2baac3dd69bce0a8569e56ddbc31cfe6a77e1586e38c84b73040",
    "datetime.json": "f487bd076213091289bc496c1a641fd05e79834b8bca108374cd693ecff3a1fc",
    "eo-v1.1.0.json": "67be0a5832c8533043ae9d50ae0a6f9d3082247bd654b724b6559d710cdd82f4",
    "instrument.json": "886d00cc1f4256ea57e42047761ac7f15afa33fd773eb9675a58bfdb73f18d79",
    "item.json": "bdf0e4f5b5b37b609d10e6383191ce55a2a18f8105d1d3b0b1cb3064ce70a4a0",
    "licensing.json": "3dbdb067f887f04f6d398d5947b5f0a857c75b647544c10076796a985b23b10b",
    "projection-v2.0.0.json": "77dd829eb10f5ea8b9660cece70020c5f864401e286df638567f33afba5a6fce",
    "provider.json": "9f7e7c3840b53f487ae855c21f6fd05deedee51de5dfb51fa4be7a53f5797132",
}


def test_every_schema_is_the_published_file() -> None:
    found = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SCHEMAS.glob("*.json")}
    assert found == PUBLISHED


def test_the_schemas_reject_what_they_must() -> None:
    item = {"type": "Feature", "stac_version": "1.0.0", "id": "x", "geometry": None, "properties": {},
            "links": [], "assets": {}}
    assert errors(item)  # STAC 1.0.0: a datetime (or a start and an end) is required
    item["properties"] = {"datetime": "2025-06-30T12:00:00Z"}
    assert errors(item) == []
    item["stac_extensions"] = ["https://stac-extensions.github.io/eo/v1.1.0/schema.json"]
    bands = [{"name": "b1", "center_wavelength": 0.5}]
    item["properties"]["eo:bands"] = bands
    assert errors(item)  # eo v1.1.0: bands on the Item only when an asset carries them too
    item["assets"] = {"cube": {"href": "x.hsi", "eo:bands": bands}}
    assert errors(item) == []
    bands[0]["center_wavelength"] = "0.5"  # type: ignore[assignment]
    assert errors(item)  # a wavelength is a number


def test_a_schema_that_is_not_vendored_is_an_error_not_a_download() -> None:
    from referencing.exceptions import NoSuchResource

    assert registry().get_or_retrieve(ITEM).value is not None
    with pytest.raises(NoSuchResource):
        registry().get_or_retrieve("https://stac-extensions.github.io/view/v1.0.0/schema.json")
