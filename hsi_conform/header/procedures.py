"""The ``read procedures`` mini-language of D4.1 section 2.6: parse items into typed procedures, never run them.

D4.1 "hijacks" the ENVI Classic field ``read procedures`` for processing steps that a reader re-enacts, in
order, before display. Each list item is one procedure; its normative syntax is ``grammar/read_procedures.lark``
and the decisions are in spec/semantics.md#read-procedures. Example::

    >>> [p.name for p in parse_procedures(["crop:{0:9, 0:15, 2:7}", "rotate:clockwise"])]
    ['crop', 'rotate']

Nothing here executes anything: a :class:`Microservice` only names code that lives outside the container.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedInput, VisitError

from hsi_conform.errors import ProcedureError
from hsi_conform.header.grammar import grammar_text

__all__ = [
    "MAX_ITEM_LENGTH",
    "ROTATIONS",
    "Crop",
    "IndexRange",
    "Merge",
    "MergeSource",
    "Microservice",
    "OtherProcedure",
    "Procedure",
    "ProcedureError",
    "Resample",
    "Rotate",
    "Shape",
    "out_of_bounds",
    "parse_procedure",
    "parse_procedures",
]

GRAMMAR_FILE = "read_procedures.lark"
#: Items longer than this are rejected unparsed (no procedure of D4.1 needs more; it bounds the parse time).
MAX_ITEM_LENGTH = 4096
#: The ``rotate`` arguments of D4.1.
ROTATIONS = ("clockwise", "counterclockwise", "180", "swap-left-right", "swap-up-down")

Shape = tuple[int, int, int]
"""A cube size as ``(samples, lines, bands)``: the axis order D4.1 uses for ``resample`` and ``crop``."""


@dataclass(frozen=True, slots=True)
class Procedure:
    """Base of the typed procedures; :attr:`name` is the procedure's keyword."""

    name: ClassVar[str] = ""

    def shape_after(self, shape: Shape) -> Shape | None:
        """Return the cube size after this procedure, or None when it cannot be known without running it."""
        return None

    def bound_errors(self, shape: Shape) -> list[str]:
        """Return why this procedure cannot apply to a cube of ``shape`` (empty when it can)."""
        return []


@dataclass(frozen=True, slots=True)
class Microservice(Procedure):
    """``microservice:Name``: starts a (Python) micro-service routine; its effect is unknown."""

    name: ClassVar[str] = "microservice"
    service: str


@dataclass(frozen=True, slots=True)
class Resample(Procedure):
    """``resample:{samples, lines, bands}``: resamples the cube to that size."""

    name: ClassVar[str] = "resample"
    samples: int
    lines: int
    bands: int

    def shape_after(self, shape: Shape) -> Shape | None:
        """Return the requested size."""
        return (self.samples, self.lines, self.bands)


@dataclass(frozen=True, slots=True)
class IndexRange:
    """An inclusive, 0-based index range ``first:last`` of one axis."""

    first: int
    last: int

    @property
    def size(self) -> int:
        """Number of indexes in the range."""
        return self.last - self.first + 1


@dataclass(frozen=True, slots=True)
class Crop(Procedure):
    """``crop:{s0:s1, l0:l1, b0:b1}``: keeps the inclusive index ranges of the sample, line and band axes."""

    name: ClassVar[str] = "crop"
    samples: IndexRange
    lines: IndexRange
    bands: IndexRange

    def shape_after(self, shape: Shape) -> Shape | None:
        """Return the size of the cropped cube."""
        return (self.samples.size, self.lines.size, self.bands.size)

    def bound_errors(self, shape: Shape) -> list[str]:
        """Return the ranges that end beyond the cube."""
        axes = zip(("sample", "line", "band"), (self.samples, self.lines, self.bands), shape, strict=True)
        return [f"{axis} range {r.first}:{r.last} ends beyond the last {axis} index {size - 1}"
                for axis, r, size in axes if r.last >= size]


@dataclass(frozen=True, slots=True)
class Rotate(Procedure):
    """``rotate:<direction>``: one of :data:`ROTATIONS`."""

    name: ClassVar[str] = "rotate"
    direction: str

    def shape_after(self, shape: Shape) -> Shape | None:
        """Return the size after rotating (a quarter turn swaps samples and lines)."""
        if self.direction in ("clockwise", "counterclockwise"):
            return (shape[1], shape[0], shape[2])
        return shape


@dataclass(frozen=True, slots=True)
class MergeSource:
    """One cube to merge: its ID (e.g. a relative path) and its x and y offsets."""

    id: str
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class Merge(Procedure):
    """``merge:{ID:x:y[, ID:x:y]*}``: merges other hypercubes at the given offsets."""

    name: ClassVar[str] = "merge"
    sources: tuple[MergeSource, ...]


