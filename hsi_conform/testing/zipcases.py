"""Moved to :mod:`hsi_conform.corpus.zipcases`; this name keeps working for code written against it."""

from __future__ import annotations

from hsi_conform.corpus.zipcases import *  # noqa: F403
from hsi_conform.corpus.zipcases import __all__  # noqa: F401
