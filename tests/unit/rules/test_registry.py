from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

import pytest

import hsi_conform.rules as rules_module
from hsi_conform.finding import Level, Problem, Severity
from hsi_conform.rules import (
    BUILTIN_RULE_MODULES,
    SkipRule,
    all_rules,
    get_rule,
    isolated_registry,
    load_builtin_rules,
    rule,
)
from hsi_conform.rules._retired import RETIRED, RetiredRule
from hsi_conform.rules.catalogue import render_rules_json, render_rules_markdown, render_rules_text


def check(ctx: object) -> Iterator[Problem]:
    """Every member is stored.

    Valid: fixtures/x/valid
    """
    yield from ()


def undocumented(ctx: object) -> Iterator[Problem]:
    yield from ()


def register(rid: str = "ZIP001", name: str = "zip-stored", **kw: object) -> None:
    options: dict[str, object] = {
        "severity": Severity.ERROR,
        "level": Level.CONTAINER,
        "spec": "container.md#stored",
    } | kw
    rule(rid, name, **options)(check)  # type: ignore[arg-type]


def test_decorator_registers_metadata_and_returns_the_function() -> None:
    with isolated_registry():
        returned = rule(
            "ZIP001",
            "zip-stored",
            severity=Severity.ERROR,
            level=Level.CONTAINER,
            spec="container.md#stored",
            profiles={"reader": Severity.WARNING},
        )(check)
        assert returned is check
        spec = get_rule("ZIP001")
        assert (spec.id, spec.name, spec.severity, spec.level, spec.spec) == (
            "ZIP001",
            "zip-stored",
            Severity.ERROR,
            Level.CONTAINER,
            "container.md#stored",
        )
        assert spec.summary == "Every member is stored."
        assert spec.check is check
        assert dict(spec.profile_severity) == {"reader": Severity.WARNING}
        assert "Valid:" in spec.doc
        assert get_rule("zip-stored") is spec
        assert get_rule("zip001") is spec
        with pytest.raises(KeyError):
            get_rule("ZIP002")


def test_isolated_registry_does_not_leak() -> None:
    before = all_rules()
    with isolated_registry():
        register()
        assert [r.id for r in all_rules()] == ["ZIP001"]
    assert all_rules() == before


@pytest.mark.parametrize(
    ("rid", "name", "extra"),
    [
        ("ZIP04", "zip-x", {}),
        ("ABC001", "zip-x", {}),
        ("zip001", "zip-x", {}),
        ("INT001", "zip-x", {}),
        ("ZIP001", "Zip_X", {}),
        ("ZIP001", "zip--x", {}),
        ("ZIP001", "zip-x", {"spec": "container.md"}),
        ("ZIP001", "zip-x", {"profiles": {"writer": Severity.ERROR}}),
    ],
)
def test_malformed_metadata_is_rejected(rid: str, name: str, extra: dict[str, object]) -> None:
    with isolated_registry(), pytest.raises(ValueError):
        register(rid, name, **extra)


def test_a_rule_needs_a_docstring() -> None:
    with isolated_registry(), pytest.raises(ValueError):
        rule("ZIP001", "zip-x", severity=Severity.ERROR, level=Level.CONTAINER, spec="a.md#b")(undocumented)


def test_duplicate_ids_and_names_raise() -> None:
    with isolated_registry() as registry:
        register("ZIP001", "zip-a")
        with pytest.raises(ValueError):
            register("ZIP001", "zip-b")
        with pytest.raises(ValueError):
            register("ZIP002", "zip-a")
        assert len(registry) == 1


def test_retired_ids_and_names_are_never_reused() -> None:
    tomb = MappingProxyType({"ZIP009": RetiredRule(id="ZIP009", name="zip-old", reason="split")})
    with isolated_registry(retired=tomb):
        with pytest.raises(ValueError):
            register("ZIP009", "zip-new")
        with pytest.raises(ValueError):
            register("ZIP010", "zip-old")
        register("ZIP010", "zip-new")


def test_all_rules_sorted_by_level_then_area_then_id() -> None:
    with isolated_registry():
        register("XRF001", "xrf-a", level=Level.CONSISTENCY)
        register("HDR002", "hdr-b", level=Level.SYNTAX)
        register("LAY001", "lay-a")
        register("ZIP002", "zip-b")
        register("ZIP001", "zip-a")
        register("HDR001", "hdr-a", level=Level.SYNTAX)
        assert [r.id for r in all_rules()] == ["ZIP001", "ZIP002", "LAY001", "HDR001", "HDR002", "XRF001"]


