"""Validation: run the rule registry over a container and return a graded report.

``check(path)`` never raises for content problems (they are findings); ``validate(path)`` raises
:class:`~hsi_conform.errors.ConformanceError` when the container does not conform.
"""

from __future__ import annotations

from hsi_conform.limits import Limits
from hsi_conform.rules.context import CheckContext, CheckOptions, Content
from hsi_conform.validate.check import check, expand_inputs, is_container_folder, validate

__all__ = ["CheckContext", "CheckOptions", "Content", "Limits", "check", "expand_inputs", "is_container_folder",
           "validate"]
