"""``python -m hsi_conform`` runs the command-line interface."""

from __future__ import annotations

import sys

from hsi_conform.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
