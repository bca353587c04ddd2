from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hsi_conform.errors import ConfigError, UnknownSelectorError
from hsi_conform.finding import Severity
from hsi_conform.rules import load_builtin_rules
from hsi_conform.validate.config import (
    ConfigSearch,
    find_config,
    load_executor,
    load_policy,
    parse_severity_assignment,
    read_config,
)
from hsi_conform.validate.engine import effective_severity, is_selected

PYPROJECT = """
[project]
name = "x"

[tool.hsi-conform]
profile = "reader"
select = ["ZIP", "HDR"]
ignore = ["HDR002"]
fail-on = "warning"
severity = { ZIP004 = "info", "key-case" = "fatal" }
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """tmp/project/pyproject.toml, tmp/project/data/sub/x.hsi."""
    project = tmp_path / "project"
    sub = project / "data" / "sub"
    sub.mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT)
    (sub / "x.hsi").write_bytes(b"PK")
    return project


def test_config_is_found_upward_from_the_input(tree: Path) -> None:
    assert find_config(tree / "data" / "sub" / "x.hsi") == (tree / "pyproject.toml").resolve()
    assert find_config(tree / "data" / "sub") == (tree / "pyproject.toml").resolve()
    policy = load_policy(tree / "data" / "sub" / "x.hsi")
    assert policy.profile == "reader"
    assert policy.select == ("ZIP", "HDR")
    assert policy.ignore == ("HDR002",)
    assert policy.fail_on is Severity.WARNING
    assert dict(policy.severity_overrides) == {"ZIP004": Severity.INFO, "key-case": Severity.FATAL}


def test_nearest_config_wins(tree: Path) -> None:
    (tree / "data" / "hsi-conform.toml").write_text('profile = "strict"\n')
    policy = load_policy(tree / "data" / "sub" / "x.hsi")
    assert policy.profile == "strict"
    assert policy.select == ()  # nothing merged from the farther pyproject.toml


def test_hsi_conform_toml_beats_pyproject_in_the_same_directory(tree: Path) -> None:
    (tree / "hsi-conform.toml").write_text('[tool.hsi-conform]\nprofile = "strict"\n')
    assert find_config(tree / "data") == (tree / "hsi-conform.toml").resolve()
    assert load_policy(tree / "data").profile == "strict"


def test_pyproject_without_the_table_is_passed_over(tree: Path) -> None:
    (tree / "data" / "pyproject.toml").write_text('[project]\nname = "inner"\n')
    assert find_config(tree / "data" / "sub") == (tree / "pyproject.toml").resolve()


def test_no_config_gives_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "x.hsi").write_bytes(b"")
    policy = load_policy(tmp_path / "x.hsi", isolated=True)
    assert (policy.profile, policy.select, policy.ignore, policy.fail_on) == (
        "exchange",
        (),
        (),
        Severity.ERROR,
    )
    assert dict(policy.severity_overrides) == {}


def test_isolated_ignores_files(tree: Path) -> None:
    assert load_policy(tree / "data", isolated=True).profile == "exchange"


def test_explicit_config_file(tree: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text('fail-on = "info"\n')
    assert load_policy(tree / "data", config=other).fail_on is Severity.INFO


def test_cli_values_override_the_file(tree: Path) -> None:
    policy = load_policy(
        tree / "data",
        profile="strict",
        select=["FLD"],
        ignore=[],
        severity={"ZIP004": "error", "XRF001": Severity.WARNING},
        fail_on="fatal",
    )
    assert policy.profile == "strict"
    assert policy.select == ("FLD",)
    assert policy.ignore == ()
    assert policy.fail_on is Severity.FATAL
    # CLI re-grades merge over the file's, per key
    assert dict(policy.severity_overrides) == {
        "ZIP004": Severity.ERROR,
        "key-case": Severity.FATAL,
        "XRF001": Severity.WARNING,
    }


def test_comma_separated_strings_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "hsi-conform.toml").write_text('select = "ZIP, LAY"\n')
    assert read_config(tmp_path / "hsi-conform.toml").select == ("ZIP", "LAY")


@pytest.mark.parametrize(
    "text",
    [
        "profile = 'writer'\n",
        "profile = 3\n",
        "select = [1, 2]\n",
        "ignore = ['not a rule']\n",
        "severity = { ZIP001 = 'hint' }\n",
        "severity = 'error'\n",
        "fail-on = 'never'\n",
        "colour = true\n",
        "select = [\n",
        "[tool]\nhsi-conform = 3\n",
    ],
)
def test_invalid_config_raises_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "hsi-conform.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_policy(tmp_path)
    assert info.value.source == str(path)


def test_undecodable_config_raises_config_error(tmp_path: Path) -> None:
    (tmp_path / "hsi-conform.toml").write_bytes(b"profile = '\xff'\n")
    with pytest.raises(ConfigError):
        load_policy(tmp_path)


@pytest.mark.parametrize(
    "kwargs",
    [{"profile": "writer"}, {"fail_on": "loud"}, {"severity": {"X": "error"}}, {"select": ["bad selector"]}],
)
def test_invalid_cli_values_raise_config_error(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        load_policy(tmp_path, isolated=True, **kwargs)  # type: ignore[arg-type]


def test_parse_severity_assignment() -> None:
    assert parse_severity_assignment("LAY011=warning") == ("LAY011", Severity.WARNING)
    assert parse_severity_assignment(" hdr-key-case = Error ") == ("hdr-key-case", Severity.ERROR)
    for bad in ("LAY011", "=error", "LAY011=often"):
        with pytest.raises(ConfigError):
            parse_severity_assignment(bad)


@pytest.mark.parametrize(
    ("text", "selector"),
    [
        ('select = ["HDR999"]\n', "HDR999"),
        ('ignore = ["ZIP", "key_case"]\n', "key_case"),
        ('severity = { HDR9 = "info" }\n', "HDR9"),
        ('[tool.hsi-conform]\nignore = ["no-such-rule"]\n', "no-such-rule"),
    ],
)
def test_config_selectors_that_match_no_rule_name_the_file(tmp_path: Path, text: str, selector: str) -> None:
    path = tmp_path / "hsi-conform.toml"
    path.write_text(text)
    with pytest.raises(UnknownSelectorError) as info:
        load_policy(tmp_path)
    assert (info.value.selector, info.value.source) == (selector, str(path))
    assert info.value.exit_code == 2


def test_config_selection_that_leaves_no_rule_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "hsi-conform.toml"
    path.write_text('select = ["HDR"]\nignore = ["HDR"]\n')
    with pytest.raises(ConfigError) as info:
        load_policy(tmp_path)
    assert info.value.source == str(path)


def test_cli_selectors_that_match_no_rule_are_refused(tmp_path: Path) -> None:
    for kwargs in ({"select": ["HDR999"]}, {"ignore": ["HDR999"]}, {"severity": {"hdr999": "info"}},
                   {"select": ["HDR"], "ignore": ["HDR"]}):
        with pytest.raises(ConfigError):
            load_policy(tmp_path, isolated=True, **kwargs)  # type: ignore[arg-type]
    load_policy(tmp_path, isolated=True, select=["HDR0", "hdr", "key-case"], ignore=["DAT"])  # prefixes are fine


def test_storage_options_come_from_the_configuration_with_the_cli_on_top(tmp_path: Path) -> None:
    from hsi_conform.validate.config import load_storage_options

    (tmp_path / "hsi-conform.toml").write_text('[storage-options]\nanon = true\nendpoint_url = "http://a"\n'
                                              'client_kwargs = { region_name = "eu-west-1" }\n')
    assert read_config(tmp_path / "hsi-conform.toml").storage_options["client_kwargs"] == {"region_name": "eu-west-1"}
    assert load_storage_options(tmp_path, options={"endpoint_url": "http://b"}) == {
        "anon": True, "endpoint_url": "http://b", "client_kwargs": {"region_name": "eu-west-1"}}
    assert load_storage_options(tmp_path, isolated=True, options={"x": 1}) == {"x": 1}


def test_storage_options_must_be_a_table(tmp_path: Path) -> None:
    (tmp_path / "hsi-conform.toml").write_text('storage-options = "anon=true"\n')
    with pytest.raises(ConfigError) as info:
        read_config(tmp_path / "hsi-conform.toml")
    assert info.value.source == str(tmp_path / "hsi-conform.toml")


def test_a_cli_select_beats_the_files_ignore(tmp_path: Path) -> None:
    # issue 19 item 9: a config ignore used to veto the rule the command line selected by name
    (tmp_path / "hsi-conform.toml").write_text('ignore = ["HDR015"]\nselect = ["ZIP"]\n')
    rules = {r.id: r for r in load_builtin_rules()}
    policy = load_policy(tmp_path, select=["HDR015"])
    assert (policy.select, policy.ignore) == (("HDR015",), ())
    assert is_selected(rules["HDR015"], policy)
    with_ignore = load_policy(tmp_path, select=["HDR"], ignore=["HDR002"])
    assert is_selected(rules["HDR015"], with_ignore) and not is_selected(rules["HDR002"], with_ignore)
    only_ignore = load_policy(tmp_path, ignore=["ZIP001"])  # the file's select stays, its ignore is replaced
    assert (only_ignore.select, only_ignore.ignore) == (("ZIP",), ("ZIP001",))


def test_a_cli_regrade_decides_every_rule_it_names(tmp_path: Path) -> None:
    (tmp_path / "hsi-conform.toml").write_text('severity = { HDR015 = "info", HDR0 = "warning", FLD011 = "error" }\n')
    rules = {r.id: r for r in load_builtin_rules()}
    policy = load_policy(tmp_path, severity={"HDR015": "fatal"})
    assert effective_severity(rules["HDR015"], policy) is Severity.FATAL
    policy = load_policy(tmp_path, severity={"HDR": "error"})  # broader than the file's keys, still wins
    assert effective_severity(rules["HDR015"], policy) is Severity.ERROR
    assert effective_severity(rules["HDR002"], policy) is Severity.ERROR
    assert effective_severity(rules["FLD011"], policy) is Severity.ERROR  # named by the file only
    narrow = load_policy(tmp_path, severity={"HDR002": "fatal"})
    assert effective_severity(rules["HDR015"], narrow) is Severity.INFO  # the file's most specific key
    assert effective_severity(rules["HDR001"], narrow) is Severity.WARNING  # the file's HDR0, spelled out by id
    assert effective_severity(rules["HDR002"], narrow) is Severity.FATAL


WAIVERS = """
[tool.hsi-conform]
ignore = ["LAY008"]

