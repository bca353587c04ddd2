"""The crosswalk table: rows name fields of the field table, groups the table declares, documented members."""

from __future__ import annotations

import tomllib

import pytest

from hsi_conform._resources import data_file
from hsi_conform.crosswalk import crosswalk, parse_crosswalk
from hsi_conform.fields import BY_KEY
from hsi_conform.members import CALIBRATION_RECORD, REFERENCE_DIR, REFERENCE_NAMES


def table() -> dict:
    with data_file("converters", "crosswalk.toml").open("rb") as f:
        return tomllib.load(f)


def test_every_row_names_a_field_of_the_field_table_or_documented_members() -> None:
    for row in crosswalk().rows:
        assert row.field is None or row.field in BY_KEY
        for member in row.members:
            assert member == CALIBRATION_RECORD or member.removeprefix(REFERENCE_DIR) in REFERENCE_NAMES


@pytest.mark.parametrize(("change", "message"), [
    ({"field": "wavelenght"}, "not a field"),
    ({"group": "optics"}, "not declared"),
    ({"stac_name": "x"}, "unknown columns"),
])
def test_a_row_the_tables_do_not_back_is_refused(change: dict, message: str) -> None:
    data = table()
    data["row"][0] |= change
    with pytest.raises(ValueError, match=message):
        parse_crosswalk(data)


def test_the_rules_groups_each_have_a_field_and_the_table_names_are_provisional() -> None:
    table = crosswalk()
    assert set(table.groups) == {"camera", "spectral-response", "radiometric"}
    for group in table.groups:
        assert any(r.field for r in table.in_group(group)), group
    assert all(r.provisional for r in table.rows if r.ieee4001)  # until the published names are at hand
    assert table.by_field("wavelength")[0].stac == "eo:bands[].center_wavelength"


def test_the_spec_page_is_the_rendered_table() -> None:
    from hsi_conform import _docs

    page = (_docs.SPEC / "metadata-crosswalk.md").read_text(encoding="utf-8")
    assert _docs.crosswalk_table() in page  # python -m hsi_conform._docs rewrites it; test_docs fails when stale
    for row in crosswalk().rows:
        assert (row.ieee4001 or row.stac or row.cf) in page
        if row.field:
            assert f"[`{row.field}`](fields.md#{row.field.replace(' ', '-')})" in page
