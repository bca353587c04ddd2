"""Report renderers: one report model, rendered as text, JSON, SARIF 2.1.0, JUnit XML or an HTML page.

:data:`RENDERERS` is the table of formats: a new format is a renderer module and a row there, and
``hsi-conform validate --format`` offers it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from hsi_conform._version import __version__
from hsi_conform.finding import Report
from hsi_conform.report.html import DEFAULT_FULL_SECTIONS, render_html
from hsi_conform.report.json import render_json
from hsi_conform.report.junit import render_junit
from hsi_conform.report.sarif import render_sarif
from hsi_conform.report.text import render_text
from hsi_conform.rules import RuleSpec, load_builtin_rules

__all__ = ["FORMATS", "RENDERERS", "RenderOptions", "render", "render_html", "render_json", "render_junit",
           "render_sarif", "render_text"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderOptions:
    """What a renderer may use besides the reports.

    Attributes:
        color: ANSI colour (only the text format uses it).
        rules: Rule metadata for SARIF, JUnit and HTML (None: every registered rule).
        tool_version: Version recorded in the machine-readable formats.
        full_sections: HTML: in a larger batch only the failing files get a full section, at most this many.
    """

    color: bool = False
    rules: Sequence[RuleSpec] | None = None
    tool_version: str = __version__
    full_sections: int = DEFAULT_FULL_SECTIONS

    def known_rules(self) -> Sequence[RuleSpec]:
        """Return :attr:`rules`, or every registered rule (built-ins loaded) when it is None."""
        return load_builtin_rules() if self.rules is None else self.rules


Renderer = Callable[[Sequence[Report], RenderOptions], str]
"""Renders one report per input file as one document."""

RENDERERS: Mapping[str, Renderer] = MappingProxyType({
    "text": lambda reports, o: render_text(reports, color=o.color),
    "json": lambda reports, o: render_json(reports, tool_version=o.tool_version),
    "sarif": lambda reports, o: render_sarif(reports, o.known_rules(), tool_version=o.tool_version),
    "junit": lambda reports, o: render_junit(reports, o.known_rules(), tool_version=o.tool_version),
    "html": lambda reports, o: render_html(reports, rules=o.known_rules(), tool_version=o.tool_version,
                                           full_sections=o.full_sections),
})
"""The report formats by name, in the order ``--help`` lists them."""

FORMATS: frozenset[str] = frozenset(RENDERERS)
"""The names accepted by ``--format``."""


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
