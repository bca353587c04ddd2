"""``FLD`` rules on values that point elsewhere: ``read procedures`` and file names in header values.

Procedures are parsed with :mod:`hsi_conform.header.procedures` and never executed. File names are resolved inside the
container only. Decisions and reasons: spec/semantics.md#read-procedures and spec/semantics.md#file-references.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from hsi_conform.fields import NO_SENSOR_TYPES
from hsi_conform.finding import Level, Problem, Severity
from hsi_conform.header.procedures import (
    Microservice,
    OtherProcedure,
    Procedure,
    ProcedureError,
    out_of_bounds,
    parse_procedure,
)
from hsi_conform.members import DATA_SUFFIX, EXPLORATION_DIR, METADATA_DIR
from hsi_conform.rules import rule
from hsi_conform.rules.context import CheckContext
from hsi_conform.rules.fields_common import Field, capped, fields, positive_int

#: Only the first procedures are parsed (bounded time on a hostile list); no real chain comes close.
MAX_PROCEDURES = 1000
#: Header fields whose value names a member, and the directory it lives in (not in the field table yet).
LINKS = {"classification file": EXPLORATION_DIR, "bounding boxes": EXPLORATION_DIR, "sensor type": METADATA_DIR}
_MUST_EXIST = ("classification file", "bounding boxes")
_NO_SENSOR = frozenset(t.lower() for t in NO_SENSOR_TYPES)
_DRIVE = re.compile(r"[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@functools.lru_cache(maxsize=32)
def _parsed(items: tuple[str, ...]) -> tuple[Procedure | ProcedureError, ...]:
    out: list[Procedure | ProcedureError] = []
    for text in items[:MAX_PROCEDURES]:
        try:
            out.append(parse_procedure(text))
        except ProcedureError as exc:
            out.append(exc)
    return tuple(out)


def _procedures(ctx: CheckContext) -> Iterator[tuple[Field, tuple[Procedure | ProcedureError, ...]]]:
    for f in fields(ctx, keys=["read procedures"]):
        if f.entry.is_list:  # a scalar is FLD004
            yield f, _parsed(f.entry.items or ())


@rule("FLD019", "fld-read-procedure-invalid", old_names=("read-procedure-invalid",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#read-procedures")
def read_procedure_invalid(ctx: CheckContext) -> Iterator[Problem]:
    """Every `read procedures` item follows grammar/read_procedures.lark (crop, resample, rotate, ...)."""
    for f, parsed in _procedures(ctx):
        bad = ((i, p) for i, p in enumerate(parsed) if isinstance(p, ProcedureError))
        yield from capped(f.problem(f"item {i}: {p.reason}", i) for i, p in bad)
        if len(f.entry.items or ()) > MAX_PROCEDURES:
            yield f.problem(f"more than {MAX_PROCEDURES} procedures; the rest is not checked", MAX_PROCEDURES)


@rule("FLD020", "fld-read-procedure-unknown", old_names=("read-procedure-unknown",),
      severity=Severity.WARNING, level=Level.SEMANTICS,
      spec="semantics.md#unknown-procedures")
def read_procedure_unknown(ctx: CheckContext) -> Iterator[Problem]:
    """`read procedures` items name a procedure of D4.1 (microservice, resample, crop, rotate, merge)."""
    for f, parsed in _procedures(ctx):
        unknown = ((i, p) for i, p in enumerate(parsed) if isinstance(p, OtherProcedure))
        yield from capped(f.problem(f"item {i}: unknown procedure {p.name!r}", i) for i, p in unknown)


@rule("FLD021", "fld-read-procedure-microservice", old_names=("read-procedure-microservice",),
      severity=Severity.INFO, level=Level.SEMANTICS,
      spec="semantics.md#microservices")
def read_procedure_microservice(ctx: CheckContext) -> Iterator[Problem]:
    """`microservice:` procedures are listed: they run code that is not in the container."""
    for f, parsed in _procedures(ctx):
        services = ((i, p) for i, p in enumerate(parsed) if isinstance(p, Microservice))
        yield from capped(f.problem(f"item {i}: runs micro-service {p.service!r}", i) for i, p in services)


@rule("FLD022", "fld-read-procedure-out-of-bounds", old_names=("read-procedure-out-of-bounds",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#procedure-bounds")
def read_procedure_out_of_bounds(ctx: CheckContext) -> Iterator[Problem]:
    """`crop` ranges lie within the cube as the procedures before it leave it."""
    for f, parsed in _procedures(ctx):
        dims = [positive_int(f.header, key) for key in ("samples", "lines", "bands")]
        if None in dims:
            continue  # FLD001, FLD004, FLD009
        shape = (dims[0] or 0, dims[1] or 0, dims[2] or 0)
        chain = [p if isinstance(p, Procedure) else None for p in parsed]
        yield from capped(f.problem(f"item {i}: {reason}", i) for i, reason in out_of_bounds(chain, shape))


def link_problem(key: str, value: str) -> str | None:
    """Return why a file name in a header value cannot name a member of the container, or None."""
    if "\\" in value:
        return "contains a backslash"
    if value.startswith("/") or _DRIVE.match(value):
        return "is an absolute path"
    if ".." in value.split("/"):
        return "contains a '..' component"
    if _CONTROL.search(value):
        return "contains a control character"
    if key == "classification file" and not value.endswith(DATA_SUFFIX):
        return "does not name an .envi file"
    return None


def link_target(key: str, value: str) -> str:
    """Return the member a file name of a header value resolves to (relative to its field's directory)."""
    folder = LINKS[key]
    return value if value.startswith(folder) else folder + value


def _links(ctx: CheckContext) -> Iterator[tuple[Field, str]]:
    for f in fields(ctx, keys=LINKS):
        if not f.entry.is_list:  # a list is FLD004
            yield f, f.entry.value_raw.strip(" \t")


@rule("FLD023", "fld-file-reference-invalid", old_names=("file-reference-invalid",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#file-references")
def file_reference_invalid(ctx: CheckContext) -> Iterator[Problem]:
    """File names in header values stay inside the container (no `..`, no absolute path, no backslash)."""
    for f, value in _links(ctx):
        reason = link_problem(f.key, value)
        if reason is not None:
            yield f.problem(f"{value!r} {reason}")


@rule("FLD024", "fld-file-reference-missing", old_names=("file-reference-missing",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#file-references")
def file_reference_missing(ctx: CheckContext) -> Iterator[Problem]:
    """`classification file` and `bounding boxes` name members that exist in Exploration/."""
    for f, value in _links(ctx):
        if f.key in _MUST_EXIST and link_problem(f.key, value) is None:
            target = link_target(f.key, value)
            if not ctx.has(target):
                yield f.problem(f"{target!r} is not in the container")


@rule("FLD025", "fld-sensor-file-missing", old_names=("sensor-file-missing",),
      severity=Severity.WARNING, level=Level.SEMANTICS,
      spec="semantics.md#sensor-type")
def sensor_file_missing(ctx: CheckContext) -> Iterator[Problem]:
    """`sensor type` names a camera file under Metadata/ (the name itself, or with an extension); `Unknown` none."""
    for f, value in _links(ctx):
        if f.key == "sensor type" and value.lower() not in _NO_SENSOR and link_problem(f.key, value) is None:
            target = link_target(f.key, value)
            if not ctx.has(target) and not any(n.startswith(target + ".") for n in ctx.names):
                yield f.problem(f"no camera file {target!r} in the container")
