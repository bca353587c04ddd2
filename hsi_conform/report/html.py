"""Self-contained HTML report: one page, readable offline and printable (spec/html-report.md).

Per file: the verdict and counts, the thumbnail, a plot of the mean spectra, the member layout and the findings
grouped by member with their source excerpt and a caret; for several files a sortable summary table first; at
the end the explanation of every rule that fired, which each finding links to. Everything is inline (style,
script, images as ``data:`` URIs); a Content-Security-Policy allows only those, by hash, so the page loads
nothing from anywhere and no other script can run in it.

Every string that comes from an input (paths, member names, header text, messages) goes through Jinja2's
autoescaping, and before that through :func:`~hsi_conform.report.text.clean` (control, bidi and surrogate
characters shown as escapes). The templates are package data under ``report/templates/``; rendering needs the
``[report]`` extra (Jinja2, matplotlib).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from hsi_conform._resources import spec_excerpt
from hsi_conform._signals import checkpoint
from hsi_conform._version import __version__
from hsi_conform.errors import MissingDependencyError
from hsi_conform.finding import BaselineState, Finding, Location, Report, Severity
from hsi_conform.report._inspect import ContainerView, input_size, inspect_container
from hsi_conform.report._plot import spectrum_svg
from hsi_conform.report.text import clean
from hsi_conform.rules import RuleSpec

if TYPE_CHECKING:
    import jinja2

__all__ = ["DEFAULT_FULL_SECTIONS", "EXCERPT_WIDTH", "MAX_FINDINGS_SHOWN", "SUMMARY_ROW_BYTES", "TEXT_WIDTH", "Excerpt",
           "State", "excerpt", "finding_states", "render_html", "shorten", "verdict", "where"]

#: In a batch of more files than this, only the failing ones get a full section, and at most this many.
DEFAULT_FULL_SECTIONS = 50
#: What a summary row takes at most, besides its path (its markup is about 350 bytes).
SUMMARY_ROW_BYTES = 1024
#: The most findings a file's section lists (the most relevant ones; the rest are counted).
MAX_FINDINGS_SHOWN = 200
#: Characters of a source line shown around the caret.
EXCERPT_WIDTH = 160
#: Characters shown of a name or a message from an input (a ZIP name may be 65535 bytes long).
TEXT_WIDTH = 300
#: Detail lines shown per finding.
_MAX_DETAILS = 5
#: Other locations of an aggregated finding shown by name.
_SHOWN_OTHERS = 3
_EXTRA = "report"
_REQUIRES = ("jinja2", "matplotlib")
_ANCHOR_TAG = re.compile(r'<a id="[^"]*"></a>')
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_STRONG = re.compile(r"\*\*(.+?)\*\*")
_MD_CODE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True, slots=True)
class State:
    """A mark on a finding that changes how it counts, e.g. waived or baselined (shown as a badge).

    Attributes:
        kind: CSS-safe kind (``"suppressed"``, ``"baseline-new"``...); the page styles ``state-<kind>``.
        label: Text of the badge (e.g. the waiver's reason).
    """

    kind: str
    label: str


@dataclass(frozen=True, slots=True)
class Excerpt:
    """A source line cut around the located column: the located span is ``marked``, the caret under it.

    Attributes:
        line: 1-based line number, if known.
        before: Text before the span.
        marked: The located span (at least one character when a column is known and the line reaches it).
        after: Text after the span.
        pad: Blanks (tabs kept) as wide as ``before``, to put the caret under the span.
        caret: ``^`` and a ``~`` per further character of the span ("" when no column is known).
        cut_left: Characters of the line were left out before ``before``.
        cut_right: Characters of the line were left out after ``after``.
    """

    line: int | None
    before: str
    marked: str
    after: str
    pad: str
    caret: str
    cut_left: bool
    cut_right: bool


@dataclass(frozen=True, slots=True)
class FindingView:
    """A finding as the page shows it."""

    finding: Finding
    where: str
    excerpt: Excerpt | None
    details: tuple[str, ...]
    others: tuple[str, ...]
    states: tuple[State, ...]


@dataclass(frozen=True, slots=True)
class FileView:
    """One input file: its summary row and, when ``full``, its section."""

    index: int
    report: Report
    verdict: str
    size: int | None
    full: bool
    groups: tuple[tuple[str, tuple[FindingView, ...]], ...] = ()
    hidden_findings: int = 0
    container: ContainerView | None = None
    spectrum: str | None = None


@dataclass(frozen=True, slots=True)
class RuleView:
    """The explanation of one rule that fired (what ``hsi-conform explain`` prints, without corpus examples)."""

    id: str
    name: str
    summary: Any
    level: str
    severity: str
    regrades: str
    spec: str
    text: Any


def render_html(
    reports: Sequence[Report],
    *,
    rules: Sequence[RuleSpec] = (),
    tool_version: str = __version__,
    full_sections: int = DEFAULT_FULL_SECTIONS,
) -> str:
    """Render reports as one self-contained HTML page.

    Args:
        reports: One report per input file; each file is read again for its thumbnail, layout and spectra.
        rules: Rule metadata for the explanations (a rule missing here is explained from its findings).
        tool_version: Version named on the page.
        full_sections: When there are more reports than this, only the nonconformant and unreadable files get a
            full section, and only the first ``full_sections`` of them; every file keeps its summary row.

    Returns:
        The HTML text.

    Raises:
        MissingDependencyError: Jinja2 or matplotlib is not installed (``pip install 'hsi-conform[report]'``).
    """
    _require_extra()
    shown = _full_indices(reports, full_sections)
    files = [_file_view(i, r, i in shown) for i, r in enumerate(reports)]
    style, script = _asset("report.css"), _asset("report.js")
    page = _environment().get_template("report.html.j2").render(
        files=files,
        omitted=sum(not r.conformant for r in reports) - len(shown & _failing(reports)),
        full_sections=full_sections,
        totals=_totals(reports),
        rules=_rule_views(files, {rule.id: rule for rule in rules}),
        version=tool_version,
        style=_markup(style), script=_markup(script),
        style_hash=_csp_hash(style), script_hash=_csp_hash(script),
    )
    return page.encode("utf-8", "backslashreplace").decode("utf-8")


def _require_extra() -> None:
    missing = [name for name in _REQUIRES if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingDependencyError("the HTML report", missing, _EXTRA)


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("hsi_conform.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    environment.filters["shorten"] = shorten
    return environment


def _asset(name: str) -> str:
    """Return a file of the templates folder (the page's style and script, inlined)."""
    return files("hsi_conform.report").joinpath("templates", name).read_text(encoding="utf-8")


def _finalize(value: Any) -> Any:
    """Clean every string an expression prints (Markup, our own trusted text, is left as it is)."""
    import markupsafe

    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return clean(value, keep="\t")
    return value


def _markup(text: str) -> Any:
    import markupsafe

    return markupsafe.Markup(text)


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _failing(reports: Sequence[Report]) -> frozenset[int]:
    return frozenset(i for i, r in enumerate(reports) if not r.conformant)


def _full_indices(reports: Sequence[Report], limit: int) -> frozenset[int]:
    if len(reports) <= limit:
        return frozenset(range(len(reports)))
    return frozenset(sorted(_failing(reports))[: max(limit, 0)])


def verdict(report: Report) -> str:
    """Return ``conformant``, ``nonconformant`` or ``unreadable``."""
    if report.input_error is not None:
        return "unreadable"
    return "conformant" if report.conformant else "nonconformant"


def _totals(reports: Sequence[Report]) -> dict[str, int]:
    totals = {s.label: 0 for s in sorted(Severity, reverse=True)}
    for report in reports:
        for label, number in report.counts.items():
            totals[label] += number
    for name in ("conformant", "nonconformant", "unreadable"):
        totals[name] = sum(verdict(r) == name for r in reports)
    return totals


def _file_view(index: int, report: Report, full: bool) -> FileView:
    if not full or report.input_error is not None:
        return FileView(index, report, verdict(report), input_size(report.path), full)
    checkpoint()  # a batch's page reads many files: a signal stops it between two
    container = inspect_container(report.path)
    shown = sorted(sorted(report.findings, key=Finding.relevance_key)[:MAX_FINDINGS_SHOWN], key=Finding.sort_key)
    groups: dict[str, list[FindingView]] = {}
    for finding in shown:
        groups.setdefault(finding.location.member or "", []).append(_finding_view(finding))
    return FileView(index, report, verdict(report), container.size, full,
                    groups=tuple((member, tuple(items)) for member, items in groups.items()),
                    hidden_findings=len(report.findings) - len(shown), container=container,
                    spectrum=spectrum_svg(container.spectra))


def _finding_view(finding: Finding) -> FindingView:
    details = tuple(shorten(d) for d in finding.details[:_MAX_DETAILS])
    others = tuple(shorten(str(loc) or "the archive") for loc in finding.other_locations[:_SHOWN_OTHERS])
    return FindingView(finding, where(finding.location), excerpt(finding.location), details, others,
                       finding_states(finding))


def shorten(text: str, width: int = TEXT_WIDTH) -> str:
    """Return ``text`` cut to ``width`` characters, the cut marked with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


def where(location: Location) -> str:
    """Return where in its member a location is (``line 3:5 [samples]``, ``byte 120``); the member is the heading."""
    parts = []
    if location.line is not None:
        parts.append(f"line {location.line}" + (f":{location.column}" if location.column is not None else ""))
    elif location.offset is not None:
        parts.append(f"byte {location.offset}")
    if location.field is not None:
        parts.append(f"[{location.field}]" + (f"[{location.item}]" if location.item is not None else ""))
    return " ".join(parts)


def finding_states(finding: Finding) -> tuple[State, ...]:
    """Return the marks of a finding: waived (suppressed, with the waiver's reason) and its baseline state.

    A waived or baselined (``unchanged``) finding does not count toward the verdict (spec/report.md); the page
    dims it and says why.
    """
    states = []
    if finding.suppression is not None:
        until = f" until {finding.suppression.expires.isoformat()}" if finding.suppression.expires else ""
        states.append(State("suppressed", f"waived{until}: {finding.suppression.justification}"))
    if finding.baseline_state is not None:
        states.append(State(f"baseline-{finding.baseline_state.value}",
                            "new since the baseline" if finding.baseline_state is BaselineState.NEW
                            else "in the baseline"))
    return tuple(states)


def excerpt(location: Location, width: int = EXCERPT_WIDTH) -> Excerpt | None:
    """Return the source excerpt of a location cut to ``width`` characters around its column (None: no excerpt)."""
    if location.excerpt is None:
        return None
    text = location.excerpt.rstrip("\r\n")
    first = (location.excerpt_start or 1) - 1
    if location.column is None:
        return Excerpt(location.line, text[:width], "", "", "", "", first > 0, len(text) > width)
    index = min(max(location.column - 1 - first, 0), len(text))
    span = 1
    if location.end_line in (None, location.line) and location.end_column:
        span = max(1, location.end_column - location.column)
    start = max(0, min(index - width // 2, len(text) - width))
    end = min(len(text), start + width)
    span = max(0, min(span, end - index))
    before, marked, after = text[start:index], text[index : index + span], text[index + span : end]
    pad = "".join("\t" if c == "\t" else " " for c in clean(before, keep="\t"))
    return Excerpt(location.line, before, marked, after, pad, "^" + "~" * (span - 1) if span else "^",
                   first + start > 0, end < len(text))


def _rule_views(files: Sequence[FileView], registry: Mapping[str, RuleSpec]) -> list[RuleView]:
    fired: dict[str, Finding] = {}
    for file in files:
        for _, items in file.groups:
            for view in items:
                fired.setdefault(view.finding.rule, view.finding)
    return [_rule_view(registry.get(rule), fired[rule]) for rule in sorted(fired)]


def _rule_view(rule: RuleSpec | None, finding: Finding) -> RuleView:
    spec = rule.spec if rule is not None else finding.spec
    text = _spec_html(spec_excerpt(spec) or "")
    if rule is None:
        return RuleView(finding.rule, finding.name, "", finding.level.value, "", "", spec, text)
    regrades = ", ".join(f"{p}: {label}" for p, label in rule.regrades.items())
    return RuleView(rule.id, rule.name, _inline_markdown(rule.summary), rule.level.value, rule.severity.label,
                    regrades, spec, text)


def _spec_html(excerpt: str) -> Any:
    """Return a spec excerpt as one paragraph of HTML: its heading line dropped (the rule names it), lines joined."""
    lines = [line.strip() for line in _ANCHOR_TAG.sub("", excerpt).splitlines()]
    if lines and lines[0].startswith("#"):
        lines = lines[1:]
    text = " ".join(line for line in lines if line)
    return _inline_markdown(text[2:] if text.startswith("- ") else text)


def _inline_markdown(text: str) -> Any:
    """Return our own Markdown (spec pages, rule summaries) as HTML: escaped first, then bold, code and link text."""
    import markupsafe

    html = str(markupsafe.escape(_MD_LINK.sub(r"\1", text)))
    html = _MD_STRONG.sub(r"<strong>\1</strong>", html)
    return markupsafe.Markup(_MD_CODE.sub(r"<code>\1</code>", html))
