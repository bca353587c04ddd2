"""What every command that writes a file does with its destination (spec/cli.md#destinations).

An existing destination is kept unless ``--overwrite`` is given (rio's rule); a destination whose suffix does not
match what is written is refused before anything is read; a missing folder is created; a folder that cannot be
created is an output error (exit 5), named without temporary names or library text.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

from hsi_conform._atomic import TEMP_NAME
from hsi_conform._outputs import refuse_output_on_input
from hsi_conform._walk import make_folders
from hsi_conform.errors import ConfigError, DestinationExistsError, OutputUnwritableError

__all__ = ["CONTAINER_SUFFIXES", "add_overwrite", "plain_message", "prepare_destination"]

_TEMP = TEMP_NAME.pattern.replace("(?P<name>.+)", r"(?P<name>[^/\s()'\"]+)").replace("(?P<pid>", "(?:").replace(
    "(?P<token>", "(?:")
_TEMP_ASIDE = re.compile(r"\s*\((?:[^()\s]*/)?" + _TEMP + r"\)")
_TEMP_PATH = re.compile(r"(?:[^\s()'\"]*/)?" + _TEMP.replace("(?P<name>", "(?P<name>", 1))
# h5py passes HDF5's error stack on: "Unable to synchronously create file (unable to open file: name = '…',
# errno = 21, error message = 'Is a directory', flags = 13, o_flags = 242)"; only its error message is the user's.
_HDF5_TEXT = re.compile(r"Unable to (?:synchronously )?\w+ file \((?:[^()]*?error message = '(?P<why>[^']*)')?[^()]*\)")

CONTAINER_SUFFIXES: tuple[str, ...] = (".hsi",)
"""What a command that writes a container accepts as its destination's suffix."""


def add_overwrite(parser: argparse.ArgumentParser) -> None:
    """Add ``--overwrite`` to a command that writes a destination."""
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the destination if it exists (by default an existing one is kept and the "
                             "command exits 5)")


def prepare_destination(dest: Path, *, overwrite: bool, sources: Sequence[Path] = (),
                        suffixes: Sequence[str] = CONTAINER_SUFFIXES, what: str = "a .hsi container") -> None:
    """Check ``dest`` before any work: its suffix, whether it exists; create its folder.

    Args:
        dest: The destination as given.
        overwrite: ``--overwrite`` was given.
        sources: The inputs: ``dest`` may be none of them (checked first: spec/safety.md#refused).
        suffixes: The suffixes the written format takes (empty: any).
        what: What is written, for the message.

    Raises:
        OutputIsInputError: ``dest`` is one of ``sources`` or lies inside or around one (exit 2).
        ConfigError: The suffix is not one of ``suffixes`` (exit 2).
        DestinationExistsError: ``dest`` exists and ``overwrite`` is false (exit 5).
        OutputUnwritableError: Its folder cannot be created (exit 5).
    """
    refuse_output_on_input([dest], list(sources))
    if suffixes and dest.suffix.lower() not in suffixes:
        raise ConfigError(f"{dest} does not end in {' or '.join(suffixes)}, but {what} is written there; "
                          f"name it {dest.stem}{suffixes[0]}")
    if (dest.exists() or dest.is_symlink()) and not overwrite:
        raise DestinationExistsError(str(dest))
    try:
        make_folders(dest.parent)  # no recursion: a deep destination is no RecursionError
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise OutputUnwritableError(str(dest), f"cannot create its folder: {exc.strerror or exc}{where}",
                                    exc.errno) from exc


def plain_message(text: str) -> str:
    """Return an error message without temporary file names or a library's raw error stack."""
    text = _TEMP_ASIDE.sub("", text)
    text = _TEMP_PATH.sub(lambda m: m.group("name"), text)
    return _HDF5_TEXT.sub(lambda m: m.group("why") or "the HDF5 library cannot write the file", text)
