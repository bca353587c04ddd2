"""``LAY`` rules: which members a container has, and where (spec/container.md#layout).

Every member name is classified once (:func:`classify`) against the documented layout of D4.1 §2.2: the root
files, the ``preview_<lod>`` proxies and the documented sub-directories ``Reference/``, ``Exploration/`` and
``Metadata/``. The rules then report the classes they own, so a name is never reported twice by the layout
rules. They run on ``.hsi`` files and expanded folders alike; only the alignment rule is specific to ``.hsi``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from enum import Enum

from hsi_conform.finding import Level, Location, Problem, Severity
from hsi_conform.members import (
    CUBE_DATA,
    CUBE_HEADER,
    DATA_SUFFIX,
    DOCUMENTED_DIRS,
    MANDATORY,
    PREVIEW_PATTERN,
    PREVIEW_PATTERN_ANY_CASE,
    REFERENCE_DIR,
    REFERENCE_NAMES,
    ROOT_NAMES,
    THUMBNAIL,
    MemberTree,
    header_of,
    preview_stem,
    scope_of,
)
from hsi_conform.rules import SkipRule, rule
from hsi_conform.rules.context import CheckContext

__all__ = ["ALIGNMENT", "DOCUMENTED_DIRS", "Placement", "classify", "documented_spelling"]

ALIGNMENT = 4096
"""Data offset a writer should give ``.envi`` members (a page; spec/container.md#alignment)."""


class Placement(Enum):
    """Where a member name stands with respect to the documented layout."""

    DOCUMENTED = "documented"
    """A documented name, or anything inside a documented sub-directory."""
    MANDATORY_CASE = "mandatory-case"
    """A case variant of ``data.hdr`` or ``data.envi``."""
    CASE = "case"
    """A case variant of another documented name or directory."""
    THUMBNAIL = "thumbnail"
    """``thumbnail.jpg`` (in any case) somewhere else than the root."""
    UNKNOWN = "unknown"
    """Neither documented nor a variant of a documented name."""


def documented_spelling(name: str) -> str | None:
    """Return the documented spelling of a name that differs from it only in letter case, else ``None``.

    Args:
        name: A member name (directories end with ``/``).

    Returns:
        E.g. ``"data.hdr"`` for ``"Data.hdr"``, ``"Reference/white.envi"`` for ``"reference/White.envi"``.
    """
    parts = name.split("/")
    fixed = list(parts)
    if len(parts) == 1:
        fixed[0] = _respell(parts[0], ROOT_NAMES) or _respell_preview(parts[0]) or parts[0]
    else:
        fixed[0] = _respell(parts[0], DOCUMENTED_DIRS) or parts[0]
        if fixed[0] + "/" == REFERENCE_DIR and len(parts) == 2:
            fixed[1] = _respell(parts[1], REFERENCE_NAMES) or parts[1]
    spelled = "/".join(fixed)
    return spelled if spelled != name else None


def _respell(part: str, documented: tuple[str, ...]) -> str | None:
    folded = part.casefold()
    return next((d for d in documented if d.casefold() == folded), None)


def _respell_preview(part: str) -> str | None:
    # The <lod> identifier is free text, so only the fixed parts are respelled.
    m = PREVIEW_PATTERN_ANY_CASE.fullmatch(part)
    return f"{preview_stem(m['lod'] or '')}.{m['ext'].lower()}" if m else None


@functools.lru_cache(maxsize=1 << 14)  # each name is classified by four rules
def classify(name: str) -> Placement:
    """Classify one member name against the documented layout (see :class:`Placement`).

    Args:
        name: A member name (directories end with ``/``).

    Returns:
        Its placement.
    """
    path = name.rstrip("/")
    if "/" in path and path.rsplit("/", 1)[1].casefold() == THUMBNAIL:
        return Placement.THUMBNAIL
    spelled = documented_spelling(name)
    if spelled is not None:
        return Placement.MANDATORY_CASE if spelled in MANDATORY else Placement.CASE
    top = path.split("/")[0]
    if top in DOCUMENTED_DIRS and (path != top or name.endswith("/")):
        return Placement.DOCUMENTED
    if "/" not in name and (name in ROOT_NAMES or PREVIEW_PATTERN.fullmatch(name)):
        return Placement.DOCUMENTED
    return Placement.UNKNOWN


def _require_container(ctx: CheckContext) -> None:
    if ctx.container is None:
        raise SkipRule(f"the container could not be opened ({ctx.open_error})")


def _names(ctx: CheckContext) -> list[str]:
    """Return the member names to judge: files, plus directory entries with nothing inside (empty directories).

    A folder always lists its directories and a ZIP may or may not have explicit directory entries
    (spec/container.md#directory-entries); judging only empty ones makes both report the same.
    """
    _require_container(ctx)
    return ctx.shared(_names_judged)


def _names_judged(ctx: CheckContext) -> list[str]:
    return _judged_names(ctx.names, ctx.options.limits.max_name_depth)


def _judged_names(names: tuple[str, ...], max_depth: int) -> list[str]:
    # A tree of components, never the set of every parent path: that set is quadratic in a deep name.
    tree = MemberTree(max_depth)
    for name in names:
        tree.add(name)
    return [n for n in names if not n.endswith("/") or not tree.has_members_under(n)]


def _placed(ctx: CheckContext, placement: Placement) -> Iterator[str]:
    return (n for n in _names(ctx) if classify(n) is placement)


def _variant_hint(ctx: CheckContext, wanted: str) -> str:
    variants = [n for n in ctx.names if documented_spelling(n) == wanted]
    return f" (found {', '.join(map(repr, variants))}: member names are case-sensitive)" if variants else ""


@rule("LAY001", "lay-data-header-missing", severity=Severity.FATAL, level=Level.CONTAINER,
      spec="container.md#lay-data-header-missing")
def data_header_missing(ctx: CheckContext) -> Iterator[Problem]:
    """Every container has the metadata hub `data.hdr` at its root.

    FATAL: every header, field and consistency rule starts from it.
    """
    _require_container(ctx)
    if not ctx.has(CUBE_HEADER):
        yield Problem(f"the mandatory member {CUBE_HEADER} is missing{_variant_hint(ctx, CUBE_HEADER)}")


@rule("LAY002", "lay-data-missing", severity=Severity.ERROR, level=Level.CONTAINER,
      spec="container.md#lay-data-missing")
def data_missing(ctx: CheckContext) -> Iterator[Problem]:
    """Every container has the hypercube `data.envi` at its root."""
    _require_container(ctx)
    if not ctx.has(CUBE_DATA):
        yield Problem(f"the mandatory member {CUBE_DATA} is missing{_variant_hint(ctx, CUBE_DATA)}")


@rule("LAY003", "lay-mandatory-name-case", severity=Severity.ERROR, level=Level.CONTAINER,
      spec="container.md#lay-mandatory-name-case")
def mandatory_name_case(ctx: CheckContext) -> Iterator[Problem]:
    """Mandatory members are spelled exactly `data.hdr` and `data.envi`."""
    for name in _placed(ctx, Placement.MANDATORY_CASE):
        yield Problem(f"{name!r} is not a mandatory member: rename it to {documented_spelling(name)!r}",
                      Location(member=name))


@rule("LAY004", "lay-name-case", severity=Severity.WARNING, level=Level.CONTAINER,
      spec="container.md#lay-name-case")
def name_case(ctx: CheckContext) -> Iterator[Problem]:
    """Documented optional names keep their documented case (`Reference/`, `preview.hdr`, ...)."""
    for name in _placed(ctx, Placement.CASE):
        yield Problem(f"readers look for {documented_spelling(name)!r}, not {name!r}", Location(member=name))


@rule("LAY005", "lay-envi-without-header", severity=Severity.ERROR, level=Level.CONTAINER,
      spec="container.md#lay-envi-without-header")
def envi_without_header(ctx: CheckContext) -> Iterator[Problem]:
    """Every ENVI data member (`.envi`) in a documented location has its `.hdr` next to it."""
    for name in _names(ctx):
        if not name.endswith(DATA_SUFFIX) or name == CUBE_DATA:
            continue  # data.envi without data.hdr is LAY001
        header = header_of(name)
        if scope_of(header) is not None and not ctx.has(header):
            yield Problem(f"{name} has no header {header}", Location(member=name))


@rule("LAY006", "lay-header-without-data", severity=Severity.ERROR, level=Level.CONTAINER,
      spec="container.md#lay-header-without-data")
def header_without_data(ctx: CheckContext) -> Iterator[Problem]:
    """Every ENVI header (`.hdr`) in a documented location has its `.envi` data next to it."""
    _require_container(ctx)
    for pair in ctx.envi_pairs():
        if pair.header != CUBE_HEADER and not ctx.has(pair.data):  # data.hdr without data.envi is LAY002
            yield Problem(f"{pair.header} has no data file {pair.data}", Location(member=pair.header))


@rule("LAY007", "lay-thumbnail-misplaced", severity=Severity.WARNING, level=Level.CONTAINER,
      spec="container.md#lay-thumbnail-misplaced")
def thumbnail_misplaced(ctx: CheckContext) -> Iterator[Problem]:
    """Every `thumbnail.jpg` is the root member: none sits in a sub-directory."""
    for name in _placed(ctx, Placement.THUMBNAIL):
        yield Problem(f"{name} is not the thumbnail: readers only look for {THUMBNAIL} at the root",
                      Location(member=name))


@rule("LAY008", "lay-unknown-member", severity=Severity.INFO, level=Level.CONTAINER,
      spec="container.md#lay-unknown-member")
def unknown_member(ctx: CheckContext) -> Iterator[Problem]:
    """Members are documented root files or lie under `Reference/`, `Exploration/` or `Metadata/`."""
    for name in _placed(ctx, Placement.UNKNOWN):
        where = "at the root" if "/" not in name.rstrip("/") else "outside the documented sub-directories"
        yield Problem(f"{name} is not part of the documented layout ({where})", Location(member=name))


@rule("LAY009", "lay-unaligned-data", severity=Severity.INFO, level=Level.CONTAINER,
      spec="container.md#lay-unaligned-data", fix="safe")
def unaligned_data(ctx: CheckContext) -> Iterator[Problem]:
    """Every `.envi` member of a `.hsi` file has its data at a multiple of 4096 bytes."""
    names = _names(ctx)
    if ctx.container is None or not ctx.container.is_zip:
        return  # a folder's files start at offset 0
    for name in names:
        info = ctx.info(name) if name.endswith(DATA_SUFFIX) else None
        if info is not None and info.offset % ALIGNMENT:
            yield Problem(f"the data of {name} starts at byte {info.offset}, not at a multiple of {ALIGNMENT}",
                          Location(member=name, offset=info.offset))
