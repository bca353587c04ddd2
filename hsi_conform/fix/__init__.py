"""``hsi-conform fix``: repair what the rules' declared fixes can repair (spec/fix.md).

A rule declares its fix in the registry (``@rule(..., fix="safe" | "unsafe")``); :mod:`hsi_conform.fix.headers`
holds one header fixer per rule id, :mod:`hsi_conform.fix.plan` the plan (header edits, member actions) and
:mod:`hsi_conform.fix.run` the passes, the writer and the CRC check.
"""

from __future__ import annotations

from hsi_conform.fix.headers import HEADER_FIXERS
from hsi_conform.fix.plan import MEMBER_ACTIONS, Change, Plan
from hsi_conform.fix.run import MAX_PASSES, FixResult, fix

__all__ = ["HEADER_FIXERS", "MAX_PASSES", "MEMBER_ACTIONS", "Change", "FixResult", "Plan", "fix"]
