"""``python -m hsi_conform.fuzz TARGET [flags] [CORPUS_DIR ...]``: run an atheris target."""

from __future__ import annotations

import sys

from hsi_conform.fuzz import main

if __name__ == "__main__":
    sys.exit(main())