[[tool.hsi-conform.waiver]]
rule = "FLD011"
paths = ["archive/2019/**"]
reason = "wavelength units agreed with partner X in 2025"
expires = "2027-06-30"

[[tool.hsi-conform.waiver]]
rule = "hdr-key-case"
reason = "everywhere"
"""


def test_waivers_are_read_and_apply_by_path_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(WAIVERS)
    (tmp_path / "archive" / "2019" / "deep").mkdir(parents=True)
    [units, keys] = read_config(tmp_path / "pyproject.toml").waivers
    assert (keys.rule, keys.paths, keys.expires) == ("hdr-key-case", (), None)
    assert (units.rule, units.paths, units.expires, units.source) == (
        "FLD011", ("archive/2019/**",), date(2027, 6, 30), str(tmp_path / "pyproject.toml"))
    inside = load_policy(tmp_path / "archive" / "2019" / "deep" / "a.hsi", today=date(2027, 1, 1))
    assert [w.rule for w in inside.waivers] == ["FLD011", "hdr-key-case"] and inside.today == date(2027, 1, 1)
    outside = load_policy(tmp_path / "archive" / "2020.hsi")
    assert [w.rule for w in outside.waivers] == ["hdr-key-case"]
    assert load_policy(tmp_path / "archive" / "2019" / "a.hsi", waivers=False).waivers == ()
    assert load_policy(tmp_path / "archive" / "2019" / "a.hsi", isolated=True).waivers == ()


def test_an_explicit_config_matches_paths_relative_to_its_own_folder(tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "hsi-conform.toml").write_text(
        '[[waiver]]\nrule = "FLD011"\npaths = ["../archive/**"]\nreason = "r"\n')
    policy = load_policy(tmp_path / "archive" / "a.hsi", config=tmp_path / "ci" / "hsi-conform.toml")
    assert [w.rule for w in policy.waivers] == ["FLD011"]


@pytest.mark.parametrize(
    "waiver",
    [
        'rule = "FLD011"',                                             # no reason
        'rule = "FLD999"\nreason = "r"',                               # no such rule
        'rule = "FLD011"\nreason = "r"\nexpires = "2027-02-30"',       # no such day
        'rule = "FLD011"\nreason = "r"\nexpires = "soon"',
    ],
)
def test_a_bad_waiver_is_a_configuration_error_naming_the_file(tmp_path: Path, waiver: str) -> None:
    path = tmp_path / "hsi-conform.toml"
    path.write_text(f"[[waiver]]\n{waiver}\n")
    with pytest.raises(ConfigError) as info:
        load_policy(tmp_path)
    assert info.value.source == str(path)
    assert info.value.exit_code == 2


def test_where_a_batch_runs_comes_from_the_command_line_over_the_file(tmp_path: Path) -> None:
    """spec/batch.md#configuration."""
    assert load_executor(tmp_path) == ("processes", None)
    assert load_executor(tmp_path, scheduler="tcp://h:8786") == ("dask", "tcp://h:8786")
    (tmp_path / "hsi-conform.toml").write_text('executor = "dask"\nscheduler = "tcp://file:8786"\n')
    assert load_executor(tmp_path) == ("dask", "tcp://file:8786")
    assert load_executor(tmp_path, scheduler="tcp://cli:8786") == ("dask", "tcp://cli:8786")
    assert load_executor(tmp_path, executor="processes") == ("processes", None)  # the file's address dropped
    assert load_executor(tmp_path, isolated=True) == ("processes", None)
    (tmp_path / "hsi-conform.toml").write_text('executor = "spark"\n')
    with pytest.raises(ConfigError, match="'executor' must be one of processes, dask") as info:
        load_executor(tmp_path)
    assert info.value.source == str(tmp_path / "hsi-conform.toml")
    (tmp_path / "hsi-conform.toml").write_text("scheduler = 8786\n")
    with pytest.raises(ConfigError, match="'scheduler' must be a string"):
        load_executor(tmp_path)


