from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from hsi_conform import converters
from hsi_conform.cli.main import main
from hsi_conform.errors import ConverterNotFoundError, ConverterUnavailableError

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture
def fake_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))


def test_builtins_register_through_the_entry_point_group() -> None:
    names = converters.registered()
    assert {"hsi", "envi", "legacy"} <= set(names)
    assert names["envi"].load().name == "envi"
    assert names["legacy"].load().name == "legacy"


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
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "available" in rows["envi"]
    assert "available" in rows["fake"]
    assert "pip install 'hsi-conform[needy]'" in rows["needy"]
    assert "broken" in rows["broken"].split()[1]
