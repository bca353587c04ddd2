"""``HDR`` rules: the header-syntax decisions of spec/header-syntax.md.

One rule per row of :data:`hsi_conform.header.diagnostics.DIAGNOSTICS` (registered from that table, so the
table stays the single source), plus ``HDR000`` for a header member that is not an ENVI header at all and
``HDR034`` for one too large to read (spec/safety.md#limits).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from hsi_conform.finding import Level, Location, Problem, Severity
from hsi_conform.header import Header
from hsi_conform.header.diagnostics import DIAGNOSTICS, SyntaxDecision
from hsi_conform.header.model import Diagnostic
from hsi_conform.rules import rule
from hsi_conform.rules.context import CheckContext, diagnostic_location


@rule("HDR000", "hdr-not-an-envi-header", old_names=("not-an-envi-header",), severity=Severity.FATAL,
      level=Level.SYNTAX, spec="header-syntax.md#magic")
def not_an_envi_header(ctx: CheckContext) -> Iterator[Problem]:
    """Every ENVI header member of the container starts with the ``ENVI`` magic."""
    for pair in ctx.envi_pairs():
        if ctx.header(pair.header) is None and pair.header in ctx.header_errors:
            yield Problem(ctx.header_errors[pair.header], Location(member=pair.header, line=1, column=1,
                                                                    offset=0))


@rule("HDR034", "hdr-too-large", severity=Severity.FATAL, level=Level.SYNTAX, spec="header-syntax.md#too-large")
def too_large(ctx: CheckContext) -> Iterator[Problem]:
    """No ENVI header member is larger than the configured limit (16 MiB by default); a larger one is never read.

    FATAL like ``HDR000``: the header is not parsed, so nothing that depends on it can be judged.
    """
    limit = ctx.options.limits.max_header_bytes
    for pair in ctx.envi_pairs():
        if ctx.header(pair.header) is None and pair.header in ctx.oversized_headers:
            size = ctx.oversized_headers[pair.header]
            yield Problem(f"the header is {size} bytes long, more than the limit of {limit} bytes (max-header-bytes);"
                          " it is not read", Location(member=pair.header, offset=0))


def _diagnostics_by_code(ctx: CheckContext) -> dict[str, list[tuple[str, Header, Diagnostic]]]:
    """Return every diagnostic of every parsed header as ``(member, header, diagnostic)``, by code, in header order."""
    found: dict[str, list[tuple[str, Header, Diagnostic]]] = {}
    for pair in ctx.envi_pairs():
        header = ctx.header(pair.header)
        if header is not None:
            for d in header.diagnostics:
                found.setdefault(d.code, []).append((pair.header, header, d))
    return found


def _diagnostic_check(decision: SyntaxDecision) -> Callable[[CheckContext], list[Problem]]:
    def check(ctx: CheckContext) -> list[Problem]:
        # Some forty rules each want one code: the diagnostics are grouped once per context, not scanned per rule;
        # a list, not a generator, as nearly every header has none of them.
        found = ctx.shared(_diagnostics_by_code).get(decision.code)
        if not found:
            return []
        return [Problem(d.message, diagnostic_location(member, header, d)) for member, header, d in found]

    check.__name__ = decision.code.replace("-", "_")
    check.__doc__ = decision.summary
    return check


for _decision in DIAGNOSTICS:
    # The rule is named after its diagnostic code, with the area in front (the code alone was its first name).
    rule(_decision.id, f"hdr-{_decision.code}", old_names=(_decision.code,), severity=_decision.severity,
         level=Level.SYNTAX, spec=_decision.anchor, profiles={"reader": _decision.reader},
         fix=_decision.fix, judged_by=(_diagnostics_by_code, _decision.code))(_diagnostic_check(_decision))
