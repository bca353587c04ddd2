"""Human-readable report: one block per finding with an excerpt and a caret, then a verdict per file.

How much is shown follows the verbosity (spec/cli.md#volume): by default a clean file is its verdict line, and
rules skipped only because of the content tier are summarised once for the run; ``verbosity >= 1`` lists every
skipped rule under its file and the configuration file used; ``verbosity <= -1`` keeps the findings, the verdict
lines of the files that do not conform and the run's total.

Identical occurrences (same rule, message, member and severity) are shown once, with their count and a few of the other
places; the machine-readable formats list every occurrence. Waived findings are shown, marked; findings unchanged
since a baseline are only counted, and the baseline's entries that were not found again are listed as fixed.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from typing import TextIO

from hsi_conform.finding import BaselineEntry, BaselineState, Finding, Location, Report, Severity, Suppression

__all__ = ["TextWriter", "clean", "render_text"]

_EXCERPT_WIDTH = 120
_SHOWN_OTHERS = 3
_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_GREEN = "\x1b[32m"
_COLORS = {
    Severity.FATAL: "\x1b[1;35m",
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[33m",
    Severity.INFO: "\x1b[36m",
}
# Control, format (bidi overrides), surrogate, private and unassigned characters come from hostile input
# and must not reach a terminal raw.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def clean(text: str, *, keep: str = "") -> str:
    r"""Return ``text`` with terminal-unsafe characters escaped (``\x1b``), except those in ``keep``."""
    if text.isprintable() and not keep:
        return text
    return "".join(
        c if c in keep or unicodedata.category(c) not in _UNSAFE_CATEGORIES else _escape(c) for c in text
    )


class _Style:
    """Applies ANSI colour only when asked."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text


def _window(location: Location, excerpt: str) -> tuple[str, int, str]:
    """Cut a long line around the column: (text, 0-based caret index, left marker)."""
    first = (location.excerpt_start or 1) - 1
    index = max((location.column or 1) - 1 - first, 0)
    cut = Location(column=index + 1, excerpt=excerpt).trimmed(_EXCERPT_WIDTH)
    start = (cut.excerpt_start or 1) - 1
    text = cut.excerpt or ""
    return text, index - start, "…" if first + start else ""


def _excerpt_lines(location: Location, style: _Style) -> list[str]:
    if location.excerpt is None:
        return []
    gutter = f"{location.line:>5} | " if location.line is not None else "      | "
    text, index, left = _window(location, location.excerpt.rstrip("\r\n"))
    lines = [f"{gutter}{left}{clean(text, keep=chr(9))}"]
    if location.column is None:
        return lines
    prefix = clean(text[:index], keep="\t")
    width = 1
    if location.end_line in (None, location.line) and location.end_column:
        width = max(1, min(location.end_column - location.column, len(text) - index))
    pad = "".join("\t" if c == "\t" else " " for c in left + prefix)
    lines.append("      | " + pad + style("^" + "~" * (width - 1), _GREEN))
    return lines


def _grouped(findings: Sequence[Finding]) -> list[tuple[Finding, int, list[Location]]]:
    """Group identical occurrences: (the first, how many, the other locations), in order of the first."""
    groups: dict[tuple[str, str, str | None, Severity, Suppression | None], list[Finding]] = {}
    for finding in findings:
        if finding.baseline_state is BaselineState.UNCHANGED:
            continue  # in the baseline: counted in the summary, not shown
        key = (finding.rule, finding.message, finding.location.member, finding.severity, finding.suppression)
        groups.setdefault(key, []).append(finding)
    result = []
    for first, *rest in groups.values():
        others = [*first.other_locations]
        for finding in rest:
            others += [finding.location, *finding.other_locations]
        result.append((first, sum(f.count for f in (first, *rest)), others))
    return result


def _finding_lines(report: Report, finding: Finding, count: int, others: Sequence[Location],
                   style: _Style) -> list[str]:
    where = clean(str(finding.location))
    head = clean(report.path) + (f":{where}" if where else "")
    severity = style(finding.severity.label, _COLORS[finding.severity])
    waived = " (waived)" if finding.suppression is not None else ""
    lines = [f"{head}: {severity} {style(finding.rule, _BOLD)} [{finding.name}] {clean(finding.message)}{waived}"]
    lines.extend(_excerpt_lines(finding.location, style))
    lines.extend(f"      = {clean(detail)}" for detail in finding.details)
    if count > 1:
        shown = ", ".join(clean(str(loc)) or "<archive>" for loc in others[:_SHOWN_OTHERS])
        lines.append(f"      = {count} occurrences; also at {shown}")
    if finding.suppression is not None:
        lines.append(f"      = waived: {_waiver_text(finding.suppression)}")
    return lines


def _waiver_text(suppression: Suppression) -> str:
    where = [clean(suppression.source)] if suppression.source else []
    where += [f"until {suppression.expires.isoformat()}"] if suppression.expires else []
    return clean(suppression.justification) + (f" ({', '.join(where)})" if where else "")


def _absent_line(report: Report, entry: BaselineEntry) -> str:
    where = clean(entry.member or "") + (f" [{clean(entry.field)}]" if entry.field else "")
    head = clean(report.path) + (f":{where.strip()}" if where.strip() else "")
    return f"{head}: fixed {entry.rule} {clean(entry.message)} (in the baseline, not found again)"


