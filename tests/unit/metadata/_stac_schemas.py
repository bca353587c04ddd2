"""Validate STAC Items offline against the schemas under ``tests/data/stac-schemas/`` (see its README)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests._paths import ROOT

SCHEMAS = ROOT / "tests" / "data" / "stac-schemas"
ITEM = "https://schemas.stacspec.org/v1.0.0/item-spec/json-schema/item.json"


@cache
def registry() -> Registry[Any]:
    """Every vendored schema under its published ``$id`` (without the empty fragment)."""
    resources = []
    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"].rstrip("#"), Resource.from_contents(schema, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


def errors(item: dict[str, Any]) -> list[str]:
    """Return every schema error of an Item: the core schema, then each extension it declares."""
    found = []
    for uri in [ITEM, *item.get("stac_extensions", [])]:
        schema = registry().get_or_retrieve(uri).value.contents  # raises for a schema that is not vendored
        validator = Draft7Validator(schema, registry=registry(), format_checker=Draft7Validator.FORMAT_CHECKER)
        found += [f"{uri}: {e.json_path}: {e.message}" for e in validator.iter_errors(item)]
    return found
