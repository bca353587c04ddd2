"""Locate the data folders the wheel ships (``grammar/``, ``converters/``) in an install or a checkout.

The wheel carries them as ``hsi_conform/_grammar`` and ``hsi_conform/_converters`` (hatchling force-include); a
source checkout or an editable install has them at the repository root.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

_FOLDERS = {"grammar": "_grammar", "converters": "_converters"}


def data_file(folder: str, name: str) -> Traversable:
    """Return a shipped data file, from the installed package first, then from the source checkout.

    Args:
        folder: ``"grammar"`` or ``"converters"``.
        name: the file name inside that folder.

    Raises:
        FileNotFoundError: the file is in neither place (a broken installation).
    """
    packaged = files("hsi_conform").joinpath(_FOLDERS[folder], name)
    if packaged.is_file():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / folder / name
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(f"{folder}/{name} is in neither the package nor the source tree")
