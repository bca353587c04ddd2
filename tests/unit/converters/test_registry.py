from __future__ import annotations

import importlib
import os
import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hsi_conform import converters
from hsi_conform.cli.main import main
from hsi_conform.converters.base import UnknownOptionError, option_text
from hsi_conform.converters.registry import protocol_problems, split_options
from hsi_conform.errors import ConfigError, ConverterNotFoundError, ConverterUnavailableError
from hsi_conform.testing.samples import write_sample_container
from tests._paths import ROOT

PLUGINS = Path(__file__).parent / "plugins"
NON_CONFORMING = ("oldstyle", "badtypes", "notaclass")


@pytest.fixture
def fake_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))


@pytest.fixture
def fake_module(fake_plugins: None) -> Iterator[ModuleType]:
    module = importlib.import_module("fake_converter_pkg")
    module.CALLS.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the duplicate and the non-conforming plugins of the fake dist-info
        yield module


def test_builtins_register_through_the_entry_point_group() -> None:
    names = converters.registered()
    assert {"hsi", "envi", "legacy"} <= set(names)
    assert names["envi"].load().name == "envi"
    assert names["legacy"].load().name == "legacy"


def test_the_group_is_listed_again_only_when_the_path_changes(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from hsi_conform.converters import registry

    calls = []
    real = registry.entry_points

    def counting(**kw: Any) -> Any:
        calls.append(kw)
        return real(**kw)

    monkeypatch.setattr(registry, "entry_points", counting)
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    first = converters.registered()
    assert converters.registered() == first and len(calls) == 1  # listed once for the same path
    (folder / "someplugin-1.0.dist-info").mkdir()  # what installing a distribution there does
    os.utime(folder, ns=(1, 1))  # a new, distinct modification time, however coarse the clock
    assert converters.registered() == first and len(calls) == 2


def test_a_plugin_in_a_dist_info_is_discovered(fake_plugins: None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = converters.registered()
    assert "fake" in names
    conv = converters.get_converter("fake")
    assert conv.name == "fake"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert converters.detect(Path("x.fake")).name == "fake"


def test_duplicate_names_warn_and_the_first_wins(fake_plugins: None) -> None:
    with pytest.warns(RuntimeWarning, match="fakedup"):
        names = converters.registered()
    assert names["fakedup"].entry_point.value == "fake_converter_pkg:FakeConverter"


def test_a_broken_plugin_warns_and_does_not_break_the_others(fake_plugins: None, tmp_path: Path) -> None:
    with pytest.warns(RuntimeWarning, match="broken"), pytest.raises(ConverterNotFoundError):
        converters.get_converter("broken")
    source = tmp_path / "x.fake"
    source.write_bytes(b"")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert converters.detect(source).name == "fake"
    assert any("broken" in str(w.message) for w in caught)


def test_a_missing_extra_raises_unavailable_naming_pip(fake_plugins: None, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ConverterUnavailableError) as info:
            converters.get_converter("needy")
        assert "pip install" in info.value.install_command
        assert info.value.extra == "needy"
        assert "pip install" in str(info.value)
        source = tmp_path / "x.needy"
        source.write_bytes(b"")
        with pytest.raises(ConverterUnavailableError):
            converters.detect(source)


def test_formats_lists_availability_and_pip_commands(fake_plugins: None, capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["formats"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line[:1] != " "}
    assert "available" in rows["envi"]
    assert "available" in rows["fake"]
    assert "pip install 'hsi-conform[needy]'" in rows["needy"]
    assert "broken" in rows["broken"].split()[1]


# -- the protocol, checked at load time ---------------------------------------------------------------------------
def test_every_builtin_satisfies_the_protocol() -> None:
    for name, entry in converters.registered().items():
        cls = entry.load()
        assert protocol_problems(cls) == [], name
        assert isinstance(cls(), converters.Converter)


def test_a_non_conforming_plugin_is_warned_about_and_skipped(fake_plugins: None, tmp_path: Path) -> None:
    for name in NON_CONFORMING:
        with pytest.warns(RuntimeWarning, match=name), pytest.raises(ConverterNotFoundError):
            converters.get_converter(name)
    other = tmp_path / "x.other"  # oldstyle's can_read claims everything: only skipping it keeps this unclaimed
    other.write_bytes(b"")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ConverterNotFoundError):
            converters.detect(other)
        with pytest.raises(ConverterNotFoundError):
            converters.format_for(tmp_path / "y.old")
        assert converters.format_for(tmp_path / "y.fake") == "fake"  # the others keep working
    skipped = " ".join(str(w.message) for w in caught if issubclass(w.category, RuntimeWarning))
    assert all(f"'{name}'" in skipped for name in NON_CONFORMING)


def test_protocol_problems_name_what_is_missing(fake_module: ModuleType) -> None:
    problems = protocol_problems(fake_module.OldStyleConverter)
    assert {"missing read_options", "missing write_options", "missing source_files"} <= set(problems)
    assert {p.split()[0] for p in protocol_problems(fake_module.BadTypesConverter)} == {"suffixes", "write_options"}
    assert protocol_problems(fake_module.NOT_A_CLASS) != []
    assert protocol_problems(fake_module.FakeConverter) == []


def test_formats_lists_a_non_conforming_plugin_as_broken(fake_plugins: None,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["formats"]) == 0
    rows = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines() if line[:1] != " "}
    assert {rows[name] for name in NON_CONFORMING} == {"broken"}
    assert rows["fake"] == "available"


# -- options: declared, parsed, split -----------------------------------------------------------------------------
def fake_source(tmp_path: Path) -> Path:
    return Path(shutil.copy(write_sample_container(tmp_path / "s.hsi"), tmp_path / "x.fake"))


def test_options_are_parsed_typed_and_routed_to_who_declares_them(fake_module: ModuleType, tmp_path: Path) -> None:
    out = converters.convert(fake_source(tmp_path), tmp_path / "y.fake", depth="12", strict="yes", label="fancy")
    assert out == tmp_path / "y.fake"
    assert fake_module.CALLS == [("read", {"depth": 12, "strict": True}),  # declared by both: both get it
                                 ("write", {"depth": 12, "label": "fancy"})]


def test_typed_values_and_defaults(fake_module: ModuleType, tmp_path: Path) -> None:
    converters.convert(fake_source(tmp_path), tmp_path / "y.fake", depth=3)
    assert fake_module.CALLS == [("read", {"depth": 3, "strict": False}), ("write", {"depth": 3, "label": "plain"})]


@pytest.mark.parametrize("bad", [{"depth": "deep"}, {"strict": "maybe"}, {"label": "plain-ish"}])
def test_a_bad_value_is_a_config_error_before_anything_is_read(fake_module: ModuleType, tmp_path: Path,
                                                               bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        converters.convert(fake_source(tmp_path), tmp_path / "y.fake", **bad)
    assert fake_module.CALLS == []


def test_an_unknown_option_is_a_config_error_naming_what_each_side_accepts(tmp_path: Path) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    with pytest.raises(UnknownOptionError) as info:
        converters.convert(src, tmp_path / "x.hdr", nonsense=1, sidecar=False)
    assert isinstance(info.value, ConfigError)
    assert info.value.unknown == ("nonsense",)
    assert info.value.accepted == {"hsi reader": (), "envi writer": ("sidecar",)}
    assert not (tmp_path / "x.hdr").exists()


def test_builtin_options_parse_from_strings() -> None:
    hsi = converters.get_converter("hsi")
    read, write = split_options(hsi, converters.get_converter("hdf5"),
                                {"checksum": "false", "level": "3", "chunks": "2,4,4", "compression": "gzip"})
    assert read == {}
    assert write == {"compression": "gzip", "level": 3, "chunks": (2, 4, 4), "checksum": False}
    assert split_options(hsi, converters.get_converter("hdf5"), {"chunks": "none"})[1]["chunks"] is None
    _, write = split_options(hsi, converters.get_converter("tiff"),
                             {"compression": "zlib", "predictor": "off", "bigtiff": "none"})
    assert (write["predictor"], write["bigtiff"], write["profile"], write["lossy"]) == (False, None, "gdal", False)
    read, _ = split_options(converters.get_converter("legacy"), hsi, {"quantize": "uint16"})
    assert read == {"quantize": "uint16"}
    with pytest.raises(ConfigError):
        split_options(converters.get_converter("legacy"), hsi, {"quantize": "int8"})
    assert split_options(hsi, converters.get_converter("specim"), {})[1] == {"mode": "auto"}


def test_cli_unknown_option_exits_2_naming_the_accepted_options(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    assert main(["convert", str(src), str(tmp_path / "x.h5"), "--option", "colour=red"]) == 2
    err = capsys.readouterr().err
    assert all(name in err for name in ("compression", "level", "chunks", "checksum"))
    assert not (tmp_path / "x.h5").exists()
    assert main(["convert", str(src), str(tmp_path / "x.hdr"), "--option", "sidecar=maybe"]) == 2


def test_formats_shows_each_option_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["formats"]) == 0
    out = capsys.readouterr().out
    for name, entry in converters.registered().items():
        cls = entry.load()
        for option in (*cls.read_options, *cls.write_options):
            assert f" {option}=" in out, (name, option)


def test_readme_documents_every_declared_option_and_its_default() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| (read|write) \| `(\w+)` \| `([^`]*)` \|", readme, re.MULTILINE)
    documented = {(fmt, side, option): default for fmt, side, option, default in rows}
    declared = {}
    for name, entry in converters.registered().items():
        cls = entry.load()
        for side, table in (("read", cls.read_options), ("write", cls.write_options)):
            declared.update({(name, side, option): option_text(spec.default) for option, spec in table.items()})
    assert documented == declared
