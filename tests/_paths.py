"""Where the checkout keeps what the tests read.

One place, so that moving a test file between ``unit/`` and ``integration/`` never changes a path.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SPEC = ROOT / "spec"
