"""Option declarations: the type ``formats`` names and the needs ``resolve_options`` enforces."""

from __future__ import annotations

import pytest

from hsi_conform.converters.base import Need, OptionSpec, option_type, optional, parse_flag, resolve_options
from hsi_conform.errors import ConfigError

TABLE = {
    "codec": OptionSpec(help="c", parse=optional(str), choices=("zlib",)),
    "level": OptionSpec(help="l", parse=optional(int), needs=(Need("codec"),)),
    "mode": OptionSpec(help="m", default="a", choices=("a", "b")),
    "loose": OptionSpec(help="x", default=False, parse=parse_flag, needs=(Need("mode", ("b",)),)),
}


def test_option_type_names_the_parser() -> None:
    assert [option_type(s) for s in TABLE.values()] == ["text or none", "integer or none", "text", "boolean"]
    assert option_type(OptionSpec(help="", parse=float)) == "number"
    assert option_type(OptionSpec(help="", type="BANDS,LINES,SAMPLES")) == "BANDS,LINES,SAMPLES"


def test_a_need_is_checked_only_for_values_away_from_the_default() -> None:
    assert resolve_options(TABLE, {"level": "none", "loose": "false"}, "x writer")["level"] is None
    assert resolve_options(TABLE, {"level": "3", "codec": "zlib"}, "x writer")["level"] == 3
    assert resolve_options(TABLE, {"loose": "yes", "mode": "b"}, "x writer")["loose"] is True
    with pytest.raises(ConfigError, match=r"x writer option level=3 has no effect unless codec is set \(it is none\)"):
        resolve_options(TABLE, {"level": "3"}, "x writer")
    with pytest.raises(ConfigError, match=r"option loose=true has no effect unless mode is b \(it is a\)"):
        resolve_options(TABLE, {"loose": True}, "x writer")


def test_every_declared_need_names_an_option_of_the_same_table() -> None:
    from hsi_conform import converters

    for entry in converters.registered().values():
        cls = entry.load()
        for table in (cls.read_options, cls.write_options):
            for name, spec in table.items():
                for need in spec.needs:
                    assert need.option in table and need.option != name, (cls.name, name)
                    assert all(v in table[need.option].choices for v in need.values), (cls.name, name)
