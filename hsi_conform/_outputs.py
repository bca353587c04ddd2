"""An output is never an input: the one check every command runs before it writes (spec/safety.md#output-is-input).

``convert SRC DST`` with DST the same as SRC, ``validate -o FILE`` with FILE among the validated containers, a
``migrate`` destination inside its source tree: each would replace what is being read. :func:`refuse_output_on_input`
compares every output path with every input path before anything is read or written, and raises
:class:`~hsi_conform.errors.OutputIsInputError` (exit 2) on the first clash. Four relations clash:

* **is**: both name the same path once symbolic links are resolved (``dup.hsi`` and ``./dup.hsi``, or a link
  to the input given as the output);
* **is the same file as**: the output exists and is the input file under another name (a hard link, a bind mount,
  a case variant on a case-insensitive disk): same device and inode;
* **lies inside**: the input is a folder and the output is somewhere below it;
* **contains**: the output is an existing folder and the input is somewhere below it (writing the folder
  replaces it).

Paths are compared twice, as resolved paths and by device and inode of every existing folder on the way, so
neither a symbolic link nor a second mount of the same folder hides a clash. Inputs that do not exist are compared
by path only.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hsi_conform.errors import OutputIsInputError

__all__ = ["refuse_output_on_input"]

_FileId = tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Place:
    """A path as given, resolved, and the identity of the file or folder there (None when missing)."""

    given: Path
    real: Path
    ident: _FileId | None
    is_dir: bool

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> _Place:
        given = Path(path)
        st = _stat(given)
        return cls(given, Path(os.path.realpath(given)), _ident(st), st is not None and stat.S_ISDIR(st.st_mode))


class _Ancestors:
    """The identities of the existing folders above resolved paths, each folder stat'ed once per call."""

    def __init__(self) -> None:
        # folder -> the identities of the folder and of every existing folder above it
        self._seen: dict[Path, frozenset[_FileId]] = {}

    def __call__(self, real: Path) -> frozenset[_FileId]:
        start = real.parent
        if start == real:
            return frozenset()  # the root has nothing above it
        pending: list[Path] = []
        folder = start
        while folder not in self._seen:  # a loop, not recursion: paths may be thousands of folders deep
            pending.append(folder)
            if folder.parent == folder:
                break
            folder = folder.parent
        found = self._seen.get(folder, frozenset())
        for folder in reversed(pending):
            ident = _ident(_stat(folder))
            found = found | {ident} if ident is not None else found
            self._seen[folder] = found
        return self._seen[start]


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (OSError, ValueError):  # missing, unreadable, or a name the OS cannot hold (NUL)
        return None


def _ident(st: os.stat_result | None) -> _FileId | None:
    return None if st is None else (st.st_dev, st.st_ino)


def _relation(out: _Place, src: _Place, above: _Ancestors) -> str | None:
    if out.real == src.real:
        return "is"
    if out.ident is not None and out.ident == src.ident:
        return "is the same file as"
    if src.is_dir and (out.real.is_relative_to(src.real) or src.ident in above(out.real)):
        return "lies inside"
    if out.is_dir and (src.real.is_relative_to(out.real) or out.ident in above(src.real)):
        return "contains"
    return None


def refuse_output_on_input(outputs: Iterable[str | os.PathLike[str]],
                           inputs: Iterable[str | os.PathLike[str]]) -> None:
    """Raise when an output path is, holds, or lies inside an input path (see the module docstring).

    Call it before reading the inputs and before creating anything: when it raises, nothing was touched.

    Args:
        outputs: Every path the command will create or replace (files and folders).
        inputs: Every path the command reads (files and folders; the files inside an input folder need not be
            listed, unless they may be hard-linked elsewhere).

    Raises:
        OutputIsInputError: The first clash, naming the output, the input and the relation.
    """
    sources = [_Place.of(p) for p in dict.fromkeys(os.fspath(p) for p in inputs)]
    above = _Ancestors()
    for output in dict.fromkeys(os.fspath(p) for p in outputs):
        out = _Place.of(output)
        for src in sources:
            relation = _relation(out, src, above)
            if relation is not None:
                raise OutputIsInputError(str(out.given), str(src.given), relation)
