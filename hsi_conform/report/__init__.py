"""Report renderers: one report model, rendered as text, JSON, SARIF 2.1.0, JUnit XML or an HTML page.

:data:`RENDERERS` is the table of formats: a new format is a renderer module and a row there, and
``hsi-conform validate --format`` offers it. :func:`open_writer` gives a writer that takes the reports one at a
time as a batch yields them (spec/report.md#streaming): the formats of :data:`WRITERS` (text, JSON, JUnit) keep
none of them (text is written as they arrive; JSON and JUnit spool their items and write the document at the
end); the others (SARIF, HTML) keep them all and render at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol, TextIO

from hsi_conform._version import __version__
from hsi_conform.finding import Report
from hsi_conform.report.html import DEFAULT_FULL_SECTIONS, render_html
from hsi_conform.report.json import JsonWriter, render_json
from hsi_conform.report.junit import JunitWriter, render_junit
from hsi_conform.report.sarif import render_sarif
from hsi_conform.report.text import TextWriter, render_text
from hsi_conform.rules import RuleSpec, load_builtin_rules

__all__ = ["FORMATS", "RENDERERS", "WRITERS", "RenderOptions", "ReportWriter", "open_writer", "render",
           "render_html", "render_json", "render_junit", "render_sarif", "render_text"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderOptions:
    """What a renderer may use besides the reports.

    Attributes:
        color: ANSI colour (only the text format uses it).
        rules: Rule metadata for SARIF, JUnit and HTML (None: every registered rule).
        tool_version: Version recorded in the machine-readable formats.
        full_sections: HTML: in a larger batch only the failing files get a full section, at most this many.
        verbosity: Text: ``-v`` count minus ``-q`` count (spec/cli.md#volume).
    """

    color: bool = False
    rules: Sequence[RuleSpec] | None = None
    tool_version: str = __version__
    full_sections: int = DEFAULT_FULL_SECTIONS
    verbosity: int = 0

    def known_rules(self) -> Sequence[RuleSpec]:
        """Return :attr:`rules`, or every registered rule (built-ins loaded) when it is None."""
        return load_builtin_rules() if self.rules is None else self.rules


class ReportWriter(Protocol):
    """Writes one document of reports given one at a time, in input order (spec/report.md#streaming)."""

    def write(self, report: Report) -> None:
        """Add the report of one more input file."""
        ...

    def close(self) -> None:
        """Write what the document still lacks (its end, or all of it); the writer is done."""
        ...


class _Kept:
    """A writer for formats whose document needs every report at once: keeps them and renders at :meth:`close`."""

    def __init__(self, out: TextIO, render: Callable[[Sequence[Report]], str]) -> None:
        self._out = out
        self._render = render
        self._reports: list[Report] = []

    def write(self, report: Report) -> None:
        self._reports.append(report)

    def close(self) -> None:
        self._out.write(self._render(self._reports))
        self._reports = []


Renderer = Callable[[Sequence[Report], RenderOptions], str]
"""Renders one report per input file as one document."""

RENDERERS: Mapping[str, Renderer] = MappingProxyType({
    "text": lambda reports, o: render_text(reports, color=o.color, verbosity=o.verbosity),
    "json": lambda reports, o: render_json(reports, tool_version=o.tool_version),
    "sarif": lambda reports, o: render_sarif(reports, o.known_rules(), tool_version=o.tool_version),
    "junit": lambda reports, o: render_junit(reports, o.known_rules(), tool_version=o.tool_version),
    "html": lambda reports, o: render_html(reports, rules=o.known_rules(), tool_version=o.tool_version,
                                           full_sections=o.full_sections),
})
"""The report formats by name, in the order ``--help`` lists them."""

WriterFactory = Callable[[TextIO, RenderOptions], ReportWriter]
"""Opens a writer of one format onto a text stream."""

WRITERS: Mapping[str, WriterFactory] = MappingProxyType({
    "text": lambda out, o: TextWriter(out, color=o.color, verbosity=o.verbosity),
    "json": lambda out, o: JsonWriter(out, tool_version=o.tool_version),
    "junit": lambda out, o: JunitWriter(out, o.known_rules(), tool_version=o.tool_version),
})
"""The formats written as the reports arrive, keeping none of them (spec/report.md#streaming); each renderer of
:data:`RENDERERS` above is its writer's output as one string. A format without a writer here keeps every report
and renders them at the end."""

FORMATS: frozenset[str] = frozenset(RENDERERS)
"""The names accepted by ``--format``."""


def open_writer(fmt: str, out: TextIO, options: RenderOptions | None = None) -> ReportWriter:
    """Return a writer of ``fmt`` (one of :data:`FORMATS`) onto ``out``.

    Raises:
        ValueError: If ``fmt`` is not a known format.
    """
    options = options or RenderOptions()
    factory = WRITERS.get(fmt)
    if factory is not None:
        return factory(out, options)
    renderer = RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown report format {fmt!r} (expected one of {', '.join(RENDERERS)})")
    return _Kept(out, lambda reports: renderer(reports, options))


def render(
    fmt: str,
    reports: Sequence[Report],
    *,
    color: bool = False,
    rules: Sequence[RuleSpec] | None = None,
    tool_version: str = __version__,
    full_sections: int = DEFAULT_FULL_SECTIONS,
) -> str:
    """Render reports in one of :data:`FORMATS`.

    Args:
        fmt: ``text``, ``json``, ``sarif``, ``junit`` or ``html``.
        reports: One report per input file.
        color: ANSI colour for ``text`` (only on a terminal).
        rules: Rule metadata for SARIF, JUnit and HTML (default: every registered rule).
        tool_version: Version recorded in the machine-readable formats.
        full_sections: ``html``: in a batch of more files, only the failing ones get a full section, at most
            this many (spec/html-report.md#size).

    Returns:
        The rendered document.

    Raises:
        ValueError: If ``fmt`` is not a known format.
        MissingDependencyError: ``html`` without the ``[report]`` extra installed.
    """
    renderer = RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown report format {fmt!r} (expected one of {', '.join(RENDERERS)})")
    options = RenderOptions(color=color, rules=rules, tool_version=tool_version, full_sections=full_sections)
    return renderer(reports, options)