def _marks(report: Report) -> str:
    """Return the summary's tail: waived findings and the comparison with a baseline."""
    waived = sum(f.count for f in report.findings if f.suppression is not None)
    text = f"; {waived} waived" if waived else ""
    states = [f.baseline_state for f in report.findings]
    if report.baseline is not None and (states or report.absent):
        text += (f"; baseline {clean(report.baseline)}: {states.count(BaselineState.NEW)} new, "
                 f"{states.count(BaselineState.UNCHANGED)} unchanged (not shown), {len(report.absent)} fixed")
    return text


def _summary_lines(report: Report, style: _Style, verbosity: int = 0) -> list[str]:
    if report.input_error is not None:
        unreadable = style("UNREADABLE", _COLORS[Severity.FATAL])
        return [f"{clean(report.path)}: {unreadable}: cannot read: {clean(report.input_error)}"]
    bad = style("NONCONFORMANT", _COLORS[Severity.ERROR])
    verdict = style("conformant", _GREEN) if report.conformant else bad
    counts = ", ".join(f"{n} {label}" for label, n in report.counts.items())
    lines = [
        f"{clean(report.path)}: {verdict} (profile {report.profile}, fail-on {report.fail_on.label}, "
        f"content {report.content}): {counts}{_marks(report)}"
    ]
    if verbosity > 0:
        lines.append(f"  configuration: {clean(report.config) if report.config else 'none (defaults)'}")
    for notice in report.notices:
        source = f" ({clean(notice.source)})" if notice.source else ""
        lines.append(f"  {style('warning', _COLORS[Severity.WARNING])}: {clean(notice.message)}{source}")
    for skipped in report.skipped:
        if skipped.needs is None or verbosity > 0:  # the content tier's skips are summarised once per run
            lines.append(f"  skipped {skipped.kind} {skipped.target}: {clean(skipped.reason)}")
    for error in report.internal_errors:
        lines.append(f"  internal error (please report this bug): {clean(error)}")
    return lines


def _tier_summary(needs: dict[str, set[str]]) -> list[str]:
    """Return the one line that names the rules the chosen content tier skipped, over the whole run."""
    if not needs:
        return []
    tiers = "/".join(sorted({tier for tiers in needs.values() for tier in tiers}))
    ids = ", ".join(sorted(needs))
    rules = "rule needs" if len(needs) == 1 else "rules need"
    return [f"{len(needs)} {rules} --content {tiers} and did not run ({ids}; -v lists them per file)"]


class TextWriter:
    """Writes the text report as the reports arrive: each file's lines at once, the run's summary at the end.

    What the end needs is counted as it goes (files, conformant, unreadable, the rules the content tier skipped),
    so no report is kept (spec/report.md#streaming). With ``-q``, a conformant file's verdict is shown only when
    it is the run's only file: the first such verdict waits until a second file arrives or the run ends.

    Args:
        out: Where the text goes.
        color: Emit ANSI colour codes (only when writing to a terminal).
        verbosity: ``-v`` count minus ``-q`` count (see the module doc).
    """

    def __init__(self, out: TextIO, *, color: bool = False, verbosity: int = 0) -> None:
        self._out = out
        self._style = _Style(color)
        self._verbosity = verbosity
        self._files = self._good = self._unreadable = 0
        self._needs: dict[str, set[str]] = {}
        self._waiting: list[str] = []  # -q: the first file's verdict, shown only if no other file follows
        self._wrote = False

    def write(self, report: Report) -> None:
        """Write the lines of one more file."""
        if self._verbosity <= -2:
            return
        self._files += 1
        self._good += report.conformant
        self._unreadable += report.input_error is not None
        for skipped in report.skipped:
            if skipped.needs is not None:
                self._needs.setdefault(skipped.target, set()).add(skipped.needs)
        self._waiting.clear()  # a second file: the first one's verdict stays hidden
        lines: list[str] = []
        for finding, count, others in _grouped(report.findings):
            lines.extend(_finding_lines(report, finding, count, others, self._style))
        lines.extend(_absent_line(report, entry) for entry in report.absent)
        summary = _summary_lines(report, self._style, self._verbosity)
        if self._verbosity >= 0 or not report.conformant:
            lines.extend(summary)
        elif self._files == 1:
            self._waiting = summary
        self._lines(lines)

    def close(self) -> None:
        """Write the end: the held verdict of a lone file, the content tier's line and the run's total."""
        if self._verbosity <= -2:
            return
        lines = self._waiting if self._files == 1 else []
        if self._verbosity == 0:
            lines += _tier_summary(self._needs)
        if self._files > 1:
            bad = self._files - self._good - self._unreadable
            lines.append(f"{self._files} files: {self._good} conformant, {bad} nonconformant"
                         + (f", {self._unreadable} unreadable" if self._unreadable else ""))
        self._lines(lines)
        if not self._wrote:
            self._out.write("\n")

    def _lines(self, lines: list[str]) -> None:
        if lines:
            self._out.write("\n".join(lines) + "\n")
            self._wrote = True


def render_text(reports: Sequence[Report], *, color: bool = False, verbosity: int = 0) -> str:
    """Render reports for a human (what :class:`TextWriter` writes, as one string).

    Args:
        reports: One report per input file.
        color: Emit ANSI colour codes (only when writing to a terminal).
        verbosity: ``-v`` count minus ``-q`` count (see the module doc).

    Returns:
        The text, ending with a newline (empty when ``verbosity <= -2``).
    """
    out = io.StringIO()
    writer = TextWriter(out, color=color, verbosity=verbosity)
    for report in reports:
        writer.write(report)
    writer.close()
    return out.getvalue()