def test_load_builtin_rules_imports_listed_modules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert isinstance(BUILTIN_RULE_MODULES, tuple)
    source = (
        "from hsi_conform.finding import Level, Severity\n"
        "from hsi_conform.rules import rule\n"
        "@rule('DAT001', 'dat-nan', severity=Severity.WARNING, level=Level.CONSISTENCY, spec='data.md#nan')\n"
        "def dat_nan(ctx):\n"
        "    'No NaN in float cubes.'\n"
        "    return ()\n"
    )
    (tmp_path / "hsi_fake_rules_mod.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(rules_module, "BUILTIN_RULE_MODULES", ("hsi_fake_rules_mod",))
    monkeypatch.delitem(sys.modules, "hsi_fake_rules_mod", raising=False)
    fresh_global = rules_module.Registry()
    monkeypatch.setattr(rules_module, "_GLOBAL", fresh_global)
    monkeypatch.setattr(rules_module, "_current", fresh_global)
    assert [r.id for r in load_builtin_rules()] == ["DAT001"]
    assert [r.id for r in load_builtin_rules()] == ["DAT001"]  # idempotent
    with isolated_registry():
        # Built-ins always register globally; an isolated registry keeps only its own rules.
        assert load_builtin_rules() == ()
    assert [r.id for r in fresh_global.rules()] == ["DAT001"]
    monkeypatch.delitem(sys.modules, "hsi_fake_rules_mod", raising=False)


def test_skip_rule_carries_reason() -> None:
    assert SkipRule("data type invalid").reason == "data type invalid"


def test_real_retired_list_is_well_formed() -> None:
    for rid, item in RETIRED.items():
        assert rid == item.id


# ---- catalogue ----------------------------------------


def test_markdown_catalogue_lists_rules_per_level_and_retired() -> None:
    tomb = MappingProxyType({"ZIP009": RetiredRule(id="ZIP009", name="zip-old", reason="a|b")})
    with isolated_registry(retired=tomb):
        register("ZIP001", "zip-a", profiles={"reader": Severity.WARNING})
        register("FLD003", "fld-b", level=Level.SEMANTICS, severity=Severity.WARNING)
        text = render_rules_markdown(retired=tomb)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    zip_row = next(r for r in rows if r.startswith("| ZIP001 "))
    cells = [c.strip() for c in zip_row.strip("|").split(" | ")]
    assert cells[:6] == ["ZIP001", "`zip-a`", "container", "error", "reader: warning", "—"]
    assert "(container.md#stored)" in cells[6]
    assert text.index("ZIP001") < text.index("FLD003")
    assert any(r.startswith("| ZIP009 ") and "\\|" in r for r in rows)
    assert text.count("## Level") == 4
    assert render_rules_markdown(rules=(), retired=tomb) == render_rules_markdown(rules=(), retired=tomb)


def test_text_and_json_listings() -> None:
    import json

    with isolated_registry():
        register("ZIP001", "zip-a")
        listed = json.loads(render_rules_json())
        lines = render_rules_text().splitlines()
    assert listed == [
        {
            "id": "ZIP001",
            "name": "zip-a",
            "level": "container",
            "severity": "error",
            "profiles": {},
            "spec": "container.md#stored",
            "summary": "Every member is stored.",
            "fix": None,
        }
    ]
    assert len(lines) == 1 and lines[0].startswith("ZIP001")


def test_every_builtin_name_starts_with_its_area() -> None:
    for r in load_builtin_rules():
        assert r.name.startswith(r.id[:3].lower()), (r.id, r.name)


def test_a_name_without_its_area_is_rejected() -> None:
    with isolated_registry(), pytest.raises(ValueError, match="area"):
        register("HDR001", "key-case", level=Level.SYNTAX)


def test_old_names_still_find_the_rule() -> None:
    load_builtin_rules()
    assert get_rule("key-case") is get_rule("HDR015") is get_rule("hdr-key-case")
    assert get_rule("mandatory-field-missing").id == "FLD001"


def test_an_old_name_cannot_be_taken_twice() -> None:
    with isolated_registry() as registry:
        register("ZIP001", "zip-a", old_names=("a",))
        with pytest.raises(ValueError):
            register("ZIP002", "zip-b", old_names=("a",))
        with pytest.raises(ValueError):
            register("ZIP003", "zip-c", old_names=("zip-a",))
        assert len(registry) == 1


def test_fix_kind_is_declared_with_the_rule() -> None:
    with isolated_registry():
        register("ZIP001", "zip-a", fix="safe")
        register("ZIP002", "zip-b")
        assert get_rule("ZIP001").fix == "safe" and get_rule("ZIP002").fix is None
        with pytest.raises(ValueError, match="fix"):
            register("ZIP003", "zip-c", fix="maybe")