def test_a_configuration_is_read_once_and_again_when_it_changes(tmp_path: Path) -> None:
    # spec/batch.md#configuration-cache: a batch asks for the same file once per input.
    path = tmp_path / "hsi-conform.toml"
    path.write_text('profile = "strict"\n')
    first = read_config(path)
    assert read_config(path) is first
    path.write_text('profile = "reader"\nignore = ["FLD003"]\n')
    changed = read_config(path)
    assert changed is not first
    assert (changed.profile, changed.ignore) == ("reader", ("FLD003",))
    replaced = tmp_path / "other.toml"
    replaced.write_text('profile = "strict"\nignore = ["FLD003"]\n')
    replaced.replace(path)  # another file at the same name: another inode
    assert read_config(path).profile == "strict"


def test_an_invalid_configuration_is_refused_every_time(tmp_path: Path) -> None:
    path = tmp_path / "hsi-conform.toml"
    path.write_text('profile = "strict"\n')
    read_config(path)
    path.write_text('profile = "nonsense"\n')
    for _ in range(2):
        with pytest.raises(ConfigError):
            read_config(path)
    path.write_text('profile = "strict"\n')
    assert read_config(path).profile == "strict"


def test_a_pyproject_given_the_table_later_is_found(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.hsi-conform]\nprofile = "strict"\n')
    assert find_config(tmp_path) == (tmp_path / "pyproject.toml").resolve()
    assert load_policy(tmp_path).profile == "strict"


