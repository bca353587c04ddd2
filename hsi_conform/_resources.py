"""Locate the data the wheel ships (``grammar/``, ``converters/``, ``fixtures/``, ``spec/``) in an install or checkout.

The wheel carries them as ``hsi_conform/_grammar``, ``_converters``, ``_fixtures`` and ``_spec`` (hatchling
force-include); a source checkout or an editable install has them at the repository root.
"""

from __future__ import annotations

import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

_FOLDERS = {"grammar": "_grammar", "converters": "_converters", "fixtures": "_fixtures", "spec": "_spec"}
_PACKAGE = Path(__file__).resolve().parent


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
    checkout = _PACKAGE.parent / folder / name
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(f"{folder}/{name} is in neither the package nor the source tree")


def data_folder(folder: str) -> Path:
    """Return a shipped data folder, the installed package's copy first, then the source checkout's.

    A folder rather than a :class:`Traversable`: the corpus walks it and names cases by their path inside it,
    which needs a file system (an install from a wheel, or a checkout; not a zip import).

    Args:
        folder: ``"fixtures"`` or ``"spec"`` (or ``"grammar"``, ``"converters"``).

    Returns:
        The packaged folder when it exists, otherwise the checkout's, even when that is missing too: the
        callers then find no cases or no spec page and say so, instead of failing at import.
    """
    packaged = _PACKAGE / _FOLDERS[folder]
    return packaged if packaged.is_dir() else _PACKAGE.parent / folder


_HEADING = re.compile(r"^#{1,6} ")


def spec_excerpt(anchor: str, *, max_lines: int = 14) -> str | None:
    """Return the spec text at an anchor (``page.md#name``): its line and the paragraph that follows.

    ``hsi-conform explain`` and the HTML report show a rule's spec text with it. None when the page or the anchor
    is missing.
    """
    page, _, name = anchor.partition("#")
    path = data_folder("spec") / page
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if f'id="{name}"' in line), None)
    if start is None:
        return None
    out = [lines[start]]
    for line in lines[start + 1 : start + max_lines]:
        if _HEADING.match(line) or 'id="' in line or (not line.strip() and len(out) > 1):
            break
        out.append(line)
    return "\n".join(out).strip()