@dataclass(frozen=True, slots=True)
class OtherProcedure(Procedure):
    """A procedure D4.1 does not define yet (``name:argument``, or a bare ENVI Classic procedure name)."""

    keyword: str
    argument: str | None = None

    @property
    def name(self) -> str:  # type: ignore[override]
        """The procedure's own keyword."""
        return self.keyword


class _Build(Transformer[Token, Procedure]):
    """Turn a parse tree into a typed procedure; value checks raise :class:`ProcedureError`."""

    def start(self, children: list[Procedure]) -> Procedure:
        return children[0]

    def microservice(self, children: list[Token]) -> Procedure:
        return Microservice(str(children[0]))

    def resample(self, children: list[Token]) -> Procedure:
        sizes = [_int(t) for t in children]
        if min(sizes) < 1:
            raise ProcedureError(f"resample size {{{', '.join(map(str, sizes))}}} has a zero axis")
        return Resample(*sizes)

    def range(self, children: list[Token]) -> IndexRange:
        first, last = _int(children[0]), _int(children[1])
        if last < first:
            raise ProcedureError(f"crop range {first}:{last} ends before it starts")
        return IndexRange(first, last)

    def crop(self, children: list[IndexRange]) -> Procedure:
        return Crop(*children)

    def rotate(self, children: list[Token]) -> Procedure:
        return Rotate(str(children[0]))

    def source(self, children: list[Token]) -> MergeSource:
        return MergeSource(str(children[0]), _int(children[1]), _int(children[2]))

    def merge(self, children: list[MergeSource]) -> Procedure:
        return Merge(tuple(children))

    def other(self, children: list[Token]) -> Procedure:
        return OtherProcedure(str(children[0]), str(children[1]).strip())

    def bare(self, children: list[Token]) -> Procedure:
        return OtherProcedure(str(children[0]))


def _int(token: Token) -> int:
    # Items are at most MAX_ITEM_LENGTH characters, below Python's 4300-digit int() limit.
    return int(str(token))


@functools.cache
def parser() -> Lark:
    """Return the cached LALR parser of ``grammar/read_procedures.lark``."""
    return Lark(grammar_text(GRAMMAR_FILE), parser="lalr", lexer="contextual", maybe_placeholders=False)


def parse_procedure(text: str) -> Procedure:
    """Parse one item of ``read procedures`` (blanks around it are ignored).

    Raises:
        ProcedureError: the item is not a procedure of the grammar, a value is impossible (a zero resample
            size, a crop range that ends before it starts) or the item is longer than :data:`MAX_ITEM_LENGTH`.
    """
    if len(text) > MAX_ITEM_LENGTH:
        raise ProcedureError(f"longer than {MAX_ITEM_LENGTH} characters")
    if not text.strip():
        raise ProcedureError("empty procedure")
    try:
        return _Build().transform(parser().parse(text))
    except VisitError as exc:
        error = exc.orig_exc if isinstance(exc.orig_exc, ProcedureError) else ProcedureError(str(exc.orig_exc))
    except UnexpectedInput as exc:
        error = ProcedureError(_unexpected(text, exc), column=exc.column if exc.column > 0 else None)
    except LarkError as exc:  # pragma: no cover - any other parser failure is still a finding
        error = ProcedureError(str(exc))
    # Raised outside the handler: no lark exception (with its parser state) as the context, so that the error
    # pickles whatever the pickler (a process pool's, or distributed's, which pickles the whole chain).
    error.__context__ = error.__cause__ = None
    raise error


def _unexpected(text: str, exc: UnexpectedInput) -> str:
    token = getattr(exc, "token", None)
    pos = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
    if pos >= len(text) or (isinstance(token, Token) and token.type == "$END"):
        return "the procedure ends too early"
    return f"unexpected {text[pos:pos + 12]!r} at column {exc.column}"


def parse_procedures(items: Iterable[str]) -> list[Procedure]:
    """Parse every item of a ``read procedures`` list, in order.

    Raises:
        ProcedureError: at the first invalid item (its :attr:`ProcedureError.item` says which).
    """
    out = []
    for index, text in enumerate(items):
        try:
            out.append(parse_procedure(text))
        except ProcedureError as exc:
            raise ProcedureError(exc.reason, item=index, column=exc.column) from None
    return out


def out_of_bounds(procedures: Sequence[Procedure | None], shape: Shape) -> Iterator[tuple[int, str]]:
    """Yield ``(index, reason)`` for each procedure that does not fit the cube as the previous ones leave it.

    ``procedures`` may contain None for items that did not parse: the size is unknown after them, as after a
    micro-service or a merge, so later procedures are not judged.
    """
    current: Shape | None = shape
    for index, procedure in enumerate(procedures):
        if current is None or procedure is None:
            return
        for reason in procedure.bound_errors(current):
            yield index, reason
        current = procedure.shape_after(current)
