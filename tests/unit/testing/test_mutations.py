from __future__ import annotations

import random
from dataclasses import replace

import pytest

from hsi_conform.corpus.export import generate_cases
from hsi_conform.finding import Severity
from hsi_conform.rules import get_rule, load_builtin_rules
from hsi_conform.rules.context import Content
from hsi_conform.testing.generate import FEATURES, ContainerSpec, build_valid, random_spec
from hsi_conform.testing.mutations import BY_NAME, CATALOGUE, Mutation, MutationError, applicable, oracle

load_builtin_rules()


def test_catalogue_is_large_and_covers_every_area() -> None:
    assert len(CATALOGUE) >= 40
    areas = {rule[:3] for m in CATALOGUE for rule in m.rules}
    assert {"ZIP", "LAY", "HDR", "FLD", "XRF"} <= areas
    assert len(BY_NAME) == len(CATALOGUE)


@pytest.mark.parametrize("mutation", CATALOGUE, ids=lambda m: m.name)
def test_declared_rules_are_registered_errors(mutation: Mutation) -> None:
    for rule_id in mutation.rules:
        assert get_rule(rule_id).severity >= 3  # ERROR or FATAL by default
    assert mutation.needs <= set(FEATURES)
    assert mutation.summary


@pytest.mark.parametrize("mutation", CATALOGUE, ids=lambda m: m.name)
def test_mutation_triggers_exactly_its_rules(mutation: Mutation) -> None:
    canonical = build_valid(applicable(mutation, ContainerSpec(lines=3, samples=4, bands=3)))
    assert oracle(mutation.apply(canonical)) == mutation.rules
    rnd = random.Random(mutation.name)
    drawn = build_valid(applicable(mutation, random_spec(rnd), rnd), rnd)
    assert oracle(mutation.apply(drawn, rnd)) == mutation.rules


@pytest.mark.parametrize("mutation", CATALOGUE, ids=lambda m: m.name)
def test_declared_content_tier_is_the_lowest_that_finds_the_defect(mutation: Mutation) -> None:
    data = mutation.apply(build_valid(applicable(mutation, ContainerSpec(lines=3, samples=4, bands=3))))
    assert oracle(data, content=mutation.content) == mutation.rules
    tiers = list(Content)
    for lower in tiers[: tiers.index(mutation.content)]:
        assert oracle(data, content=lower) != mutation.rules, lower


def test_valid_containers_pass_the_oracle() -> None:
    vc = build_valid(ContainerSpec(features=frozenset(FEATURES) - {"classification"}))
    assert oracle(vc.data, content="full", at_least=Severity.WARNING) == frozenset()


def test_unchanged_result_is_refused() -> None:
    vc = build_valid(ContainerSpec())
    noop = Mutation("noop", frozenset({"ZIP001"}), "Change nothing.", lambda v, rnd: v.data)
    with pytest.raises(MutationError):
        noop.apply(vc)


def test_mutation_refuses_containers_it_does_not_apply_to() -> None:
    mutation = BY_NAME["lay-reference-header-missing"]
    vc = build_valid(ContainerSpec())
    assert not mutation.applies_to(vc.spec)
    with pytest.raises(ValueError):
        mutation.apply(vc)


def test_applicable_adds_needs_and_removes_exclusions() -> None:
    mutation = BY_NAME["xrf-mask-missing"]
    spec = applicable(mutation, ContainerSpec(features=frozenset({"classification"})))
    assert "masks" in spec.features
    assert "classification" not in spec.features
    assert mutation.applies_to(spec)
    assert applicable(BY_NAME["zip-gap"], replace(spec, lines=5)).lines == 5


def test_generate_cases_is_deterministic_and_covers_the_catalogue() -> None:
    n = 2 * len(CATALOGUE)
    first = list(generate_cases(n, seed=7))
    again = list(generate_cases(n, seed=7))
    assert [(c.name, c.data) for c in first] == [(c.name, c.data) for c in again]
    assert len(first) == n
    assert len({c.name for c in first}) == n
    rejected = [c for c in first if c.expect == "reject"]
    assert {c.name.split("-", 2)[2] for c in rejected} == set(BY_NAME)
    for case in first:
        assert (case.expect == "accept") == (case.rules == ())
        assert len(case.spec) == len(case.rules)
        assert all("#" in anchor for anchor in case.spec)
    assert [c.data for c in generate_cases(4, seed=8)] != [c.data for c in first[:4]]


def test_generated_cases_meet_their_expectations() -> None:
    for case in generate_cases(40, seed=3):
        assert oracle(case.data) == frozenset(case.rules), case.name


def test_generate_cases_rejects_negative_counts() -> None:
    with pytest.raises(ValueError):
        list(generate_cases(-1, seed=0))