def test_a_batch_search_finds_what_the_plain_search_finds_once_per_directory(tmp_path: Path) -> None:
    # spec/batch.md#configuration-cache: the inputs of one directory share one upward search.
    top, deep, other = tmp_path / "top", tmp_path / "top" / "a" / "b", tmp_path / "other"
    deep.mkdir(parents=True)
    other.mkdir()
    (top / "hsi-conform.toml").write_text('profile = "strict"\n')
    (other / "pyproject.toml").write_text('[tool.hsi-conform]\nprofile = "reader"\n')
    for folder in (top, deep, other):
        (folder / "x.hsi").write_bytes(b"")
    (deep / "link.hsi").symlink_to(other / "x.hsi")  # a link's configuration is the one above its target
    inputs = [top / "x.hsi", deep / "x.hsi", deep / "link.hsi", other / "x.hsi", deep, tmp_path / "missing.hsi",
              Path(str(deep / ".." / "x.hsi"))]
    search = ConfigSearch()
    assert [search.find(p) for p in inputs] == [find_config(p) for p in inputs]
    assert search.find(deep / "link.hsi") == (other / "pyproject.toml").resolve()
    (deep / "hsi-conform.toml").write_text('profile = "reader"\n')  # made after the listing searched deep/
    assert search.find(deep / "x.hsi") == (top / "hsi-conform.toml").resolve()  # the listing's answer
    assert find_config(deep / "x.hsi") == (deep / "hsi-conform.toml").resolve()
    assert load_policy(deep / "x.hsi", search=ConfigSearch()).profile == "reader"
    assert load_policy(deep / "x.hsi", search=search).profile == "strict"
