"""Report renderers: one report model, rendered as text, JSON, SARIF 2.1.0 or JUnit XML."""

from __future__ import annotations

from collections.abc import Sequence

from hsi_conform._version import __version__
from hsi_conform.finding import Report
from hsi_conform.report.json import render_json
from hsi_conform.report.junit import render_junit
from hsi_conform.report.sarif import render_sarif
from hsi_conform.report.text import render_text
from hsi_conform.rules import RuleSpec, load_builtin_rules

__all__ = ["FORMATS", "render", "render_json", "render_junit", "render_sarif", "render_text"]

FORMATS: frozenset[str] = frozenset({"text", "json", "sarif", "junit"})
"""The names accepted by ``--format``."""


def render(
    fmt: str,
    reports: Sequence[Report],
    *,
    color: bool = False,
    rules: Sequence[RuleSpec] | None = None,
    tool_version: str = __version__,
) -> str:
    """Render reports in one of :data:`FORMATS`.

    Args:
        fmt: ``text``, ``json``, ``sarif`` or ``junit``.
        reports: One report per input file.
        color: ANSI colour for ``text`` (only on a terminal).
        rules: Rule metadata for SARIF and JUnit (default: every registered rule).
        tool_version: Version recorded in the machine-readable formats.

    Returns:
        The rendered document.

    Raises:
        ValueError: If ``fmt`` is not a known format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r} (expected one of {', '.join(sorted(FORMATS))})")
    if fmt == "text":
        return render_text(reports, color=color)
    if fmt == "json":
        return render_json(reports, tool_version=tool_version)
    known = load_builtin_rules() if rules is None else rules
    if fmt == "sarif":
        return render_sarif(reports, known, tool_version=tool_version)
    return render_junit(reports, known, tool_version=tool_version)
