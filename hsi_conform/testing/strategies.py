"""Hypothesis strategies for ``.hsi`` containers and ENVI headers, for testing readers of the format.

Valid inputs are generated as a *model* (:class:`~hsi_conform.testing.generate.ContainerSpec`, header fields)
and serialised, so shrinking works on dimensions and fields rather than on raw bytes; invalid inputs are one
mutation of a valid container, each declaring the rule ids it must trigger (the oracle)::

    from hypothesis import given
    from hsi_conform.testing import strategies as hst

    @given(hst.valid_containers())
    def test_my_reader_reads(vc):
        assert my_reader(vc.data).cube.tobytes() == vc.cube.tobytes()

    @given(hst.mutants())
    def test_my_reader_rejects(mutant):
        data, mutation = mutant                   # mutation.rules: the rule ids it must trigger
        assert my_reader_rejects(data)

With hsi-conform installed, ``st.from_type(Header)``, ``st.from_type(ValidContainer)``,
``st.from_type(ContainerBytes)`` and ``st.from_type(Mutant)`` work too (the ``hypothesis`` entry point
registers them). Settings profiles ``hsi-conform-ci`` (200 examples, derandomized) and ``hsi-conform-nightly``
(10,000 examples) are registered by :func:`register_profiles`.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from typing import NamedTuple, NewType

from hypothesis import settings
from hypothesis import strategies as st

from hsi_conform.errors import InvalidArgumentError
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.header import Header, parse_header
from hsi_conform.header.grammar import parser
from hsi_conform.testing.generate import (
    FEATURES,
    ContainerSpec,
    ValidContainer,
    build_valid,
    render_header,
    root_fields,
)
from hsi_conform.testing.mutations import CATALOGUE, Mutation, applicable

__all__ = [
    "ContainerBytes",
    "Mutant",
    "container_specs",
    "header_sources",
    "header_texts",
    "headers",
    "mutants",
    "mutations",
    "register_profiles",
    "register_with_hypothesis",
    "valid_containers",
]

#: The bytes of a valid ``.hsi`` container (``st.from_type(ContainerBytes)``).
ContainerBytes = NewType("ContainerBytes", bytes)


class Mutant(NamedTuple):
    """An invalid container: one mutation applied to a valid one.

    Attributes:
        data: The ``.hsi`` bytes (never equal to the valid container's).
        mutation: The mutation; ``mutation.rules`` are the rule ids the file must trigger at ERROR or above.
    """

    data: bytes
    mutation: Mutation


def _randoms() -> st.SearchStrategy[random.Random]:
    # A drawn seed rather than st.randoms(): a Hypothesis-backed Random makes every formatting choice a draw,
    # which is ~40x slower; the model (spec, features, dimensions) is still drawn, and shrinks, directly.
    return st.integers(0, 2**32 - 1).map(random.Random)


@st.composite
def container_specs(draw: st.DrawFn, *, data_types: Sequence[DataType] = tuple(DataType),
                    interleaves: Sequence[Interleave] = tuple(Interleave),
                    byte_orders: Sequence[ByteOrder] = tuple(ByteOrder),
                    features: Collection[str] | None = None) -> ContainerSpec:
    """Draw a container spec: 1-8 lines and samples, 1-6 bands, any encoding, optional members.

    Args:
        draw: Hypothesis's draw function (supplied by ``st.composite``).
        data_types: Data types to choose from (default: all 11).
        interleaves: Interleaves to choose from.
        byte_orders: Byte orders to choose from.
        features: Exactly these optional members (default: a drawn subset of
            :data:`~hsi_conform.testing.generate.FEATURES`).
    """
    lines = draw(st.integers(1, 8))
    chosen = frozenset(draw(st.sets(st.sampled_from(FEATURES))) if features is None else features)
    if "lod" in chosen:
        chosen |= {"preview"}
    return ContainerSpec(
        lines=lines, samples=draw(st.integers(1, 8)), bands=draw(st.integers(1, 6)),
        data_type=draw(st.sampled_from(list(data_types))), interleave=draw(st.sampled_from(list(interleaves))),
        byte_order=draw(st.sampled_from(list(byte_orders))), features=chosen,
        align=draw(st.sampled_from((1, 4096))), header_offset=draw(st.sampled_from((0, 16))),
        reference_lines=draw(st.sampled_from((1, lines))))


def valid_containers(specs: st.SearchStrategy[ContainerSpec] | None = None) -> st.SearchStrategy[ValidContainer]:
    """Return a strategy for tiny valid containers (no finding at WARNING or above, at every content tier).

    Headers are randomly but legally formatted; cube values are finite, no band is all zero or saturated, and
    the white reference lies above the black one.

    Args:
        specs: Strategy for the container specs (default: :func:`container_specs`).
    """
    return st.builds(build_valid, container_specs() if specs is None else specs, _randoms())


def mutations(names: Collection[str] | None = None) -> st.SearchStrategy[Mutation]:
    """Return a strategy for mutations of the catalogue (all, or those named).

    Raises:
        InvalidArgumentError: no mutation has one of the names (a ``ValueError``).
    """
    pool = [m for m in CATALOGUE if names is None or m.name in names]
    if not pool:
        raise InvalidArgumentError("no mutation of the catalogue has one of these names")
    return st.sampled_from(pool)


@st.composite
def mutants(draw: st.DrawFn, mutation: st.SearchStrategy[Mutation] | None = None) -> Mutant:
    """Draw an invalid container: a mutation applied to a valid container it applies to.

    The mutation is drawn first and the container spec adjusted to it (needed members added), so every
    mutation of the catalogue is reached. The result is checked to differ from the valid container.

    Args:
        draw: Hypothesis's draw function (supplied by ``st.composite``).
        mutation: Strategy for the mutation (default: :func:`mutations`).
    """
    chosen = draw(mutations() if mutation is None else mutation)
    rnd = draw(_randoms())
    spec = applicable(chosen, draw(container_specs()), rnd)
    vc = build_valid(spec, rnd)
    return Mutant(chosen.apply(vc, rnd), chosen)


@st.composite
def header_sources(draw: st.DrawFn, specs: st.SearchStrategy[ContainerSpec] | None = None) -> str:
    """Draw the text of a valid ``data.hdr`` with random legal formatting.

    Only formatting that draws no diagnostic above INFO varies: blanks around ``=``, blanks and line breaks
    after ``{``, before ``}`` and around commas, comment lines (column 1) and blank lines between entries, the
    order of the fields after the core fields, CRLF line ends and a missing final line break. Optional fields
    of the field table get legal values, and a few custom keys are added.

    Args:
        draw: Hypothesis's draw function (supplied by ``st.composite``).
        specs: Strategy for the cube the header describes (default: :func:`container_specs`).
    """
    spec = draw(container_specs() if specs is None else specs)
    rnd = draw(_randoms())
    names = ("leaf", "soil") if spec.has("masks") or spec.has("classification") else ()
    return render_header(root_fields(spec, rnd, names, "camera"), rnd)


def headers(specs: st.SearchStrategy[ContainerSpec] | None = None) -> st.SearchStrategy[Header]:
    """Return a strategy for parsed valid headers (:func:`header_sources` through :func:`parse_header`)."""
    return header_sources(specs).map(parse_header)


def header_texts() -> st.SearchStrategy[str]:
    """Return a strategy for syntax-level header fuzzing: any text the header grammar derives.

    Built with :func:`hypothesis.extra.lark.from_lark` from the normative grammar, so it reaches every line
    kind (entries, comments, blank, junk and unclosed lines) but not field semantics.
    """
    from hypothesis.extra.lark import from_lark  # imported late: it builds Unicode tables (slow at plugin load)

    return from_lark(parser(), start="start")


def register_profiles() -> None:
    """Register the settings profiles ``hsi-conform-ci`` and ``hsi-conform-nightly``."""
    settings.register_profile("hsi-conform-ci", max_examples=200, derandomize=True, deadline=None)
    settings.register_profile("hsi-conform-nightly", max_examples=10_000, deadline=None)


def register_with_hypothesis() -> None:
    """Register the type strategies (``st.from_type(Header)``, ...) and the settings profiles with Hypothesis.

    Idempotent. Runs when this module is imported and from the ``hypothesis`` entry point.
    """
    st.register_type_strategy(Header, st.deferred(headers))
    st.register_type_strategy(ValidContainer, st.deferred(valid_containers))
    st.register_type_strategy(ContainerBytes, st.deferred(
        lambda: valid_containers().map(lambda vc: ContainerBytes(vc.data))))
    st.register_type_strategy(Mutant, st.deferred(mutants))
    register_profiles()


# Importing this module imports Hypothesis, whose entry point calls back into this half-built module (see
# _hypothesis_plugin); registering here, once everything above exists, serves both import orders.
register_with_hypothesis()
