"""Assertions for the tests of code that writes or reads ``.hsi`` containers (``hsi_conform.testing``).

``assert_conformant`` is the one-line test of a writer: it fails with the text report, the findings with their
rule ids and locations, as ``hsi-conform validate`` prints them (spec/python-api.md#pytest-plugin).
"""

from __future__ import annotations

import os
from typing import Any, BinaryIO

from hsi_conform.finding import Report
from hsi_conform.report.text import render_text
from hsi_conform.validate import check

__all__ = ["assert_conformant"]


def assert_conformant(path_or_report: str | os.PathLike[str] | BinaryIO | Report, **check_options: Any) -> Report:
    """Assert that a container conforms; return its report.

    Args:
        path_or_report: a container (anything :func:`hsi_conform.check` takes), or a report already made.
        **check_options: passed to :func:`hsi_conform.check` (``profile``, ``content``, ``policy``...); only with a
            container.

    Returns:
        The report of the conformant container.

    Raises:
        AssertionError: the container does not conform; the message is the text report.
        InvalidArgumentError: ``check_options`` given with a report (it is graded already).
        InputUnreadableError: the container cannot be read (a missing file is no assertion about conformance).
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this one
    if isinstance(path_or_report, Report):
        if check_options:
            from hsi_conform.errors import InvalidArgumentError

            raise InvalidArgumentError(f"a report is graded already: {', '.join(check_options)} cannot apply")
        report = path_or_report
    else:
        report = check(path_or_report, **check_options)
    if not report.conformant:
        raise AssertionError(render_text([report]).rstrip("\n"))
    return report
