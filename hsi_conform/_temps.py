"""The names of hsi-conform's temps and the sweeps that remove what a killed writer left (spec/safety.md#faults).

A temp is ``.{name}.tmp-{pid}-{16 hex digits}`` beside its destination; an old folder moved aside while a new one
takes its place is ``.{name}.aside-{pid}-{hex}`` (:mod:`hsi_conform._atomic` writes both).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

from hsi_conform._walk import Folder, Visit, remove_tree, walk
from hsi_conform._walk import Unit as WalkUnit

__all__ = ["ASIDE_NAME", "TEMP_NAME", "aside_name", "is_temp_name", "remove_leftover", "sweep_beside", "sweep_temps",
           "temp_name"]

#: The names of our temps. Besides ``.{name}.tmp-{pid}-{hex}`` it matches ``.{name}.tmp-{hex}`` and
#: ``.{name}.tmp-{pid}``, the names earlier versions used, so that a sweep also cleans up after them.
TEMP_NAME = re.compile(r"\.(?P<name>.+)\.tmp-(?:(?P<pid>[0-9]+)-)?(?P<token>[0-9a-f]+)")
#: An old folder moved aside while a new one takes its place (see :func:`~hsi_conform._atomic.atomic_folder`).
ASIDE_NAME = re.compile(r"\.(?P<name>.+)\.aside-(?P<pid>[0-9]+)-(?P<token>[0-9a-f]+)")
_TOKEN_BYTES = 8


def temp_name(dest: str | os.PathLike[str]) -> Path:
    """Return a fresh temp path beside ``dest`` (not created: ``AtomicFile`` creates it exclusively)."""
    dest = Path(dest)
    return dest.with_name(f".{dest.name}.tmp-{os.getpid()}-{secrets.token_hex(_TOKEN_BYTES)}")


def aside_name(dest: Path) -> Path:
    """Return a fresh name beside ``dest`` for its old folder, moved aside while a new one takes its place."""
    return dest.with_name(f".{dest.name}.aside-{os.getpid()}-{secrets.token_hex(_TOKEN_BYTES)}")


def is_temp_name(name: str) -> bool:
    """Return whether a file or folder name is one of our temp names (a base name, not a path)."""
    return TEMP_NAME.fullmatch(name) is not None


def sweep_temps(root: str | os.PathLike[str]) -> list[Path]:
    """Remove every temp file and temp folder under ``root`` (symlinks are removed, never followed).

    An old folder left aside by a crash inside :func:`~hsi_conform._atomic.atomic_folder` is renamed back onto its
    destination when that is missing (nothing is lost), and removed when the destination exists (the new folder was
    published).
    Only safe while no writer publishes under ``root``: the temp of a live writer looks the same as a leftover
    (:func:`sweep_beside` tells them apart).

    Returns:
        What was removed, in walk order (restored folders are not listed).
    """
    removed: list[Path] = []
    top = Path(root)
    # The one walker (any depth, links never followed); a temp or aside folder is a unit: not walked into.
    for item in walk(top, lambda folder: Visit.DESCEND if folder == top or not _is_ours(folder.name) else Visit.UNIT):
        if isinstance(item, Folder):
            ours = [p for p in item.files if is_temp_name(p.name)] + [p for p in item.links if _is_ours(p.name)]
            for path in sorted(ours, key=lambda p: p.name):
                if remove_leftover(path):
                    removed.append(path)
        elif isinstance(item, WalkUnit) and remove_leftover(item.path):
            removed.append(item.path)
    return removed


def _is_ours(name: str) -> bool:
    return ASIDE_NAME.fullmatch(name) is not None or is_temp_name(name)


def sweep_beside(*dests: str | os.PathLike[str]) -> list[Path]:
    """Remove the leftovers of writers of ``dests`` that no longer run (temps and folders moved aside).

    Only names of these destinations whose pid runs no process are touched (names without a pid, from earlier
    versions, count as leftovers): a writer still running keeps its temp. Old folders are restored as
    :func:`sweep_temps` restores them. On Windows nothing is removed (no cheap test of a pid there).
    Returns what was removed (restored folders are not listed).
    """
    removed: list[Path] = []
    for dest in dests:
        target = Path(os.path.abspath(dest))
        try:
            names = sorted(os.listdir(target.parent))
        except OSError:
            continue
        for name in names:
            found = TEMP_NAME.fullmatch(name) or ASIDE_NAME.fullmatch(name)
            if found is None or found["name"] != target.name or _running(found["pid"]):
                continue
            with contextlib.suppress(OSError):  # e.g. another user's leftover in a shared folder
                if remove_leftover(target.parent / name):
                    removed.append(target.parent / name)
    return removed


def _running(pid: str | None) -> bool:
    if pid is None or os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return pid is not None
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:  # e.g. PermissionError: it runs, as another user
        pass
    return True


def remove_leftover(path: Path) -> bool:
    """Remove a temp, or put an old folder moved aside back when its destination is missing; True if removed."""
    aside = ASIDE_NAME.fullmatch(path.name)
    if aside and path.is_dir() and not path.is_symlink() and not os.path.lexists(path.with_name(aside["name"])):
        os.rename(path, path.with_name(aside["name"]))
        return False
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        remove_tree(path, ignore_errors=True)
    return True
